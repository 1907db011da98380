// Use cases on financing requests: a holder opens one on a certificate (discount sale or
// pledge) and may cancel it while it is open; a custodial financier funds it, delivery
// versus payment in one FinancingMarket call. Every party may browse the marketplace of
// open requests. Non-custodial parties call the contract from their own wallet (see
// scripts/financier.ts for financiers).
import { withLock } from "../store/locks.js";
import { keysetPage } from "../store/paginate.js";
import { collateralShortfallOf } from "../model/collateral-shortfall.js";
import { PageQuery, pageSchema, type Page } from "../model/page.js";
import { Wallet, type BaseContract, type TransactionReceipt } from "ethers";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { AppError, conflict, forbidden, notFound, unprocessable } from "../model/errors.js";
import { requireRole, type Actor } from "../model/actor.js";
import { decide, mayRead, requireAccess, type Decision } from "../model/access-policy.js";
import { FUNDED, ReceivableRelations, roleRelations } from "../store/access-relations.js";
import { CertificateIdParam } from "./certificates.js";
import { AmountString, PositiveAmountString } from "../model/money.js";
import { deprecatedFor, sentTransactions, transactionsSchema } from "../model/transactions.js";
import { PartyRefSchema } from "../model/party-refs.js";
import { releaseFinancingReservation, reserveFinancingWithinLimits } from "../risk/limits.js";
import { sentByInterruptedAttempt } from "./interrupted-attempt.js";
import { payThroughExactAllowance } from "./token-payments.js";
import { CertificateRecourseSchema, certificateRecourse } from "./certificate-recourse.js";
import { chainNowSeconds } from "../chain/chain-time.js";
import { BPS } from "../risk/math.js";
import { quoteCertificate, type Quote } from "../risk/quotes.js";
import {
  FINANCING_KINDS,
  FinancingKind as FinancingKindValue,
  REQUEST_STATUSES,
  type FinancingKind,
  type RequestStatus,
} from "../model/contract-enums.js";
import { signAttestation, type RiskAttestation } from "../chain/attestation-typed-data.js";
import { decodeLog } from "../chain/event-decoder.js";

/** A request's statuses as the API shows them: the contract's, without "none". */
export const FINANCING_STATUSES = REQUEST_STATUSES.filter((s) => s !== "none") as [
  Exclude<RequestStatus, "none">,
  ...Exclude<RequestStatus, "none">[],
];
export type FinancingStatus = Exclude<RequestStatus, "none">;
export { FINANCING_KINDS, type FinancingKind };

export const FinancingRequestIdParam = z
  .string()
  .regex(/^[1-9][0-9]{0,20}$/, "a financing request id is a positive integer");

export const OpenFinancingRequestSchema = z
  .object({
    certificateId: CertificateIdParam,
    kind: z.enum(FINANCING_KINDS),
    price: PositiveAmountString.meta({
      description: "The advance asked: what the financier pays the holder now, in minor units",
    }),
    repayAmount: AmountString.optional().meta({
      description:
        'Pledge only: what the pledgee is owed from the certificate\'s payout (price <= repayAmount <= face). Omit or "0" for a discount.',
    }),
  })
  .strict()
  .meta({ id: "OpenFinancingRequest" });

export type OpenFinancingRequest = z.infer<typeof OpenFinancingRequestSchema>;

export const ListFinancingRequestsQuery = PageQuery.extend({
  status: z.enum(FINANCING_STATUSES).optional().meta({ description: "Only requests in this status" }),
});

export const FinancingRequestViewSchema = z
  .object({
    id: z.string(),
    certificateId: z.string(),
    receivableId: z.string(),
    kind: z.enum(FINANCING_KINDS),
    price: z.string().meta({ description: "The advance, in minor units" }),
    repayAmount: z.string().meta({ description: "Pledge: owed to the pledgee from the payout; discount: 0" }),
    outstanding: z.string().meta({ description: "Pledge: still owed to the pledgee" }),
    status: z.enum(FINANCING_STATUSES),
    holderPartyId: z.string().nullable().meta(deprecatedFor("holder.partyId")),
    holderAddress: z.string(),
    holder: PartyRefSchema,
    financierPartyId: z.string().nullable().meta(deprecatedFor("financier.partyId")),
    financierAddress: z.string().nullable(),
    financier: PartyRefSchema.nullable().meta({ description: "Who funded it; null while nobody has" }),
    debtor: PartyRefSchema.extend({ id: z.string().nullable().meta(deprecatedFor("debtor.partyId")) }).meta({
      description: "Who owes the receivable: a PartyRef (id is the same as partyId, kept for older clients)",
    }),
    faceValue: z.string(),
    paidOut: z.string().meta({ description: "What the certificate was paid out already (settlement so far)" }),
    remainingClaim: z.string().meta({
      description:
        "Face value less credit-note cuts and paid out so far: what the certificate can still pay. Funding is bound to it.",
    }),
    attestation: z
      .object({
        attested: z.boolean().meta({ description: "The attestation is recorded on-chain and not expired" }),
        advanceRateBps: z.number(),
        expiresAt: z.string(),
      })
      .nullable()
      .meta({
        description:
          "The service's signed risk attestation (credit limits and advance-rate rules checked), as the market records it; null: unattested (e.g. opened directly on the contract)",
      }),
    tier: z.number(),
    dueDate: z.string(),
    tenorDays: z.number().meta({ description: "Whole days from now to the due date (0 once due)" }),
    verification: z
      .object({
        outcome: z.string().meta({
          description: "passed, or approved / rejected once the operator reviewed a held submission (held before)",
        }),
        checkedAt: z.string(),
        review: z.object({ decision: z.string(), at: z.string() }).optional(),
      })
      .nullable()
      .meta({
        description:
          "The receivable's stored verification report, summarised (null if registered by another platform); GET /v1/receivables/:id has the whole report",
      }),
    shortfall: z.string().nullable().meta({ description: "Pledge released with this much still unpaid" }),
    recourse: CertificateRecourseSchema.meta({
      description: "Who stands behind the piece on offer (issue 16): its endorsers with recourse, nearest first",
    }),
    collateralShortfall: z.string().meta({
      description:
        "Live pledge: by how much the certificate's claim (face less credit-note cuts) is below what the pledgee is still owed, as DilutionLedger.collateralShortfallOf reads it (issue 16); 0 otherwise. Unsecured: the pledgee's claim on the pledgor",
    }),
    txHashes: z.object({ open: z.string(), fund: z.string().nullable() }),
    openedBlock: z.number(),
  })
  .meta({ id: "FinancingRequest" });

export type FinancingRequestView = z.infer<typeof FinancingRequestViewSchema>;

// The opening answers the request's own fields at the top level (as it always has: the web
// view, the CLIs and integrators read `id` from it) and, beside them, the envelope every
// other write answers: the request under `request`, and `transactions`. Moving the fields
// under `request` only would break those readers, so the top-level copy stays, deprecated.
export const OpenedFinancingRequestSchema = FinancingRequestViewSchema.extend({
  request: FinancingRequestViewSchema.meta({ description: "The opened request (the envelope's named resource)" }),
  transactions: transactionsSchema,
}).meta({
  id: "OpenedFinancingRequest",
  description:
    "The opened request under `request` plus `transactions`; the same request's fields at the top level are deprecated (kept for older clients)",
});
export type OpenedFinancingRequest = z.infer<typeof OpenedFinancingRequestSchema>;

/** A request changed by one transaction (cancel). */
export const FinancingRequestTxSchema = z
  .object({
    request: FinancingRequestViewSchema,
    transactions: transactionsSchema,
    txHash: z.string().meta(deprecatedFor("transactions")),
  })
  .meta({ id: "FinancingRequestTx" });
export type FinancingRequestTx = z.infer<typeof FinancingRequestTxSchema>;

/* ------------------------------------------------------------------ */
/*                                 Reading                            */
/* ------------------------------------------------------------------ */

function requestQuery(ctx: ServiceContext) {
  return ctx.db
    .selectFrom("onchain_financing_requests as r")
    .innerJoin("onchain_certificates as c", "c.id", "r.certificate_id")
    .innerJoin("onchain_receivables as o", "o.id", "c.receivable_id")
    .leftJoin("receivables as rv", "rv.id", "o.id")
    .leftJoin("parties as d", "d.address", "o.debtor")
    .leftJoin("parties as h", "h.address", "r.holder")
    .leftJoin("parties as f", "f.address", "r.financier")
    .select([
      "r.id",
      "r.certificate_id",
      "r.holder",
      "r.kind",
      "r.price",
      "r.repay_amount",
      "r.outstanding",
      "r.status",
      "r.financier",
      "r.shortfall",
      "r.opened_tx_hash",
      "r.opened_block",
      "r.funded_tx_hash",
      "c.receivable_id",
      "c.face_value",
      "c.reduction",
      "c.paid_out",
      "c.tier",
      "r.attested_until",
      "r.advance_rate_bps",
      "o.due_date",
      "o.debtor as debtor_address",
      "d.id as debtor_id",
      "d.name as debtor_name",
      "h.id as holder_party_id",
      "h.name as holder_name",
      "f.id as financier_party_id",
      "f.name as financier_name",
      "rv.verification",
    ]);
}

type RequestRow = Awaited<ReturnType<ReturnType<typeof requestQuery>["executeTakeFirstOrThrow"]>>;

function verificationSummary(json: string | null): FinancingRequestView["verification"] {
  if (!json) return null;
  const report = JSON.parse(json) as {
    outcome?: unknown;
    checkedAt?: unknown;
    review?: { decision?: unknown; at?: unknown };
  };
  if (typeof report.outcome !== "string" || typeof report.checkedAt !== "string") return null;
  // A held submission the operator approved is no longer "held": the review is the last word.
  const { decision, at } = report.review ?? {};
  if (typeof decision === "string" && typeof at === "string") {
    return {
      outcome: decision === "approve" ? "approved" : "rejected",
      checkedAt: report.checkedAt,
      review: { decision, at },
    };
  }
  return { outcome: report.outcome, checkedAt: report.checkedAt };
}

/** `nowSeconds` is chain time (chain-time.ts): tenors count from the chain's clock. */
async function toView(ctx: ServiceContext, row: RequestRow, nowSeconds: number): Promise<FinancingRequestView> {
  return {
    ...baseView(ctx, row, nowSeconds),
    recourse: await certificateRecourse(ctx, row.certificate_id, row.holder),
  };
}

function baseView(ctx: ServiceContext, row: RequestRow, nowSeconds: number): Omit<FinancingRequestView, "recourse"> {
  const dueMs = row.due_date * 1000;
  return {
    id: row.id,
    certificateId: row.certificate_id,
    receivableId: row.receivable_id,
    kind: row.kind as FinancingKind,
    price: row.price,
    repayAmount: row.repay_amount,
    outstanding: row.outstanding,
    status: row.status as FinancingStatus,
    holderPartyId: row.holder_party_id,
    holderAddress: row.holder,
    holder: { address: row.holder, partyId: row.holder_party_id, name: row.holder_name },
    financierPartyId: row.financier_party_id,
    financierAddress: row.financier,
    financier: row.financier
      ? { address: row.financier, partyId: row.financier_party_id, name: row.financier_name }
      : null,
    debtor: { partyId: row.debtor_id, id: row.debtor_id, name: row.debtor_name, address: row.debtor_address },
    faceValue: row.face_value,
    paidOut: row.paid_out,
    // As the market computes it: face less credit-note cuts (issue 16) less paid out.
    remainingClaim: (BigInt(row.face_value) - BigInt(row.reduction) - BigInt(row.paid_out)).toString(),
    attestation:
      row.attested_until === null || row.advance_rate_bps === null
        ? null
        : {
            attested: row.status === "open" && row.attested_until * 1000 >= ctx.now().getTime(),
            advanceRateBps: row.advance_rate_bps,
            expiresAt: new Date(row.attested_until * 1000).toISOString(),
          },
    tier: row.tier,
    dueDate: new Date(dueMs).toISOString(),
    tenorDays: Math.max(0, Math.floor((row.due_date - nowSeconds) / 86_400)),
    verification: verificationSummary(row.verification),
    shortfall: row.shortfall,
    collateralShortfall: collateralShortfallOf(row).toString(),
    txHashes: { open: row.opened_tx_hash, fund: row.funded_tx_hash },
    openedBlock: row.opened_block,
  };
}

async function loadRequest(ctx: ServiceContext, requestId: string): Promise<RequestRow> {
  const row = await requestQuery(ctx).where("r.id", "=", requestId).executeTakeFirst();
  if (!row) throw notFound("FinancingRequest", requestId);
  return row;
}

/** The policy's financingRequest cell for each row (the page's trees read together). */
async function readableRows(ctx: ServiceContext, actor: Actor, rows: RequestRow[]): Promise<Map<string, Decision>> {
  const trees = await ReceivableRelations.loadMany(
    ctx.db,
    actor,
    rows.map((row) => row.receivable_id),
  );
  const decisions = new Map<string, Decision>();
  for (const row of rows) {
    const tree = trees.get(row.receivable_id)!;
    decisions.set(row.id, decide("financingRequest", tree.toFinancing({ ...row, certificate_id: row.certificate_id })));
  }
  return decisions;
}

export async function getFinancingRequest(
  ctx: ServiceContext,
  actor: Actor,
  requestId: string,
): Promise<FinancingRequestView> {
  const row = await loadRequest(ctx, requestId);
  const tree = await ReceivableRelations.load(ctx.db, actor, row.receivable_id);
  requireAccess("financingRequest", tree.toFinancing(row), `financing request ${requestId}`);
  return await toView(ctx, row, await chainNowSeconds(ctx));
}

/**
 * The rows of the book the policy's financingRequest row may show the caller, as SQL, so a
 * page is full: all to the platform (auditor, operator), a party's own requests, the ones a
 * financier funded, and the open ones to every financier. The policy still decides each row
 * served (listFinancingRequests).
 */
export function marketListQuery(ctx: ServiceContext, actor: Actor, filter: { status?: FinancingStatus | undefined }) {
  let query = requestQuery(ctx);
  if (filter.status) query = query.where("r.status", "=", filter.status);
  if (roleRelations(actor).length === 0) {
    const funded = FUNDED as FinancingStatus[];
    query = query.where((eb) =>
      eb.or([
        eb("r.holder", "=", actor.address),
        eb.and([eb("r.financier", "=", actor.address), eb("r.status", "in", funded)]),
        ...(actor.roles.includes("financier") ? [eb("r.status", "=", "open")] : []),
      ]),
    );
  }
  return query;
}

/** The market's order: by the block a request was opened in, then its id (oldest first). */
export const MARKET_ORDER = {
  columns: ["r.opened_block", "r.id"],
  shape: ["n", "s"],
  direction: "asc",
  keyOf: (row: { opened_block: number; id: string }) => [row.opened_block, row.id],
} as const;

/** One page of the book as the policy shows it to the caller. */
export async function listFinancingRequests(
  ctx: ServiceContext,
  actor: Actor,
  filter: z.infer<typeof ListFinancingRequestsQuery>,
): Promise<Page<FinancingRequestView>> {
  const page = await keysetPage(marketListQuery(ctx, actor, filter), MARKET_ORDER, filter);
  const decisions = await readableRows(ctx, actor, page.items);
  const nowSeconds = await chainNowSeconds(ctx);
  return {
    items: await Promise.all(
      page.items.filter((row) => mayRead(decisions.get(row.id)!)).map((row) => toView(ctx, row, nowSeconds)),
    ),
    nextCursor: page.nextCursor,
  };
}

export const FinancingRequestPageSchema = pageSchema(FinancingRequestViewSchema)
  .extend({
    requests: z.array(FinancingRequestViewSchema).meta({ description: "The same items (deprecated name)" }),
  })
  .meta({ id: "FinancingRequestPage" });

/* ------------------------------------------------------------------ */
/*                                  Open                              */
/* ------------------------------------------------------------------ */

/** The price/repay rules of FinancingMarket._requireTerms, with the fields at fault. `faceValue` is the
 * remaining claim (face less what was paid out already), as the contract checks. */
function requireTerms(kind: FinancingKind, price: bigint, repayAmount: bigint, faceValue: bigint): void {
  const fields: string[] = [];
  const reasons: string[] = [];
  if (price > faceValue) {
    fields.push("price");
    reasons.push(`the price ${price} is above the face value ${faceValue}`);
  }
  if (kind === "discount" && repayAmount !== 0n) {
    fields.push("repayAmount");
    reasons.push('a discount sale has no repay amount (omit it or send "0")');
  }
  if (kind === "pledge") {
    if (repayAmount < price) {
      fields.push("repayAmount");
      reasons.push(`a pledge's repay amount ${repayAmount} must be at least the price ${price}`);
    } else if (repayAmount > faceValue) {
      fields.push("repayAmount");
      reasons.push(`a pledge's repay amount ${repayAmount} is above the face value ${faceValue}`);
    }
  }
  if (fields.length > 0) {
    throw unprocessable("FINANCING_TERMS_INVALID", reasons.join("; "), {
      fields,
      price: price.toString(),
      repayAmount: repayAmount.toString(),
      faceValue: faceValue.toString(),
    });
  }
}

function custodialWallet(ctx: ServiceContext, actor: Actor, action: string): Wallet {
  if (!actor.custodial || !actor.encryptedKey) {
    throw conflict("NON_CUSTODIAL_PARTY", `this party keeps its own key: ${action} from its wallet`, {
      financingMarket: ctx.chain.deployment.addresses.financingMarket,
      settlementToken: ctx.chain.deployment.addresses.settlementToken,
    });
  }
  return new Wallet(ctx.vault.decrypt(actor.encryptedKey));
}

function requestIdFrom(financing: BaseContract, receipt: TransactionReceipt): string {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== String(financing.target).toLowerCase()) continue;
    const parsed = decodeLog(financing.interface, log);
    if (parsed?.name === "FinancingRequested") return (parsed.args.requestId as bigint).toString();
  }
  throw new AppError("CHAIN_ERROR", 502, "the request was opened but its FinancingRequested event is missing", {
    txHash: receipt.hash,
  });
}

export async function openFinancingRequest(
  ctx: ServiceContext,
  actor: Actor,
  input: OpenFinancingRequest,
): Promise<OpenedFinancingRequest> {
  const certificate = await ctx.db
    .selectFrom("onchain_certificates")
    .selectAll()
    .where("id", "=", input.certificateId)
    .executeTakeFirst();
  if (!certificate) throw notFound("Certificate", input.certificateId);
  // A retry of an opening the service died in the middle of: the request it opened is the answer.
  const [interrupted] = await sentByInterruptedAttempt(ctx, actor.address, "openFinancing", certificate.id);
  if (interrupted) {
    const requestId = requestIdFrom(ctx.chain.contracts.financing, interrupted);
    await ctx.indexer.sync(interrupted.blockNumber);
    return openedOutcome(await toView(ctx, await loadRequest(ctx, requestId), await chainNowSeconds(ctx)));
  }
  if (certificate.holder !== actor.address)
    // Names no one: a party that may not read the certificate must not learn its holder here.
    throw forbidden(`party ${actor.id} does not hold certificate ${certificate.id}`);
  const id = certificate.id;
  if (certificate.state === "locked")
    throw conflict("CERTIFICATE_LOCKED", `certificate ${id} is already in a financing request or pledge`, {
      certificateId: id,
    });
  if (certificate.state === "retired")
    throw conflict("CERTIFICATE_RETIRED", `certificate ${id} was split; finance its children instead`, {
      certificateId: id,
    });
  if (certificate.state === "settled")
    throw conflict("CERTIFICATE_SETTLED", `certificate ${id} is paid out and closed`, { certificateId: id });
  const receivable = await ctx.db
    .selectFrom("onchain_receivables")
    .select(["status", "due_date"])
    .where("id", "=", certificate.receivable_id)
    .executeTakeFirst();
  if (receivable && receivable.status !== "active") {
    throw conflict(
      "FINANCING_RECEIVABLE_CLOSED",
      `the receivable behind certificate ${id} is ${receivable.status}: no new financing`,
      {
        receivableId: certificate.receivable_id,
        status: receivable.status,
      },
    );
  }
  const price = BigInt(input.price);
  const repayAmount = BigInt(input.repayAmount ?? "0");
  requireTerms(input.kind, price, repayAmount, BigInt(certificate.face_value) - BigInt(certificate.paid_out));
  // Check and reserve the holder's financing headroom in one step; released once the
  // request is in the index (where it counts on its own) or the chain refused the opening.
  // An unknown outcome (a 5xx: sent, perhaps mined, not indexed) keeps the reservation
  // until it expires, by when the indexer has the request if it exists.
  const reservation = await reserveFinancingWithinLimits(ctx, { holder: actor, certificate, price });
  let requestId: string;
  try {
    const wallet = custodialWallet(ctx, actor, "call FinancingMarket.openRequest");
    const financing = ctx.chain.contracts.financing;
    const tx = await financing.openRequest.populateTransaction(id, FinancingKindValue[input.kind], price, repayAmount);
    const receipt = await ctx.chain.senderFor(wallet).send(tx, { kind: "openFinancing", ref: id });
    requestId = requestIdFrom(financing, receipt);
    await ctx.indexer.sync(receipt.blockNumber);
    ctx.log.info(
      { certificateId: id, requestId, kind: input.kind, price: input.price, txHash: receipt.hash },
      "financing request opened",
    );
  } catch (error) {
    if (error instanceof AppError && error.status < 500) await releaseFinancingReservation(ctx, reservation);
    throw error;
  }
  await releaseFinancingReservation(ctx, reservation);
  // The credit checks above passed: vouch for exactly these terms, on-chain, so a financier can
  // choose to fund only attested requests. A failure here leaves the request open, unattested.
  const attestHash = await attestRequest(ctx, requestId, {
    certificateId: BigInt(id),
    price,
    repayAmount,
    remainingClaim: BigInt(certificate.face_value) - BigInt(certificate.reduction) - BigInt(certificate.paid_out),
    faceValue: BigInt(certificate.face_value),
    dueDate: BigInt(receivable?.due_date ?? 0),
  }).catch((error: unknown) => {
    ctx.log.warn({ err: error, requestId }, "could not record the risk attestation; the request stays unattested");
    return undefined;
  });
  return openedOutcome(await toView(ctx, await loadRequest(ctx, requestId), await chainNowSeconds(ctx)), attestHash);
}

function openedOutcome(request: FinancingRequestView, attestHash?: string): OpenedFinancingRequest {
  return {
    ...request,
    request,
    transactions: sentTransactions(["openFinancing", request.txHashes.open], ["attestFinancing", attestHash]),
  };
}

/** How long the service vouches for a request's terms (never past the receivable's due date). */
export const ATTESTATION_TTL_SECONDS = 7n * 24n * 3600n;

/** Signs the risk attestation of `requestId` with the attester key and records it on the market. */
async function attestRequest(
  ctx: ServiceContext,
  requestId: string,
  terms: {
    certificateId: bigint;
    price: bigint;
    repayAmount: bigint;
    remainingClaim: bigint;
    faceValue: bigint;
    dueDate: bigint;
  },
): Promise<string> {
  const head = await ctx.chain.provider.getBlock("latest");
  if (!head) throw new AppError("CHAIN_UNAVAILABLE", 503, "the chain has no latest block");
  const until = BigInt(head.timestamp) + ATTESTATION_TTL_SECONDS;
  const attestation: RiskAttestation = {
    requestId: BigInt(requestId),
    certificateId: terms.certificateId,
    price: terms.price,
    repayAmount: terms.repayAmount,
    remainingClaim: terms.remainingClaim,
    // The advance the checks allowed: price over face, in basis points (rounded down).
    advanceRateBps: Number((terms.price * 10_000n) / terms.faceValue),
    expiry: terms.dueDate > 0n && terms.dueDate < until ? terms.dueDate : until,
  };
  const signature = await signAttestation(
    ctx.chain.attester,
    BigInt(ctx.chain.deployment.chainId),
    ctx.chain.deployment.addresses.financingMarket,
    attestation,
  );
  const tx = await ctx.chain.contracts.financing.attestRequest.populateTransaction({ ...attestation }, signature);
  // Anyone may submit a signed attestation: the keeper's key pays the gas.
  const receipt = await ctx.chain.keeper.send(tx, { kind: "attestFinancing", ref: requestId });
  await ctx.indexer.sync(receipt.blockNumber);
  ctx.log.info({ requestId, advanceRateBps: attestation.advanceRateBps, txHash: receipt.hash }, "request attested");
  return receipt.hash;
}

/* ------------------------------------------------------------------ */
/*                                 Cancel                             */
/* ------------------------------------------------------------------ */

function requireOpen(row: RequestRow): void {
  if (row.status !== "open") {
    throw conflict("FINANCING_WRONG_STATUS", `financing request ${row.id} is ${row.status}, not open`, {
      requestId: row.id,
      status: row.status,
    });
  }
}

export async function cancelFinancingRequest(
  ctx: ServiceContext,
  actor: Actor,
  requestId: string,
): Promise<FinancingRequestTx> {
  const row = await loadRequest(ctx, requestId);
  if (row.holder !== actor.address)
    throw forbidden(`only the holder that opened financing request ${requestId} may cancel it`);
  // A retry of a cancellation the service died in the middle of: the cancellation it sent is the answer.
  const [interrupted] = await sentByInterruptedAttempt(ctx, actor.address, "cancelFinancing", requestId);
  if (interrupted) {
    await ctx.indexer.sync(interrupted.blockNumber);
    return {
      request: await toView(ctx, await loadRequest(ctx, requestId), await chainNowSeconds(ctx)),
      transactions: sentTransactions(["cancelFinancing", interrupted.hash]),
      txHash: interrupted.hash,
    };
  }
  requireOpen(row);
  const wallet = custodialWallet(ctx, actor, "call FinancingMarket.cancelRequest");
  const tx = await ctx.chain.contracts.financing.cancelRequest.populateTransaction(requestId);
  const receipt = await ctx.chain.senderFor(wallet).send(tx, { kind: "cancelFinancing", ref: requestId });
  await ctx.indexer.sync(receipt.blockNumber);
  ctx.log.info({ requestId, certificateId: row.certificate_id, txHash: receipt.hash }, "financing request cancelled");
  return {
    request: await toView(ctx, await loadRequest(ctx, requestId), await chainNowSeconds(ctx)),
    transactions: sentTransactions(["cancelFinancing", receipt.hash]),
    txHash: receipt.hash,
  };
}

/* ------------------------------------------------------------------ */
/*                                  Fund                              */
/* ------------------------------------------------------------------ */

// approve + fund is two transactions: one financier's fundings run one at a time (in every
// replica), so a second approval cannot overwrite the allowance the first fund is about to spend.
const fundingLock = (address: string): string => `funding:${address.toLowerCase()}`;

export const FundOutcomeSchema = z
  .object({
    request: FinancingRequestViewSchema,
    transactions: transactionsSchema,
    txHashes: z.object({ approve: z.string(), fund: z.string() }).meta(deprecatedFor("transactions")),
  })
  .meta({ id: "FundedFinancingRequest" });
export type FundOutcome = z.infer<typeof FundOutcomeSchema>;

export async function fundFinancingRequest(ctx: ServiceContext, actor: Actor, requestId: string): Promise<FundOutcome> {
  requireRole(actor, "financier");
  const row = await loadRequest(ctx, requestId);
  // A retry of a funding the service died in the middle of: the funding it sent is the answer.
  const [funded] = await sentByInterruptedAttempt(ctx, actor.address, "fundFinancing", requestId);
  if (funded) {
    const [approved] = await sentByInterruptedAttempt(ctx, actor.address, "approveFinancing", requestId);
    await ctx.indexer.sync(funded.blockNumber);
    return {
      request: await toView(ctx, await loadRequest(ctx, requestId), await chainNowSeconds(ctx)),
      transactions: sentTransactions(["approveFinancing", approved?.hash], ["fundFinancing", funded.hash]),
      txHashes: { approve: approved?.hash ?? "", fund: funded.hash },
    };
  }
  requireOpen(row);
  if (row.holder === actor.address)
    throw conflict(
      "FINANCING_SELF_FUNDING",
      `party ${actor.id} opened financing request ${requestId}; it cannot fund it`,
      { requestId },
    );
  const wallet = custodialWallet(
    ctx,
    actor,
    "approve the settlement token and call FinancingMarket.fund (npm run financier -- fund)",
  );

  // The terms the financier agrees to are the ones the index shows; the contract refuses others.
  const price = BigInt(row.price);
  const repayAmount = BigInt(row.repay_amount);
  // As the market recorded it at opening: face less credit-note cuts (issue 16) less paid out.
  const remainingClaim = BigInt(row.face_value) - BigInt(row.reduction) - BigInt(row.paid_out);
  const { token, financing } = ctx.chain.contracts;
  const market = ctx.chain.deployment.addresses.financingMarket;
  const sender = ctx.chain.senderFor(wallet);

  const { approveHash, receipt } = await withLock(ctx.db, fundingLock(actor.address), async () => {
    const balance = (await token.balanceOf(actor.address)) as bigint;
    if (balance < price) {
      throw conflict(
        "ERC20_INSUFFICIENT_BALANCE",
        `the financier holds ${balance} of the settlement token; the price is ${price}`,
        {
          balance: balance.toString(),
          needed: price.toString(),
        },
      );
    }
    return payThroughExactAllowance(
      ctx,
      sender,
      { spender: market, amount: price, kind: "approveFinancing" },
      {
        kind: "fundFinancing",
        ref: requestId,
        request: () => financing.fund.populateTransaction(requestId, price, repayAmount, remainingClaim),
      },
    );
  });
  await ctx.indexer.sync(receipt.blockNumber);
  ctx.log.info(
    { requestId, certificateId: row.certificate_id, kind: row.kind, price: row.price, txHash: receipt.hash },
    "financing request funded",
  );
  return {
    request: await toView(ctx, await loadRequest(ctx, requestId), await chainNowSeconds(ctx)),
    transactions: sentTransactions(["approveFinancing", approveHash], ["fundFinancing", receipt.hash]),
    txHashes: { approve: approveHash, fund: receipt.hash },
  };
}

/* ------------------------------------------------------------------ */
/*                          Pledge endings                            */
/* ------------------------------------------------------------------ */

function requirePledged(row: RequestRow): void {
  if (row.status !== "pledged") {
    throw conflict("FINANCING_WRONG_STATUS", `financing request ${row.id} is ${row.status}, not pledged`, {
      requestId: row.id,
      status: row.status,
    });
  }
}

export const RepayPledgeOutcomeSchema = z
  .object({
    request: FinancingRequestViewSchema,
    transactions: transactionsSchema,
    txHashes: z.object({ approve: z.string(), repay: z.string() }).meta(deprecatedFor("transactions")),
  })
  .meta({ id: "RepaidPledge" });
export type RepayPledgeOutcome = z.infer<typeof RepayPledgeOutcomeSchema>;

/** The holder pays the pledgee what is still owed and gets its certificate unlocked. */
export async function repayPledge(ctx: ServiceContext, actor: Actor, requestId: string): Promise<RepayPledgeOutcome> {
  const row = await loadRequest(ctx, requestId);
  if (row.holder !== actor.address)
    throw forbidden(`only the holder that pledged financing request ${requestId} may repay it`);
  // A retry of a repayment the service died in the middle of: the repayment it sent is the answer.
  const [repaid] = await sentByInterruptedAttempt(ctx, actor.address, "repayPledge", requestId);
  if (repaid) {
    const [approved] = await sentByInterruptedAttempt(ctx, actor.address, "approvePledgeRepayment", requestId);
    await ctx.indexer.sync(repaid.blockNumber);
    return {
      request: await toView(ctx, await loadRequest(ctx, requestId), await chainNowSeconds(ctx)),
      transactions: sentTransactions(["approvePledgeRepayment", approved?.hash], ["repayPledge", repaid.hash]),
      txHashes: { approve: approved?.hash ?? "", repay: repaid.hash },
    };
  }
  requirePledged(row);
  const wallet = custodialWallet(ctx, actor, "approve the settlement token and call FinancingMarket.repayPledge");

  const { token, financing } = ctx.chain.contracts;
  const market = ctx.chain.deployment.addresses.financingMarket;
  const sender = ctx.chain.senderFor(wallet);

  const { approveHash, receipt, amount } = await withLock(ctx.db, fundingLock(actor.address), async () => {
    // What the contract pulls is its own outstanding, which payouts may have lowered since the index saw it.
    const outstanding = BigInt((await financing.requestOf(requestId)).outstanding);
    const balance = (await token.balanceOf(actor.address)) as bigint;
    if (balance < outstanding) {
      throw conflict(
        "INSUFFICIENT_BALANCE",
        `the holder holds ${balance} of the settlement token; ${outstanding} is owed to the pledgee`,
        {
          balance: balance.toString(),
          needed: outstanding.toString(),
        },
      );
    }
    const paid = await payThroughExactAllowance(
      ctx,
      sender,
      { spender: market, amount: outstanding, kind: "approvePledgeRepayment" },
      { kind: "repayPledge", ref: requestId, request: () => financing.repayPledge.populateTransaction(requestId) },
    );
    return { ...paid, amount: outstanding };
  });
  await ctx.indexer.sync(receipt.blockNumber);
  ctx.log.info(
    { requestId, certificateId: row.certificate_id, amount: amount.toString(), txHash: receipt.hash },
    "pledge repaid",
  );
  return {
    request: await toView(ctx, await loadRequest(ctx, requestId), await chainNowSeconds(ctx)),
    transactions: sentTransactions(["approvePledgeRepayment", approveHash], ["repayPledge", receipt.hash]),
    txHashes: { approve: approveHash, repay: receipt.hash },
  };
}

export const ForecloseOutcomeSchema = z
  .object({
    request: FinancingRequestViewSchema,
    certificate: z.object({
      id: z.string(),
      holderAddress: z.string(),
      holderPartyId: z.string().nullable().meta(deprecatedFor("certificate.holder.partyId")),
      holder: PartyRefSchema.meta({ description: "The pledgee, who holds the certificate now" }),
    }),
    transactions: transactionsSchema,
    txHash: z.string().meta(deprecatedFor("transactions")),
  })
  .meta({ id: "ForeclosedPledge" });
export type ForecloseOutcome = z.infer<typeof ForecloseOutcomeSchema>;

async function forecloseOutcome(ctx: ServiceContext, requestId: string, txHash: string): Promise<ForecloseOutcome> {
  const request = await toView(ctx, await loadRequest(ctx, requestId), await chainNowSeconds(ctx));
  const certificate = await ctx.db
    .selectFrom("onchain_certificates as c")
    .leftJoin("parties as p", "p.address", "c.holder")
    .select(["c.id", "c.holder", "p.id as party_id", "p.name as party_name"])
    .where("c.id", "=", request.certificateId)
    .executeTakeFirstOrThrow();
  return {
    request,
    certificate: {
      id: certificate.id,
      holderAddress: certificate.holder,
      holderPartyId: certificate.party_id,
      holder: { address: certificate.holder, partyId: certificate.party_id, name: certificate.party_name },
    },
    transactions: sentTransactions(["foreclosePledge", txHash]),
    txHash,
  };
}

/** The pledgee takes the pledged certificate once its receivable has defaulted. */
export async function foreclosePledge(ctx: ServiceContext, actor: Actor, requestId: string): Promise<ForecloseOutcome> {
  const row = await loadRequest(ctx, requestId);
  if (!row.financier || row.financier !== actor.address) {
    throw forbidden(`only the pledgee of financing request ${requestId} may foreclose it`);
  }
  // A retry of a foreclosure the service died in the middle of: the foreclosure it sent is the answer.
  const [interrupted] = await sentByInterruptedAttempt(ctx, actor.address, "foreclosePledge", requestId);
  if (interrupted) {
    await ctx.indexer.sync(interrupted.blockNumber);
    return forecloseOutcome(ctx, requestId, interrupted.hash);
  }
  requirePledged(row);
  const wallet = custodialWallet(ctx, actor, "call FinancingMarket.foreclose");
  // The send simulates first: a receivable not yet defaulted comes back as the contract's RECEIVABLE_WRONG_STATUS.
  const tx = await ctx.chain.contracts.financing.foreclose.populateTransaction(requestId);
  const receipt = await ctx.chain.senderFor(wallet).send(tx, { kind: "foreclosePledge", ref: requestId });
  await ctx.indexer.sync(receipt.blockNumber);
  ctx.log.info(
    { requestId, certificateId: row.certificate_id, pledgee: actor.address, txHash: receipt.hash },
    "pledge foreclosed",
  );
  return forecloseOutcome(ctx, requestId, receipt.hash);
}

/** GET /v1/financing-requests/:id/quote: whoever may read the request. */
export async function quoteForRequest(ctx: ServiceContext, actor: Actor, requestId: string): Promise<Quote> {
  const request = await getFinancingRequest(ctx, actor, requestId); // 404 / 403 as reading the request
  const quote = await quoteCertificate(ctx, request.certificateId, request.holderAddress);
  const price = BigInt(request.price);
  const face = BigInt(request.faceValue);
  return {
    ...quote,
    request: {
      id: request.id,
      kind: request.kind,
      status: request.status,
      price: request.price,
      advanceRateBps: face === 0n ? 0 : Number((price * BigInt(BPS)) / face),
      withinAdvanceRate: price <= (face * BigInt(quote.advanceRate.allowedBps)) / BigInt(BPS),
      priceVsQuote: (price - BigInt(quote.price)).toString(),
    },
  };
}
