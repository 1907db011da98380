// The circular-trading signal runs on every submission. It reads the trade graph from the
// database, and must read only the part a walk of MAX_CYCLE_DEPTH edges from the debtor can
// reach, through the index on (seller_id, status), never every live receivable: otherwise
// each submission gets slower as the book grows. The verdicts against a real database are
// checked here too, since the walk now happens partly in SQL.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import SQLite from "better-sqlite3";
import { type Kysely, type CompiledQuery } from "kysely";
import { openDatabase } from "../../../server/store/database.js";
import type { Database } from "../../../server/store/schema.js";
import type { SubmissionStatus } from "../../../server/model/row-statuses.js";
import type { ChainClient } from "../../../server/chain/chain-client.js";
import { verificationHistory } from "../../../server/verification/history-store.js";
import { checkFraudSignals } from "../../../server/verification/rules/fraud-signals.js";
import { DEFAULT_VERIFICATION_CONFIG, verifyReceivable } from "../../../server/verification/verify.js";
import { capturingDatabase, tableScansIn } from "../store/captured-plans.js";
import { sampleDebtor, sampleInput, sampleSeller } from "./sample-submission.js";
import { partyRow, receivableRow } from "../../helpers/party-row.js";

/**
 * The reads of `receivables` among `queries` whose plan does not start from one party
 * (seller_id = ? or debtor_id = ?): each would read a share of the whole book.
 */
function readsNotKeyedByParty(file: string, queries: readonly CompiledQuery[]): string[] {
  const explain = new SQLite(file, { readonly: true });
  try {
    return queries.flatMap((query) => {
      const plan = explain.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[]));
      const unkeyed = (plan as Array<{ detail: string }>)
        .map((row) => row.detail)
        .filter((detail) => /^(SCAN|SEARCH) receivables\b/.test(detail) && !/\((seller_id|debtor_id)=\?/.test(detail));
      return unkeyed.length ? [`${unkeyed.join("; ")}  in: ${query.sql}`] : [];
    });
  } finally {
    explain.close();
  }
}

const stamp = "2026-06-01T00:00:00.000Z";

const party = (id: string) => ({
  ...partyRow(id),
  address: `0x${Buffer.from(id).toString("hex").padEnd(40, "0").slice(0, 40)}`,
  api_key_hash: `h_${id}`,
  created_at: stamp,
});

const receivable = (id: string, sellerId: string, debtorId: string, status: SubmissionStatus = "registered") => ({
  ...receivableRow(id, sellerId, debtorId),
  po_number: `PO-${id}`,
  due_date: 1,
  document_hash: "0x",
  documents: "{}",
  status,
  closed: null,
  created_at: stamp,
  updated_at: stamp,
});

describe("verification: the trade-cycle read against the database", function () {
  let dir: string;
  let file: string;
  let db: Kysely<Database>;
  const ran: CompiledQuery[] = [];

  const A = sampleSeller().id;
  const B = sampleDebtor().id;

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-trade-cycles-"));
    file = path.join(dir, "tierline.db");
    await (await openDatabase(file)).destroy(); // migrated to the latest schema
    ran.length = 0;
    db = capturingDatabase(file, ran);
    for (const id of [A, B, "party-c", "party-d", "party-e"])
      await db.insertInto("parties").values(party(id)).execute();
  });
  afterEach(async function () {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The codes the fraud rule finds for a submission of A (seller) on B (debtor). */
  async function fraudCodes(): Promise<string[]> {
    const history = verificationHistory(db, {} as ChainClient);
    const findings = await checkFraudSignals(sampleInput(), sampleDebtor(), history, DEFAULT_VERIFICATION_CONFIG);
    return findings.map((finding) => finding.code);
  }

  async function trade(...edges: Array<[string, string, SubmissionStatus?]>) {
    for (const [i, [sellerId, debtorId, status]] of edges.entries())
      await db
        .insertInto("receivables")
        .values(receivable(`r${i}`, sellerId, debtorId, status))
        .execute();
  }

  describe("when B sells to C and C sells back to A", function () {
    it("holds A's receivable on B with CIRCULAR_TRADING (A -> B -> C -> A)", async function () {
      await trade([B, "party-c"], ["party-c", A]);
      expect(await fraudCodes()).to.deep.equal(["CIRCULAR_TRADING"]);
    });
  });

  describe("when the chain from B does not come back to A", function () {
    it("passes a near-cycle that ends at another party (A -> B -> C -> D)", async function () {
      await trade([B, "party-c"], ["party-c", "party-d"], ["party-d", "party-e"], ["party-e", B]);
      expect(await fraudCodes()).to.deep.equal([]);
    });

    it("passes a cycle whose closing receivable was rejected", async function () {
      await trade([B, "party-c"], ["party-c", A, "rejected"]);
      expect(await fraudCodes()).to.deep.equal([]);
    });
  });

  it("answers every statement from an index, never a scan of the book", async function () {
    // A book to walk, with a loop that does not pass A, and trade of A's that B cannot reach.
    await trade([B, "party-c"], ["party-c", "party-d"], ["party-d", "party-e"], ["party-e", "party-c"], [A, "party-d"]);
    ran.length = 0;
    expect(await fraudCodes()).to.deep.equal([]);
    expect(ran.length).to.be.at.least(3);

    const scans = tableScansIn(file, ran);
    expect(scans, scans.join("\n")).to.deep.equal([]);
    // An index on status alone is no better than a scan here: every live receivable is read.
    const unkeyed = readsNotKeyedByParty(file, ran);
    expect(unkeyed, unkeyed.join("\n")).to.deep.equal([]);
  });

  it("answers every statement of a whole verification from an index", async function () {
    await trade([B, "party-c"], ["party-c", "party-d"], [A, B], [A, "party-d"]);
    const notOnChain = { contracts: { registry: { statusOf: async () => 0n } } } as unknown as ChainClient;
    ran.length = 0;
    await verifyReceivable(sampleInput(), verificationHistory(db, notOnChain), DEFAULT_VERIFICATION_CONFIG);
    expect(ran.length).to.be.at.least(6);

    const scans = tableScansIn(file, ran);
    expect(scans, scans.join("\n")).to.deep.equal([]);
  });
});
