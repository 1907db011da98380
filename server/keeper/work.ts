// What the keeper has to do, derived from the index and the contracts' views alone (no
// state of its own), so a restart picks up exactly where the chain is: which receivables
// are past due or past grace, and which leaves of which receivable are owed a payment.
import type { ServiceContext } from "../context.js";
import { RECEIVABLE_STATUSES, type ReceivableStatus } from "../model/contract-enums.js";

// Only Repaid closes a receivable: a defaulted one may still be paid late (trust model, item 5).
const CLOSING_STATUSES = new Set(["4"]); // Repaid

export interface DueMark {
  receivableId: string;
  /** Active and past its due date: mark it overdue. */
  overdue: boolean;
  /** Past due date + grace: mark it defaulted (after overdue, so the trail shows both). */
  defaulted: boolean;
}

/** Receivables still open whose due date (and grace) chain time `now` has passed. Each receivable's
 * grace period is the one frozen into it at registration (`gracePeriodOf` reads it). */
export async function findDueMarks(
  ctx: ServiceContext,
  now: bigint,
  gracePeriodOf: (receivableId: string) => Promise<bigint>,
): Promise<DueMark[]> {
  const rows = await ctx.db
    .selectFrom("onchain_receivables")
    .select(["id", "status", "due_date"])
    .where("status", "in", ["active", "overdue"])
    .where("due_date", "<", Number(now))
    .orderBy("due_date")
    .execute();
  // The contracts refuse at block.timestamp <= dueDate (+ grace): strictly after, on the latest
  // block, means the next block is after too.
  const marks: DueMark[] = [];
  for (const row of rows) {
    marks.push({
      receivableId: row.id,
      overdue: row.status === "active",
      defaulted: now > BigInt(row.due_date) + (await gracePeriodOf(row.id)),
    });
  }
  return marks;
}

/**
 * Receivables with money not yet paid out, or repaid with leaves not yet closed, oldest first.
 * Each half is one index read of only what is pending (migration 0029): the receivables whose
 * repayments are not all distributed, and the repaid ones that still have live or locked
 * leaves as triggers keep them (store/open-leaves-triggers.ts). A pass used to read every
 * repaid receivable and every certificate.
 */
export async function findSettlementCandidates(ctx: ServiceContext): Promise<string[]> {
  const undistributed = await ctx.db
    .selectFrom("onchain_receivables")
    .select(["id", "registered_block"])
    .where((eb) => eb("repaid_amount", "!=", eb.ref("distributed")))
    .execute();
  const unclosed = await ctx.db
    .selectFrom("receivable_open_leaves as l")
    .innerJoin("onchain_receivables as r", "r.id", "l.receivable_id")
    .select(["r.id", "r.registered_block"])
    .where("l.repaid", "=", 1)
    .execute();
  const blockOf = new Map([...undistributed, ...unclosed].map((row) => [row.id, Number(row.registered_block)]));
  return [...blockOf].sort(([, a], [, b]) => a - b).map(([id]) => id);
}

export interface SettlementPlan {
  receivableId: string;
  status: ReceivableStatus;
  closed: boolean;
  /** Leaf certificate ids owed something (or, once closed, their final share), in batches. */
  batches: string[][];
}

const byNumericId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/**
 * Which leaves of `receivableId` to settle now. Open receivable: the live and locked leaves
 * whose entitlement is above what they were paid (a defaulted receivable is open: a late
 * payment reaches its leaves). Closed (repaid): every leaf not yet finalized (its final settle
 * closes it, releases its pledge and lets the dust be swept).
 */
export async function planSettlement(
  ctx: ServiceContext,
  receivableId: string,
  maxBatch: number,
): Promise<SettlementPlan> {
  const { registry, escrow, certificates } = ctx.chain.contracts;
  const receivable = await registry.receivableOf(receivableId);
  const status: ReceivableStatus = RECEIVABLE_STATUSES[Number(receivable.status)] ?? "none";
  const closed = status === "repaid";
  const empty: SettlementPlan = { receivableId, status, closed, batches: [] };
  if (status === "none") return empty;

  const leaves = (
    await ctx.db
      .selectFrom("onchain_certificates")
      .select("id")
      .where("receivable_id", "=", receivableId)
      .where("state", "in", ["live", "locked"])
      .execute()
  )
    .map((row) => row.id)
    .sort(byNumericId);

  let owed: string[];
  if (!closed) {
    owed = [];
    for (const id of leaves) {
      const [entitled, paidOut] = (await escrow.entitlementOf(id)) as [bigint, bigint];
      if (entitled > paidOut) owed.push(id);
    }
  } else {
    const leafCount = BigInt(await certificates.leafCountOf(receivableId));
    const finalizedCount = BigInt(await escrow.finalizedLeavesOf(receivableId));
    if (finalizedCount >= leafCount) return empty;
    const finalized = await finalizedLeaves(ctx, receivableId);
    owed = leaves.filter((id) => !finalized.has(id));
  }
  const batches: string[][] = [];
  for (let i = 0; i < owed.length; i += maxBatch) batches.push(owed.slice(i, i + maxBatch));
  return { ...empty, batches };
}

/**
 * Leaves that received their final share. The escrow finalizes a leaf when it settles it
 * while the receivable is closed, so these are the leaves with a LeafSettled event after
 * the event that closed the receivable (repay and settle are separate transactions).
 */
export async function finalizedLeaves(ctx: ServiceContext, receivableId: string): Promise<Set<string>> {
  // Receivable ids are hex: safe inside LIKE; the parsed args are checked again.
  const events = await ctx.db
    .selectFrom("chain_events")
    .select(["contract", "name", "args", "block_number", "log_index"])
    .where((eb) =>
      eb.or([
        eb.and([eb("contract", "=", "registry"), eb("name", "=", "ReceivableStatusChanged")]),
        eb.and([eb("contract", "=", "escrow"), eb("name", "=", "LeafSettled")]),
      ]),
    )
    .where("args", "like", `%${receivableId}%`)
    .orderBy("block_number")
    .orderBy("log_index")
    .execute();
  const finalized = new Set<string>();
  let closed = false;
  for (const event of events) {
    const args = JSON.parse(event.args) as Record<string, string>;
    if (args.receivableId !== receivableId) continue;
    if (event.name === "ReceivableStatusChanged") closed ||= CLOSING_STATUSES.has(String(args.status));
    else if (closed) finalized.add(String(args.certificateId));
  }
  return finalized;
}
