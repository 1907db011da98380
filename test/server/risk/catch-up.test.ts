// The risk monitor's catch-up (risk/refresh.ts) follows new rows by their stamp. One bulk
// update stamps many rows with one instant; the cursor used to keep every id seen at its
// instant, read all those rows again each second and compare each with every kept id, until
// something newer was written: at 10,000 receivables that was 80 ms of the event loop a
// second (issue 12's growth bench), growing with the square of the rows. Once the instant is
// old enough that nothing more can commit at it, the cursor lets its ids go. What must not
// change: a row written later at the cursor's instant, while that instant is recent, is still
// seen once, and a quiet catch-up refreshes nobody.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { offChainContext } from "../../helpers/off-chain-context.js";
import { partyRow, receivableRow } from "../../helpers/party-row.js";
import { nowIso, openDatabase, type Db } from "../../../server/store/database.js";
import { catchUpRisk, STAMP_SETTLE_MS } from "../../../server/risk/refresh.js";
import type { ServiceContext } from "../../../server/context.js";

const BULK = 2_000;

const receivable = (id: string, seller: string, stamp: string) => ({
  ...receivableRow(id, seller, "pty_d"),
  created_at: stamp,
  updated_at: stamp,
});

async function storedCursor(db: Db): Promise<{ receivables: { at: string; ids: string[] } }> {
  const row = await db
    .selectFrom("risk_state")
    .select("value")
    .where("key", "=", "refresh.cursors")
    .executeTakeFirstOrThrow();
  return JSON.parse(row.value);
}

describe("risk catch-up: the cursor over stamped rows", function () {
  this.timeout(60_000);
  let dir: string;
  let db: Db;
  let ctx: ServiceContext;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-catch-up-"));
    db = await openDatabase(path.join(dir, "t.sqlite"));
    await db.insertInto("parties").values(["pty_d", "pty_s", "pty_t", "pty_u"].map(partyRow)).execute();
    ctx = offChainContext(db);
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lets go of the ids of a bulk update once its instant is settled, and still sees what comes after", async () => {
    const old = new Date(Date.now() - STAMP_SETTLE_MS - 5_000).toISOString();
    for (let i = 0; i < BULK; i += 500) {
      const rows = [];
      for (let k = i; k < i + 500; k++) rows.push(receivable(`rcv_bulk${k}`, "pty_s", old));
      await db.insertInto("receivables").values(rows).execute();
    }
    await catchUpRisk(ctx); // the first look: everyone, and the cursors from the book
    const first = await storedCursor(db);
    expect(first.receivables.at).to.equal(old);
    expect(first.receivables.ids, "ids kept for a settled instant").to.have.length(0);

    // A quiet look refreshes nobody and leaves the cursor as it was.
    expect(await catchUpRisk(ctx)).to.deep.equal([]);
    expect(await storedCursor(db)).to.deep.equal(first);

    // A new row is seen, once.
    await db
      .insertInto("receivables")
      .values(receivable("rcv_new", "pty_t", nowIso()))
      .execute();
    expect((await catchUpRisk(ctx)).sort()).to.deep.equal(["pty_d", "pty_t"]);
    expect(await catchUpRisk(ctx)).to.deep.equal([]);
  });

  it("still sees a row written later at the cursor's instant while that instant is recent", async () => {
    await catchUpRisk(ctx);
    const recent = nowIso();
    await db
      .insertInto("receivables")
      .values(receivable("rcv_a", "pty_t", recent))
      .execute();
    expect((await catchUpRisk(ctx)).sort()).to.deep.equal(["pty_d", "pty_t"]);
    expect((await storedCursor(db)).receivables).to.deep.equal({ at: recent, ids: ["rcv_a"] });

    // Stamped at the same instant, committed after the look: not lost, not seen twice.
    await db
      .insertInto("receivables")
      .values(receivable("rcv_b", "pty_u", recent))
      .execute();
    expect((await catchUpRisk(ctx)).sort()).to.deep.equal(["pty_d", "pty_u"]);
    expect(await catchUpRisk(ctx)).to.deep.equal([]);
  });
});
