// Use case for auditors: the whole certificate tree of one receivable, from the root to
// every live, locked, settled and retired piece, with holders, financing, payouts, every
// transaction that touched it, and the conservation check (leaves add up to the root,
// every split adds up to its parent). Read from the service's index; verify-from-chain.ts
// checks that index against the chain itself.
import { z } from "zod";
import type { Selectable } from "kysely";
import type { ServiceContext } from "../../context.js";
import { notFound } from "../../model/errors.js";
import { decide, requireAccess } from "../../model/access-policy.js";
import { ReceivableRelations } from "../../store/access-relations.js";
import type {
  OnchainCertificateTable,
  OnchainFinancingRequestTable,
  OnchainLeafReductionTable,
  OnchainRecourseClaimTable,
  OnchainRecourseEndorsementTable,
  OnchainPledgeShortfallTable,
} from "../../store/schema.js";
import { creditNotesOf, CreditNoteViewSchema, type CreditNoteView } from "../dilution.js";
import { collateralShortfallOf } from "../../model/collateral-shortfall.js";
import type { Actor } from "../../model/actor.js";
import { PartyRefSchema } from "../../model/party-refs.js";
import { PartyRefs } from "../../store/party-refs.js";

type CertificateRow = Selectable<OnchainCertificateTable>;
type FinancingRow = Selectable<OnchainFinancingRequestTable>;
type CutRow = Selectable<OnchainLeafReductionTable>;
type ClaimRow = Selectable<OnchainRecourseClaimTable>;
type EndorsementRow = Selectable<OnchainRecourseEndorsementTable>;
type ShortfallRow = Selectable<OnchainPledgeShortfallTable>;

export const TraceDilutionSchema = z
  .object({
    creditNoteId: z.string(),
    reduction: z.string(),
    claim: z.string().meta({ description: "the leaf's claim after this note" }),
    holder: PartyRefSchema.meta({ description: "who bore the cut" }),
    retained: z.boolean().meta({ description: "the original seller's retained piece (cut first)" }),
    txHash: z.string(),
  })
  .meta({ id: "TraceDilution" });

export const TraceRecourseClaimSchema = z
  .object({
    claimId: z.string(),
    kind: z.enum(["dilution", "default"]),
    status: z.enum(["open", "paid"]),
    creditor: PartyRefSchema,
    guarantor: PartyRefSchema,
    guarantorCertificateId: z.string(),
    amount: z.string(),
    parentClaimId: z.string().nullable(),
    openedTxHash: z.string(),
    paidTxHash: z.string().nullable(),
  })
  .meta({ id: "TraceRecourseClaim" });

export const TraceCollateralShortfallSchema = z
  .object({
    requestId: z.string(),
    pledgee: PartyRefSchema,
    outstanding: z.string().meta({ description: "What the pledgee was owed when the credit note applied" }),
    claim: z.string().meta({ description: "The leaf's claim after the cut" }),
    shortfall: z.string().meta({ description: "outstanding - claim" }),
    txHash: z.string(),
  })
  .meta({ id: "TraceCollateralShortfall" });

export const CERTIFICATE_STATES = ["live", "locked", "retired", "settled"] as const;

export const TraceFinancingSchema = z
  .object({
    requestId: z.string(),
    kind: z.enum(["discount", "pledge"]),
    price: z.string().meta({ description: "Discount: what the financier paid. Pledge: what it lent." }),
    repayAmount: z
      .string()
      .meta({ description: "Pledge: what the pledgee is owed from the payout (0 for a discount)" }),
    status: z.enum(["open", "cancelled", "sold", "pledged", "released", "foreclosed"]),
    financier: PartyRefSchema.nullable(),
    outstanding: z.string(),
    shortfall: z.string().nullable().meta({ description: "What a released pledge left unpaid" }),
    collateralShortfall: z.string().meta({
      description:
        "Live pledge: outstanding less the leaf's claim after credit notes, when above 0 (issue 16); 0 otherwise",
    }),
    openedTxHash: z.string(),
    fundedTxHash: z.string().nullable(),
  })
  .meta({ id: "TraceFinancing" });

export interface TraceNode {
  certificateId: string;
  parentId: string | null;
  tier: number;
  holder: z.infer<typeof PartyRefSchema>;
  faceValue: string;
  state: (typeof CERTIFICATE_STATES)[number];
  financing: z.infer<typeof TraceFinancingSchema>[];
  paidOut: string;
  reduction: string;
  claim: string;
  dilutions: z.infer<typeof TraceDilutionSchema>[];
  endorsements: Array<{ index: number; endorser: z.infer<typeof PartyRefSchema>; txHash: string }>;
  recourseClaims: z.infer<typeof TraceRecourseClaimSchema>[];
  collateralShortfalls: z.infer<typeof TraceCollateralShortfallSchema>[];
  issuedTxHash: string;
  issuedBlock: number;
  children: TraceNode[];
}

export const TraceNodeSchema: z.ZodType<TraceNode> = z
  .object({
    certificateId: z.string(),
    parentId: z.string().nullable(),
    tier: z.number(),
    holder: PartyRefSchema.meta({ description: "The holder now, or when the certificate was retired or settled" }),
    faceValue: z.string(),
    state: z.enum(CERTIFICATE_STATES),
    financing: z.array(TraceFinancingSchema),
    paidOut: z.string(),
    reduction: z.string().meta({ description: "What credit notes cut from this leaf (issue 16)" }),
    claim: z.string().meta({ description: "faceValue - reduction: what settlement owes this leaf" }),
    dilutions: z.array(TraceDilutionSchema).meta({ description: "Each credit note's cut on this leaf" }),
    endorsements: z
      .array(z.object({ index: z.number(), endorser: PartyRefSchema, txHash: z.string() }))
      .meta({ description: "Holders that passed this piece (and every piece split from it) with recourse" }),
    recourseClaims: z.array(TraceRecourseClaimSchema).meta({ description: "Recourse claims opened on this leaf" }),
    collateralShortfalls: z.array(TraceCollateralShortfallSchema).meta({
      description:
        "PledgeCollateralShortfall events: a credit note left this pledged leaf's claim below its pledge (issue 16)",
    }),
    issuedTxHash: z.string(),
    issuedBlock: z.number(),
    get children() {
      return z.array(TraceNodeSchema);
    },
  })
  .meta({ id: "TraceNode" });

export const TraceReceivableSchema = z
  .object({
    id: z.string(),
    seller: PartyRefSchema,
    debtor: PartyRefSchema,
    registrar: z.string(),
    faceValue: z.string(),
    dueDate: z.string(),
    status: z.string(),
    repaidAmount: z.string(),
    creditedAmount: z.string().meta({ description: "Credit notes applied (issue 16)" }),
    owedAmount: z.string().meta({ description: "faceValue - creditedAmount" }),
    distributed: z.string(),
    earlyDiscount: z.string(),
    documentHash: z.string(),
    rootCertificateId: z.string(),
    registerTxHash: z.string(),
    registeredBlock: z.number(),
  })
  .meta({ id: "TraceReceivable" });

export const TraceTransactionSchema = z
  .object({
    txHash: z.string(),
    blockNumber: z.number(),
    kind: z
      .string()
      .meta({ description: "registration, split, transfer, financing-request, financing, repayment, settlement, …" }),
    events: z.array(
      z.object({
        logIndex: z.number(),
        contract: z.string(),
        name: z.string(),
        args: z.record(z.string(), z.unknown()),
      }),
    ),
  })
  .meta({ id: "TraceTransaction" });

export const ConservationSchema = z
  .object({
    rootFace: z.string(),
    liveLeafFaceSum: z
      .string()
      .meta({ description: "Sum of the face values of all leaves (live, locked and settled certificates)" }),
    leafCount: z.number(),
    retiredCount: z.number(),
    credited: z.string().meta({ description: "What credit notes took off the receivable" }),
    liveLeafClaimSum: z
      .string()
      .meta({ description: "Sum of the leaves' claims after credit notes: must equal rootFace - credited" }),
    conserves: z.boolean(),
    brokenSplits: z.array(z.object({ certificateId: z.string(), faceValue: z.string(), childrenFaceSum: z.string() })),
  })
  .meta({ id: "Conservation" });

export const TraceSchema = z
  .object({
    receivable: TraceReceivableSchema,
    root: TraceNodeSchema,
    certificateCount: z.number(),
    creditNotes: z.array(CreditNoteViewSchema).meta({ description: "The receivable's credit notes (issue 16)" }),
    transactions: z.array(TraceTransactionSchema),
    conservation: ConservationSchema,
    asOfBlock: z.number().meta({ description: "The last block the index had read" }),
  })
  .meta({ id: "Trace" });

export type Trace = z.infer<typeof TraceSchema>;
export type TraceTransaction = z.infer<typeof TraceTransactionSchema>;
export type Conservation = z.infer<typeof ConservationSchema>;

const byNumericId = (a: { id: string }, b: { id: string }) =>
  BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0;

export async function buildTrace(ctx: ServiceContext, actor: Actor, receivableId: string): Promise<Trace> {
  const receivable = await ctx.db
    .selectFrom("onchain_receivables")
    .selectAll()
    .where("id", "=", receivableId)
    .executeTakeFirst();
  if (!receivable) throw notFound("Receivable", receivableId);
  // The policy decides: the whole tree (auditors, the operator; the trade parties without
  // others' financing terms), else the caller's lineage path, else a refusal.
  const relationsOf = await ReceivableRelations.load(ctx.db, actor, receivableId);
  const relations = relationsOf.toReceivable();
  const subject = `receivable ${receivableId}`;
  const treeAccess = decide("tree", relations);
  const access = treeAccess.access === "denied" ? requireAccess("lineagePath", relations, subject) : treeAccess;
  const pathOnly = treeAccess.access === "denied" && access.access === "redacted";
  const asOfBlock = await ctx.indexer.indexedBlock();

  const certificates = (
    await ctx.db.selectFrom("onchain_certificates").selectAll().where("receivable_id", "=", receivableId).execute()
  ).sort(byNumericId);
  const certificateIds = certificates.map((c) => c.id);
  const requests = certificateIds.length
    ? (
        await ctx.db
          .selectFrom("onchain_financing_requests")
          .selectAll()
          .where("certificate_id", "in", certificateIds)
          .execute()
      ).sort(byNumericId)
    : [];

  const cuts = await ctx.db
    .selectFrom("onchain_leaf_reductions")
    .selectAll()
    .where("receivable_id", "=", receivableId)
    .execute();
  const claims = await ctx.db
    .selectFrom("onchain_recourse_claims")
    .selectAll()
    .where("receivable_id", "=", receivableId)
    .execute();
  const endorsements = certificateIds.length
    ? await ctx.db
        .selectFrom("onchain_recourse_endorsements")
        .selectAll()
        .where("certificate_id", "in", certificateIds)
        .orderBy("endorsement_index")
        .execute()
    : [];
  const shortfalls = certificateIds.length
    ? await ctx.db
        .selectFrom("onchain_pledge_shortfalls")
        .selectAll()
        .where("certificate_id", "in", certificateIds)
        .orderBy("block_number")
        .orderBy("log_index")
        .execute()
    : [];
  const group = <T>(rows: T[], key: (row: T) => string) => {
    const out = new Map<string, T[]>();
    for (const row of rows) out.set(key(row), [...(out.get(key(row)) ?? []), row]);
    return out;
  };
  const recourse = {
    cuts: group(
      cuts.sort((a, b) => compareText(a.credit_note_id, b.credit_note_id)),
      (c) => c.certificate_id,
    ),
    claims: group(
      claims.sort((a, b) => compareText(a.id, b.id)),
      (c) => c.leaf_id,
    ),
    endorsements: group(endorsements, (e) => e.certificate_id),
    shortfalls: group(shortfalls, (s) => s.certificate_id),
  };

  const refs = new PartyRefs(ctx.db);
  // Financing terms (price, repay amount, financier) only where the policy's financingPrice row allows.
  const hiddenRequests = new Set(
    requests.filter((r) => decide("financingPrice", relationsOf.toFinancing(r)).access === "denied").map((r) => r.id),
  );
  const financingOf = new Map<string, FinancingRow[]>();
  for (const request of requests) {
    if (hiddenRequests.has(request.id)) continue;
    financingOf.set(request.certificate_id, [...(financingOf.get(request.certificate_id) ?? []), request]);
  }
  // The lineage path: the caller's pieces, their ancestors to the root, their descendants.
  const kept = pathOnly ? new Set<string>() : new Set(certificateIds);
  if (pathOnly) for (const id of relationsOf.ownPieces()) for (const l of relationsOf.lineageOf(id)) kept.add(l);

  // Credit notes by the policy's dilution cell (a financier still weighing a request sees none),
  // and on a path only the cuts of the path's pieces.
  const dilutionShown = decide("dilution", relations).access !== "denied";

  const nodes = new Map<string, TraceNode>();
  for (const row of certificates) {
    if (kept.has(row.id)) nodes.set(row.id, await toNode(refs, row, financingOf.get(row.id) ?? [], recourse, row.id));
  }
  for (const row of certificates) {
    if (row.parent_id !== null && nodes.has(row.id)) nodes.get(row.parent_id)?.children.push(nodes.get(row.id)!);
  }
  const root = nodes.get(receivable.root_certificate_id);
  if (!root) throw notFound("Certificate", receivable.root_certificate_id);

  return {
    receivable: {
      id: receivable.id,
      seller: await refs.of(receivable.seller),
      debtor: await refs.of(receivable.debtor),
      registrar: receivable.registrar,
      faceValue: receivable.face_value,
      dueDate: new Date(receivable.due_date * 1000).toISOString(),
      status: receivable.status,
      repaidAmount: receivable.repaid_amount,
      creditedAmount: receivable.credited,
      owedAmount: (BigInt(receivable.face_value) - BigInt(receivable.credited)).toString(),
      distributed: receivable.distributed,
      earlyDiscount: receivable.early_discount,
      documentHash: receivable.document_hash,
      rootCertificateId: receivable.root_certificate_id,
      registerTxHash: receivable.register_tx_hash,
      registeredBlock: receivable.registered_block,
    },
    root,
    certificateCount: nodes.size,
    creditNotes: dilutionShown ? onPath(await creditNotesOf(ctx, { receivableId }), pathOnly, kept) : [],
    transactions: withoutHidden(
      await transactionsTouching(
        ctx,
        receivableId,
        certificateIds,
        requests.map((r) => r.id),
        claims.map((c) => c.id),
      ),
      {
        certificates: new Set(certificateIds.filter((id) => !kept.has(id))),
        requests: hiddenRequests,
        claims: new Set(claims.filter((c) => !kept.has(c.leaf_id)).map((c) => c.id)),
        dilution: !dilutionShown,
      },
    ),
    conservation: checkConservation(receivable.face_value, certificates, receivable.credited),
    asOfBlock,
  };
}

/** What a caller on a path may not see in the transactions (see withoutHidden). */
interface Hidden {
  /** Pieces off the caller's path. */
  certificates: Set<string>;
  /** Requests whose terms the policy hides. */
  requests: Set<string>;
  /** Recourse claims on pieces off the path. */
  claims: Set<string>;
  /** Every dilution event (the policy's dilution cell refuses the caller). */
  dilution: boolean;
}

/**
 * The transactions without what the caller may not see: a transaction that financed a
 * piece whose terms are hidden goes whole (its transfer names the financier); events about
 * pieces off the caller's path (as the piece, the leaf of a claim or the parent of a split)
 * and about their recourse claims are left out, as are those pieces among a split's children,
 * dilution events too when the policy hides dilution, and a transaction left empty goes too.
 */
function withoutHidden(transactions: TraceTransaction[], hidden: Hidden): TraceTransaction[] {
  if (hidden.certificates.size === 0 && hidden.requests.size === 0 && hidden.claims.size === 0 && !hidden.dilution)
    return transactions;
  const mentions = (args: Record<string, unknown>, set: Set<string>, ...keys: string[]) =>
    keys.some((key) => typeof args[key] === "string" && set.has(args[key]));
  const out: TraceTransaction[] = [];
  for (const tx of transactions) {
    if (tx.events.some((e) => e.contract === "financing" && mentions(e.args, hidden.requests, "requestId"))) continue;
    // A credit note's PledgeCollateralShortfall names a pledge's outstanding: hidden with the pledge.
    const events = tx.events
      .filter(
        (e) =>
          !mentions(e.args, hidden.certificates, ...CERTIFICATE_ARGS) &&
          !(e.contract === "recourse" && mentions(e.args, hidden.claims, "claimId")) &&
          !(e.contract === "dilution" && (hidden.dilution || mentions(e.args, hidden.requests, "requestId"))),
      )
      // A split on the path names only the children on the path.
      .map((e) =>
        Array.isArray(e.args.childIds)
          ? {
              ...e,
              args: { ...e.args, childIds: e.args.childIds.filter((id) => !hidden.certificates.has(String(id))) },
            }
          : e,
      );
    if (events.length > 0) out.push({ ...tx, events });
  }
  return out;
}

/** Event arguments that name a certificate (as the piece, a leaf, a parent, a guarantor's piece). */
const CERTIFICATE_ARGS = ["certificateId", "tokenId", "leafId", "parentId", "guarantorCertificateId", "missingLeafId"];

/** The credit notes, with only the path's leaves when the caller sees a path. */
function onPath(notes: CreditNoteView[], pathOnly: boolean, kept: Set<string>): CreditNoteView[] {
  if (!pathOnly) return notes;
  return notes.map((note) => ({ ...note, leaves: note.leaves.filter((leaf) => kept.has(leaf.certificateId)) }));
}

/** Decimal ids as numbers: shorter first, then by digits. */
const compareText = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

async function toNode(
  refs: PartyRefs,
  row: CertificateRow,
  financing: FinancingRow[],
  recourse: {
    cuts: Map<string, CutRow[]>;
    claims: Map<string, ClaimRow[]>;
    endorsements: Map<string, EndorsementRow[]>;
    shortfalls: Map<string, ShortfallRow[]>;
  },
  id: string,
): Promise<TraceNode> {
  return {
    certificateId: row.id,
    parentId: row.parent_id,
    tier: row.tier,
    holder: await refs.of(row.holder),
    faceValue: row.face_value,
    state: row.state as TraceNode["state"],
    financing: await Promise.all(
      financing.map(async (f) => ({
        requestId: f.id,
        kind: f.kind as "discount" | "pledge",
        price: f.price,
        repayAmount: f.repay_amount,
        status: f.status as z.infer<typeof TraceFinancingSchema>["status"],
        financier: await refs.ofNullable(f.financier),
        outstanding: f.outstanding,
        shortfall: f.shortfall,
        collateralShortfall: collateralShortfallOf({
          ...f,
          face_value: row.face_value,
          reduction: row.reduction,
        }).toString(),
        openedTxHash: f.opened_tx_hash,
        fundedTxHash: f.funded_tx_hash,
      })),
    ),
    paidOut: row.paid_out,
    reduction: row.reduction,
    claim: (BigInt(row.face_value) - BigInt(row.reduction)).toString(),
    dilutions: await Promise.all(
      (recourse.cuts.get(id) ?? []).map(async (c) => ({
        creditNoteId: c.credit_note_id,
        reduction: c.reduction,
        claim: c.claim,
        holder: await refs.of(c.holder),
        retained: c.retained === 1,
        txHash: c.tx_hash,
      })),
    ),
    endorsements: await Promise.all(
      (recourse.endorsements.get(id) ?? []).map(async (e) => ({
        index: e.endorsement_index,
        endorser: await refs.of(e.endorser),
        txHash: e.tx_hash,
      })),
    ),
    recourseClaims: await Promise.all(
      (recourse.claims.get(id) ?? []).map(async (c) => ({
        claimId: c.id,
        kind: c.kind as "dilution" | "default",
        status: c.status as "open" | "paid",
        creditor: await refs.of(c.creditor),
        guarantor: await refs.of(c.guarantor),
        guarantorCertificateId: c.guarantor_certificate_id,
        amount: c.amount,
        parentClaimId: c.parent_claim_id,
        openedTxHash: c.opened_tx_hash,
        paidTxHash: c.paid_tx_hash,
      })),
    ),
    collateralShortfalls: await Promise.all(
      // Only under a pledge the caller may see (the policy's financingPrice row).
      (recourse.shortfalls.get(id) ?? [])
        .filter((s) => financing.some((f) => f.id === s.request_id))
        .map(async (s) => ({
          requestId: s.request_id,
          pledgee: await refs.of(s.pledgee),
          outstanding: s.outstanding,
          claim: s.claim,
          shortfall: (BigInt(s.outstanding) - BigInt(s.claim)).toString(),
          txHash: s.tx_hash,
        })),
    ),
    issuedTxHash: row.issued_tx_hash,
    issuedBlock: row.issued_block,
    children: [],
  };
}

/**
 * Leaves (every certificate not retired: live, locked or settled) must add up to the root,
 * every retired certificate's children to their parent, and (issue 16) the leaves' claims
 * after credit notes to the root less what was credited.
 */
export function checkConservation(
  rootFace: string,
  certificates: ReadonlyArray<{
    id: string;
    parent_id: string | null;
    face_value: string;
    state: string;
    reduction?: string;
  }>,
  credited = "0",
): Conservation {
  let leafSum = 0n;
  let claimSum = 0n;
  let leafCount = 0;
  const childrenSum = new Map<string, bigint>();
  for (const c of certificates) {
    if (c.state !== "retired") {
      leafSum += BigInt(c.face_value);
      claimSum += BigInt(c.face_value) - BigInt(c.reduction ?? "0");
      leafCount++;
    }
    if (c.parent_id !== null) childrenSum.set(c.parent_id, (childrenSum.get(c.parent_id) ?? 0n) + BigInt(c.face_value));
  }
  const retired = certificates.filter((c) => c.state === "retired");
  const brokenSplits = retired
    .filter((c) => (childrenSum.get(c.id) ?? 0n) !== BigInt(c.face_value))
    .map((c) => ({
      certificateId: c.id,
      faceValue: c.face_value,
      childrenFaceSum: (childrenSum.get(c.id) ?? 0n).toString(),
    }));
  return {
    rootFace,
    liveLeafFaceSum: leafSum.toString(),
    leafCount,
    retiredCount: retired.length,
    credited,
    liveLeafClaimSum: claimSum.toString(),
    conserves:
      leafSum === BigInt(rootFace) && claimSum === BigInt(rootFace) - BigInt(credited) && brokenSplits.length === 0,
    brokenSplits,
  };
}

/**
 * Every journaled event about this receivable, its certificates or their financing requests,
 * grouped by transaction: one read of chain_events_by_receivable (the indexer attributes an
 * event that names a piece of the tree to its receivable), then matched exactly here.
 */
export async function transactionsTouching(
  ctx: Pick<ServiceContext, "db">,
  receivableId: string,
  certificateIds: string[],
  requestIds: string[],
  claimIds: string[],
): Promise<TraceTransaction[]> {
  const certificates = new Set(certificateIds);
  const requests = new Set(requestIds);
  const claims = new Set(claimIds);
  const rows = await ctx.db
    .selectFrom("chain_events")
    .select(["block_number", "log_index", "tx_hash", "contract", "name", "args"])
    .where("receivable_id", "=", receivableId)
    .orderBy("block_number")
    .orderBy("log_index")
    .execute();
  const seen = rows
    .map((row) => ({ ...row, args: JSON.parse(row.args) as Record<string, unknown> }))
    .filter((row) => touchesTree(row.contract, row.args, receivableId, certificates, requests, claims));
  const byTx = new Map<string, TraceTransaction>();
  for (const e of seen) {
    let tx = byTx.get(e.tx_hash);
    if (!tx) {
      tx = { txHash: e.tx_hash, blockNumber: e.block_number, kind: "", events: [] };
      byTx.set(e.tx_hash, tx);
    }
    tx.events.push({ logIndex: e.log_index, contract: e.contract, name: e.name, args: e.args });
  }
  const transactions = [...byTx.values()];
  for (const tx of transactions) tx.kind = classifyTransaction(tx.events.map((e) => e.name));
  return transactions;
}

function touchesTree(
  contract: string,
  args: Record<string, unknown>,
  receivableId: string,
  certificates: Set<string>,
  requests: Set<string>,
  claims: Set<string>,
): boolean {
  if (typeof args.receivableId === "string" && args.receivableId.toLowerCase() === receivableId) return true;
  const has = (value: unknown, set: Set<string>) => typeof value === "string" && set.has(value);
  if (contract === "certificates")
    return has(args.certificateId, certificates) || has(args.tokenId, certificates) || has(args.parentId, certificates);
  if (contract === "financing") return has(args.certificateId, certificates) || has(args.requestId, requests);
  // Issue 16: a pledge's collateral shortfall, endorsements and recourse claims on its leaves.
  if (contract === "dilution") return has(args.certificateId, certificates);
  if (contract === "recourse")
    return has(args.certificateId, certificates) || has(args.leafId, certificates) || has(args.claimId, claims);
  return false;
}

/** What a transaction did to the tree, by the most telling event in it. */
export function classifyTransaction(names: string[]): string {
  const has = (name: string) => names.includes(name);
  if (has("ReceivableRegistered")) return "registration";
  if (has("CertificateSplit")) return "split";
  if (has("CreditNoteApplied")) return "credit-note";
  if (has("CreditNoteProposed")) return "credit-note-proposal";
  if (has("CreditNoteWithdrawn") || has("CreditNoteRejected")) return "credit-note-withdrawal";
  if (has("DisputeOpened")) return "dispute";
  if (has("DisputeWithdrawn") || has("DisputeDismissed")) return "dispute-withdrawal";
  if (has("RecourseClaimOpened")) return "recourse-claim";
  if (has("RecourseClaimPaid")) return "recourse-payment";
  if (has("RecourseGranted")) return "recourse-endorsement";
  if (has("FinancingFunded")) return "financing";
  if (has("FinancingRequested")) return "financing-request";
  if (has("ReceivableDischargedEarly")) return "early-repayment";
  if (has("RepaymentReceived") || has("RepaymentRecorded")) return "repayment";
  if (has("LeafSettled")) return "settlement";
  if (has("DustSwept")) return "dust-sweep";
  if (has("PledgeForeclosed")) return "foreclosure";
  if (has("PledgeRepaid") || has("PledgeReleased")) return "pledge-repayment";
  if (has("FinancingCancelled")) return "financing-cancellation";
  if (has("ReceivableStatusChanged")) return "status-change";
  if (has("Transfer")) return "transfer";
  return "other";
}
