// Every submission reads what its seller sold to its debtor before: the earlier face values
// (volume spike) and the submissions in the brushing window. A core enterprise owes the whole
// book, so a read that starts from the debtor alone reads every receivable on it: SQLite chose
// receivables_by_debtor_created (it gives the order for free) over the seller's indexes, and a
// new supplier's submission to the debtor of 25,000 receivables spent 16 ms in those two reads
// (issue 12's growth bench). Each read about one seller and one debtor must start from both.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import SQLite from "better-sqlite3";
import type { CompiledQuery, Kysely } from "kysely";
import { openDatabase } from "../../../server/store/database.js";
import type { Database } from "../../../server/store/schema.js";
import type { ChainClient } from "../../../server/chain/chain-client.js";
import { verificationHistory } from "../../../server/verification/history-store.js";
import { DEFAULT_VERIFICATION_CONFIG, verifyReceivable } from "../../../server/verification/verify.js";
import { capturingDatabase } from "../store/captured-plans.js";
import { sampleInput } from "./sample-submission.js";

/** The plans of the reads of `receivables` filtered by seller and debtor that do not search on both. */
function pairReadsNotKeyedByBoth(file: string, queries: readonly CompiledQuery[]): string[] {
  const explain = new SQLite(file, { readonly: true });
  try {
    return queries
      .filter((query) => /"seller_id" = \?/.test(query.sql) && /"debtor_id" = \?/.test(query.sql))
      .flatMap((query) => {
        const plan = explain.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[]));
        const details = (plan as Array<{ detail: string }>).map((row) => row.detail);
        const keyed = details.some((detail) => /^SEARCH receivables .*\(seller_id=\? AND debtor_id=\?/.test(detail));
        return keyed ? [] : [`${details.join("; ")}  in: ${query.sql}`];
      });
  } finally {
    explain.close();
  }
}

describe("verification: the reads about one seller and one debtor", function () {
  let dir: string;
  let file: string;
  let db: Kysely<Database>;
  const ran: CompiledQuery[] = [];

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-pair-reads-"));
    file = path.join(dir, "tierline.db");
    await (await openDatabase(file)).destroy(); // migrated to the latest schema
    db = capturingDatabase(file, ran);
    ran.length = 0;
  });
  afterEach(async function () {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("searches on both parties, never on the debtor's whole book", async function () {
    const notOnChain = { contracts: { registry: { statusOf: async () => 0n } } } as unknown as ChainClient;
    await verifyReceivable(sampleInput(), verificationHistory(db, notOnChain), DEFAULT_VERIFICATION_CONFIG);
    const pairReads = ran.filter((q) => /"seller_id" = \?/.test(q.sql) && /"debtor_id" = \?/.test(q.sql));
    expect(pairReads.length, "reads about the pair").to.be.at.least(3);

    const unkeyed = pairReadsNotKeyedByBoth(file, ran);
    expect(unkeyed, unkeyed.join("\n")).to.deep.equal([]);
  });
});
