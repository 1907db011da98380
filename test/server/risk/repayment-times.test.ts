// A debtor's rescore reads the repayment time of every receivable it repaid (risk/
// repayment-times.ts). A year into a core enterprise's use that is nearly its whole book, so
// the times, which never change once recorded, are kept in memory: a second rescore must not
// read them again (before: every one, in chunks of 500, on every limit check). Kept or read,
// the answer is the same; a receivable not recorded yet is looked up again next time, and
// none is kept beyond the capacity.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CompiledQuery } from "kysely";
import { openDatabase, type Db } from "../../../server/store/database.js";
import { keepRepaymentTimes, repaidAtOf } from "../../../server/risk/repayment-times.js";
import type { ServiceContext } from "../../../server/context.js";
import { capturingDatabase } from "../store/captured-plans.js";

const RECORDED = 1_200;

describe("Risk: repayment times kept once read", function () {
  let dir: string;
  let file: string;
  let db: Db;
  let ran: CompiledQuery[];
  let ctx: ServiceContext;
  const ids = Array.from({ length: RECORDED }, (_, i) => `0x${i.toString(16).padStart(64, "0")}`);
  const timeOf = (i: number) => 1_780_000_000 + i;

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "repayment-times-"));
    file = path.join(dir, "tierline.db");
    const owner = await openDatabase(file);
    for (let i = 0; i < RECORDED; i += 400)
      await owner
        .insertInto("risk_repayment_times")
        .values(
          ids
            .slice(i, i + 400)
            .map((id, k) => ({ receivable_id: id, repaid_at: timeOf(i + k), block_number: 1, block_hash: "0x" })),
        )
        .execute();
    await owner.destroy();
    ran = [];
    db = capturingDatabase(file, ran) as unknown as Db;
    // Not recorded, and no Repaid event indexed: absent, and the chain is never asked.
    ctx = { db, chain: { provider: {} } } as unknown as ServiceContext;
    keepRepaymentTimes(250_000);
  });
  afterEach(async function () {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads the times once: the second rescore of the same debtor asks the database nothing", async function () {
    const first = await repaidAtOf(ctx, ids);
    expect(first.size).to.equal(RECORDED);
    expect(first.get(ids[777]!)).to.equal(timeOf(777));
    expect(ran.length).to.equal(3); // 1,200 ids in chunks of 500
    ran.length = 0;
    const second = await repaidAtOf(ctx, ids);
    expect([...second.entries()].sort()).to.deep.equal([...first.entries()].sort());
    expect(ran, "statements of the second rescore").to.have.length(0);
  });

  it("looks again for a time not recorded yet, and keeps none beyond its capacity", async function () {
    const missing = `0x${"f".repeat(64)}`;
    expect((await repaidAtOf(ctx, [missing])).has(missing)).to.equal(false);
    ran.length = 0;
    expect((await repaidAtOf(ctx, [missing])).has(missing)).to.equal(false);
    expect(ran.length, "a time not recorded is looked up again").to.be.greaterThan(0);

    keepRepaymentTimes(1_000);
    expect((await repaidAtOf(ctx, ids)).size).to.equal(RECORDED);
    ran.length = 0;
    const again = await repaidAtOf(ctx, ids);
    expect(again.size).to.equal(RECORDED);
    expect(again.get(ids[1_100]!)).to.equal(timeOf(1_100));
    // The 200 not kept are read again: one chunk.
    expect(ran.filter((q) => /risk_repayment_times/.test(q.sql))).to.have.length(1);
  });
});
