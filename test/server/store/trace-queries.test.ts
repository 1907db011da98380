// The auditor's trace reads a receivable's events by the receivable (issue 12): one indexed
// read of chain_events_by_receivable, whatever else the journal holds. It used to match the
// text of every event journaled since the registration, so an old receivable's trace grew
// with the whole book. Events that name only a piece of the tree (a transfer, a financing
// request, a recourse claim's payment) reach it because the indexer attributes them to their
// receivable (store/event-subjects.ts), as migration 0017 does for those journaled before it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type CompiledQuery } from "kysely";
import { Migrator, type MigrationProvider } from "kysely/migration";
import { migrations } from "../../../server/store/migrations.js";
import { openDatabase } from "../../../server/store/database.js";
import { transactionsTouching } from "../../../server/domain/audit/trace.js";
import { capturingDatabase } from "./captured-plans.js";

const OURS = `0x${"aa".repeat(32)}`;
const OTHER = `0x${"bb".repeat(32)}`;
const HOLDER = "0x00000000000000000000000000000000000000c1";

const event = (block: number, logIndex: number, contract: string, name: string, args: Record<string, string>) => ({
  block_number: block,
  log_index: logIndex,
  block_hash: `0xblock${block}`,
  tx_hash: `0xtx${block}`,
  contract,
  name,
  args: JSON.stringify(args),
  receivable_id: args.receivableId ?? null,
});

const certificate = (id: string, receivableId: string) => ({
  id,
  receivable_id: receivableId,
  parent_id: null,
  holder: HOLDER,
  face_value: "100",
  tier: 1,
  state: "live",
  issued_tx_hash: "0x",
  issued_block: 1,
});

/** A journal about two receivables: ours (certificate 1, request 5, claim 9) and another (certificate 2). */
const JOURNAL = [
  event(1, 0, "certificates", "Transfer", { from: HOLDER, to: HOLDER, tokenId: "1" }),
  event(1, 1, "registry", "ReceivableRegistered", { receivableId: OURS }),
  event(2, 0, "certificates", "Transfer", { from: HOLDER, to: HOLDER, tokenId: "2" }),
  event(2, 1, "registry", "ReceivableRegistered", { receivableId: OTHER }),
  event(3, 0, "financing", "FinancingCancelled", { requestId: "5", certificateId: "1" }),
  event(4, 0, "financing", "PledgeRepaid", { requestId: "5", amount: "1", outstanding: "0" }),
  event(5, 0, "recourse", "RecourseClaimPaid", { claimId: "9", payer: HOLDER, creditor: HOLDER, amount: "1" }),
  event(6, 0, "certificates", "Transfer", { from: HOLDER, to: HOLDER, tokenId: "12" }),
];

async function fillProjections(db: Kysely<any>): Promise<void> {
  await db
    .insertInto("onchain_certificates")
    .values([certificate("1", OURS), certificate("2", OTHER)])
    .execute();
  await db
    .insertInto("onchain_financing_requests")
    .values({
      id: "5",
      certificate_id: "1",
      holder: HOLDER,
      kind: "pledge",
      price: "1",
      repay_amount: "1",
      outstanding: "0",
      status: "repaid",
      opened_tx_hash: "0x",
      opened_block: 3,
    })
    .execute();
  await db
    .insertInto("onchain_recourse_claims")
    .values({
      id: "9",
      leaf_id: "1",
      receivable_id: OURS,
      kind: "default",
      status: "paid",
      creditor: HOLDER,
      guarantor: HOLDER,
      guarantor_certificate_id: "1",
      endorsement_index: 0,
      amount: "1",
      opened_tx_hash: "0x",
      opened_block: 5,
    })
    .execute();
}

describe("store: the trace reads a receivable's events by the receivable", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-trace-plans-"));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("attributes events journaled before migration 0017, and reads them through chain_events_by_receivable", async function () {
    const file = path.join(dir, "old.db");
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const upTo0016: MigrationProvider = {
      getMigrations: async () => Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0017")),
    };
    expect((await new Migrator({ db: old, provider: upTo0016 }).migrateToLatest()).error).to.equal(undefined);
    await fillProjections(old);
    await old.insertInto("chain_events").values(JOURNAL).execute();
    await old.destroy();
    await (await openDatabase(file)).destroy(); // migrates to the latest schema

    const ran: CompiledQuery[] = [];
    const db = capturingDatabase(file, ran);
    try {
      const transactions = await transactionsTouching({ db }, OURS, ["1"], ["5"], ["9"]);
      const traced = [...ran];
      expect(transactions.map((tx) => [tx.blockNumber, tx.events.map((e) => e.name)])).to.deep.equal([
        [1, ["Transfer", "ReceivableRegistered"]],
        [3, ["FinancingCancelled"]],
        [4, ["PledgeRepaid"]],
        [5, ["RecourseClaimPaid"]],
      ]);
      // Certificate 12 is nobody's piece here: its transfer stays unattributed.
      const stray = await db
        .selectFrom("chain_events")
        .select("receivable_id")
        .where("block_number", "=", 6)
        .executeTakeFirstOrThrow();
      expect(stray.receivable_id).to.equal(null);

      const explain = new SQLite(file, { readonly: true });
      try {
        const plans = traced.map((query) =>
          (
            explain.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as Array<{
              detail: string;
            }>
          ).map((row) => row.detail),
        );
        expect(plans, JSON.stringify(plans)).to.have.length(1);
        expect(plans[0]!.join("; ")).to.match(
          /^SEARCH chain_events USING INDEX chain_events_by_receivable \(receivable_id=\?\)/,
        );
      } finally {
        explain.close();
      }
    } finally {
      await db.destroy();
    }
  });
});
