// The four lists of a party's exposure, each served a page at a time from one index range
// (issue 12): the certificates it holds, the receivables it owes, and, as a financier, its
// pledges and its purchases. The exposure report carries each list's first page and its
// nextCursor; /v1/audit/parties/:id/exposure/<list> serves the pages after it. A debtor of the
// whole book owes tens of thousands of receivables: sent whole, that list alone was 7.5 MB.
import { z } from "zod";
import { chainNowSeconds } from "../../chain/chain-time.js";
import type { ServiceContext } from "../../context.js";
import type { Db } from "../../store/database.js";
import { notFound } from "../../model/errors.js";
import { findPartyById, type PartyRecord } from "../../store/parties-store.js";
import type { Actor } from "../../model/actor.js";
import { requireAccess } from "../../model/access-policy.js";
import { relationsToParty, roleRelations } from "../../store/access-relations.js";
import { PartyRefSchema } from "../../model/party-refs.js";
import { PartyRefs } from "../../store/party-refs.js";
import { collateralShortfallOf } from "../../model/collateral-shortfall.js";
import { pageSchema, type Page, type PageQuery } from "../../model/page.js";
import { keysetPage, mapPage } from "../../store/paginate.js";
import { isExactKept, keptAmountIsInteger, keptAmountText } from "../../store/kept-amounts.js";
import { Amount, claimOf, iso, MATURITY_BUCKETS, maturityBucket } from "./maturity.js";

export const OwedCertificateSchema = z
  .object({
    certificateId: z.string(),
    receivableId: z.string(),
    tier: z.number(),
    state: z.enum(["live", "locked"]),
    faceValue: Amount,
    paidOut: Amount,
    claim: Amount.meta({ description: "faceValue less what credit notes cut from it" }),
    owed: Amount.meta({ description: "claim - paidOut (after an early discharge: the discounted share - paidOut)" }),
    debtor: PartyRefSchema,
    dueDate: z.string(),
    maturity: z.enum(MATURITY_BUCKETS),
    receivableStatus: z.string(),
    pledge: z
      .object({
        requestId: z.string(),
        pledgee: PartyRefSchema.nullable(),
        outstanding: Amount,
        collateralShortfall: Amount.meta({
          description:
            "By how much the claim is below what the pledgee is owed (issue 16): what it owes the pledgee unsecured",
        }),
      })
      .nullable()
      .meta({ description: "A pledge on the certificate is paid first, up to its outstanding amount" }),
  })
  .meta({ id: "OwedCertificate" });

export const OwedReceivableSchema = z
  .object({
    receivableId: z.string(),
    seller: PartyRefSchema,
    faceValue: Amount,
    creditedAmount: Amount.meta({ description: "credit notes applied: the debtor owes face - credited" }),
    repaidAmount: Amount,
    outstanding: Amount,
    dueDate: z.string(),
    maturity: z.enum(MATURITY_BUCKETS),
    status: z.string(),
  })
  .meta({ id: "OwedReceivable" });

export const FinancierPledgeSchema = z
  .object({
    requestId: z.string(),
    certificateId: z.string(),
    receivableId: z.string(),
    pledgor: PartyRefSchema,
    debtor: PartyRefSchema.nullable(),
    lent: Amount,
    repayAmount: Amount,
    outstanding: Amount,
    collateralShortfall: Amount.meta({
      description: "outstanding - the certificate's claim after credit notes, when above 0 (issue 16)",
    }),
    dueDate: z.string().nullable(),
    maturity: z.enum(MATURITY_BUCKETS).nullable(),
  })
  .meta({ id: "FinancierPledge" });

export const FinancierPurchaseSchema = z
  .object({
    requestId: z.string(),
    certificateId: z.string(),
    receivableId: z.string(),
    seller: PartyRefSchema.meta({ description: "Who sold the certificate" }),
    price: Amount,
    faceValue: Amount,
    paidOut: Amount,
    state: z.string(),
    stillHeld: z.boolean(),
    fundedTxHash: z.string().nullable(),
  })
  .meta({ id: "FinancierPurchase" });

export type OwedCertificate = z.infer<typeof OwedCertificateSchema>;
export type OwedReceivable = z.infer<typeof OwedReceivableSchema>;
export type FinancierPledge = z.infer<typeof FinancierPledgeSchema>;
export type FinancierPurchase = z.infer<typeof FinancierPurchaseSchema>;

/** What reading a list needs: the party, its refs resolved once per request, the chain's clock. */
export interface ExposureReader {
  db: Db;
  refs: PartyRefs;
  address: string;
  nowSeconds: number;
}

// --- the certificates it holds: live and locked leaves, in the order they were issued ------------

/** Also the report's totals pass: every row of the party, no page. */
export function heldCertificatesQuery(db: Db, address: string) {
  return db
    .selectFrom("onchain_certificates as c")
    .innerJoin("onchain_receivables as r", "r.id", "c.receivable_id")
    .select([
      "c.id",
      "c.receivable_id",
      "c.tier",
      "c.state",
      "c.face_value",
      "c.reduction",
      "c.paid_out",
      "c.issued_block",
      "r.debtor",
      "r.due_date",
      "r.status",
      "r.face_value as receivable_face",
      "r.credited",
      "r.repaid_amount",
    ])
    .where("c.holder", "=", address)
    .where("c.state", "in", ["live", "locked"]);
}

export const HELD_CERTIFICATES_ORDER = {
  columns: ["c.issued_block", "c.id"],
  shape: ["n", "s"],
  direction: "asc",
  keyOf: (row: { issued_block: number; id: string }) => [row.issued_block, row.id],
} as const;

/**
 * The financing requests on a page's certificates, by certificate: the pledged ones are picked
 * out here, not in SQL, or SQLite reads the status index (every pledge in the book) instead.
 */
export function requestsOnQuery(db: Db, certificateIds: string[]) {
  return db
    .selectFrom("onchain_financing_requests")
    .select(["id", "kind", "status", "certificate_id", "financier", "outstanding"])
    .where("certificate_id", "in", certificateIds);
}

export async function heldCertificatesPage(x: ExposureReader, page: PageQuery): Promise<Page<OwedCertificate>> {
  const rows = await keysetPage(heldCertificatesQuery(x.db, x.address), HELD_CERTIFICATES_ORDER, page);
  const pledgesOn = new Map(
    (rows.items.length
      ? await requestsOnQuery(
          x.db,
          rows.items.map((c) => c.id),
        ).execute()
      : []
    )
      .filter((p) => p.status === "pledged")
      .map((p) => [p.certificate_id, p]),
  );
  return mapPage(rows, async (c) => {
    const pledge = pledgesOn.get(c.id);
    return {
      certificateId: c.id,
      receivableId: c.receivable_id,
      tier: c.tier,
      state: c.state as "live" | "locked",
      faceValue: c.face_value,
      claim: (BigInt(c.face_value) - BigInt(c.reduction)).toString(),
      paidOut: c.paid_out,
      owed: (claimOf(c) - BigInt(c.paid_out)).toString(),
      debtor: await x.refs.of(c.debtor),
      dueDate: iso(c.due_date),
      maturity: maturityBucket(c.due_date, x.nowSeconds),
      receivableStatus: c.status,
      pledge: pledge
        ? {
            requestId: pledge.id,
            pledgee: await x.refs.ofNullable(pledge.financier),
            outstanding: pledge.outstanding,
            collateralShortfall: collateralShortfallOf({
              ...pledge,
              face_value: c.face_value,
              reduction: c.reduction,
            }).toString(),
          }
        : null,
    };
  });
}

// --- the receivables it owes as the debtor, soonest due first ------------------------------------

/** Not yet repaid. A row whose credits and repayments cover its face owes nothing and is skipped. */
export function owedReceivablesQuery(db: Db, address: string) {
  return db
    .selectFrom("onchain_receivables as r")
    .select(["r.id", "r.seller", "r.face_value", "r.credited", "r.repaid_amount", "r.due_date", "r.status"])
    .where("r.debtor", "=", address)
    .where("r.status", "!=", "repaid");
}

/**
 * What the debtor owes per due date, as triggers keep it (store/party-owes-by-due-triggers.ts):
 * a row per distinct due date, however many receivables. Undefined where SQLite could not keep
 * a sum exactly (an amount past 18 digits, or a sum past 64 bits): the report sums the rows.
 */
export async function owesByDueDate(
  db: Db,
  address: string,
): Promise<Array<{ dueDate: number; amount: bigint; count: number }> | undefined> {
  const rows = await db
    .selectFrom("party_owes_by_due")
    .select([
      "due_date",
      keptAmountText("amount").as("amount"),
      "count",
      "wide",
      keptAmountIsInteger(db, "amount").as("exact"),
    ])
    .where("address", "=", address)
    .execute();
  if (!rows.every(isExactKept)) return undefined;
  return rows.map((r) => ({ dueDate: Number(r.due_date), amount: BigInt(r.amount), count: Number(r.count) }));
}

export const OWED_RECEIVABLES_ORDER = {
  columns: ["r.due_date", "r.id"],
  shape: ["n", "s"],
  direction: "asc",
  keyOf: (row: { due_date: number; id: string }) => [row.due_date, row.id],
} as const;

export const outstandingOf = (r: { face_value: string; credited: string; repaid_amount: string }) =>
  BigInt(r.face_value) - BigInt(r.credited) - BigInt(r.repaid_amount);

export async function owedReceivablesPage(x: ExposureReader, page: PageQuery): Promise<Page<OwedReceivable>> {
  const rows = await keysetPage(owedReceivablesQuery(x.db, x.address), OWED_RECEIVABLES_ORDER, page);
  // The cursor is the last row read, so a row skipped here is never read again: a page may
  // hold fewer than `limit` items while more follow.
  const items: OwedReceivable[] = [];
  for (const r of rows.items) {
    const outstanding = outstandingOf(r);
    if (outstanding <= 0n) continue;
    items.push({
      receivableId: r.id,
      seller: await x.refs.of(r.seller),
      faceValue: r.face_value,
      creditedAmount: r.credited,
      repaidAmount: r.repaid_amount,
      outstanding: outstanding.toString(),
      dueDate: iso(r.due_date),
      maturity: maturityBucket(r.due_date, x.nowSeconds),
      status: r.status,
    });
  }
  return { items, nextCursor: rows.nextCursor };
}

// --- as a financier: what it funded, in the order the requests were opened -----------------------

/** Every request it funded; the pledges and purchases lists narrow it by kind and status. */
export function fundedRequestsQuery(db: Db, address: string) {
  return db
    .selectFrom("onchain_financing_requests as f")
    .innerJoin("onchain_certificates as c", "c.id", "f.certificate_id")
    .leftJoin("onchain_receivables as r", "r.id", "c.receivable_id")
    .select([
      "f.id",
      "f.kind",
      "f.status",
      "f.certificate_id",
      "f.holder",
      "f.price",
      "f.repay_amount",
      "f.outstanding",
      "f.funded_tx_hash",
      "f.opened_block",
      "c.receivable_id",
      "c.face_value",
      "c.reduction",
      "c.paid_out",
      "c.state",
      "c.holder as current_holder",
      "r.debtor",
      "r.due_date",
    ])
    .where("f.financier", "=", address);
}

export const FUNDED_REQUESTS_ORDER = {
  columns: ["f.opened_block", "f.id"],
  shape: ["n", "s"],
  direction: "asc",
  keyOf: (row: { opened_block: number; id: string }) => [row.opened_block, row.id],
} as const;

/** A bought certificate still counts while the financier holds it live or locked. */
export const stillHeldBy = (address: string, f: { current_holder: string; state: string }) =>
  f.current_holder === address && (f.state === "live" || f.state === "locked");

export async function pledgesPage(x: ExposureReader, page: PageQuery): Promise<Page<FinancierPledge>> {
  const query = fundedRequestsQuery(x.db, x.address).where("f.kind", "=", "pledge").where("f.status", "=", "pledged");
  return mapPage(await keysetPage(query, FUNDED_REQUESTS_ORDER, page), async (f) => ({
    requestId: f.id,
    certificateId: f.certificate_id,
    receivableId: f.receivable_id,
    pledgor: await x.refs.of(f.holder),
    debtor: await x.refs.ofNullable(f.debtor),
    lent: f.price,
    repayAmount: f.repay_amount,
    outstanding: f.outstanding,
    collateralShortfall: collateralShortfallOf(f).toString(),
    dueDate: f.due_date === null ? null : iso(f.due_date),
    maturity: f.due_date === null ? null : maturityBucket(f.due_date, x.nowSeconds),
  }));
}

export async function purchasesPage(x: ExposureReader, page: PageQuery): Promise<Page<FinancierPurchase>> {
  const query = fundedRequestsQuery(x.db, x.address).where("f.kind", "=", "discount").where("f.status", "=", "sold");
  return mapPage(await keysetPage(query, FUNDED_REQUESTS_ORDER, page), async (f) => ({
    requestId: f.id,
    certificateId: f.certificate_id,
    receivableId: f.receivable_id,
    seller: await x.refs.of(f.holder),
    price: f.price,
    faceValue: f.face_value,
    paidOut: f.paid_out,
    state: f.state,
    stillHeld: stillHeldBy(x.address, f),
    fundedTxHash: f.funded_tx_hash,
  }));
}

// --- the use case behind the list routes --------------------------------------------------------

export const EXPOSURE_LISTS = {
  certificates: {
    read: heldCertificatesPage,
    item: OwedCertificateSchema,
    what: "the live and locked leaf certificates it holds, in the order they were issued",
  },
  receivables: {
    read: owedReceivablesPage,
    item: OwedReceivableSchema,
    what: "the receivables it owes as the debtor, soonest due first",
  },
  pledges: {
    read: pledgesPage,
    item: FinancierPledgeSchema,
    what: "its pledges outstanding as a financier, in the order they were opened",
  },
  purchases: {
    read: purchasesPage,
    item: FinancierPurchaseSchema,
    what: "the certificates it bought as a financier, in the order the requests were opened",
  },
} as const;
export type ExposureList = keyof typeof EXPOSURE_LISTS;

export const exposureListPageSchema = (list: ExposureList) => pageSchema(EXPOSURE_LISTS[list].item);

/** The party whose exposure `actor` asks for, once the access policy's exposure row allows it. */
export async function exposedParty(ctx: ServiceContext, actor: Actor, partyId: string): Promise<PartyRecord> {
  const party = await findPartyById(ctx.db, partyId);
  requireAccess(
    "exposure",
    party ? await relationsToParty(ctx.db, actor, party) : roleRelations(actor),
    `party ${partyId}`,
  );
  if (!party) throw notFound("Party", partyId);
  return party;
}

/** The reader of one party's lists, on the chain's clock, as maturity is measured by. */
export async function exposureReader(ctx: ServiceContext, party: PartyRecord): Promise<ExposureReader> {
  return { db: ctx.db, refs: new PartyRefs(ctx.db), address: party.address, nowSeconds: await chainNowSeconds(ctx) };
}

export type ExposureListItem<L extends ExposureList> = z.infer<(typeof EXPOSURE_LISTS)[L]["item"]>;

export async function exposureListPage<L extends ExposureList>(
  ctx: ServiceContext,
  actor: Actor,
  partyId: string,
  list: L,
  page: PageQuery,
): Promise<Page<ExposureListItem<L>>> {
  const reader = await exposureReader(ctx, await exposedParty(ctx, actor, partyId));
  // Each reader answers its own list's items; TypeScript cannot follow `list` into the union.
  return (await EXPOSURE_LISTS[list].read(reader, page)) as Page<ExposureListItem<L>>;
}
