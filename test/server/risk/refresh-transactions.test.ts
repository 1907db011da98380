// A refresh stores the scores of the parties it rescored in one transaction. It opened one a
// party: a confirmation rescores its seller and its debtor, so two or three transactions (two
// or three fsyncs on SQLite) a registration went to scores alone. What must not change: each
// party's score row, its history when the score moved, and nothing new in the history when it
// did not.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { countTransactions } from "../../helpers/count-transactions.js";
import { offChainContext } from "../../helpers/off-chain-context.js";
import { partyRow, receivableRow } from "../../helpers/party-row.js";
import { openDatabase, type Db } from "../../../server/store/database.js";
import { refreshRisk } from "../../../server/risk/refresh.js";
import type { ServiceContext } from "../../../server/context.js";

const PARTIES = ["pty_d", "pty_s", "pty_t", "pty_u"];

describe("risk refresh: one transaction for the parties it rescores", function () {
  this.timeout(60_000);
  let dir: string;
  let db: Db;
  let ctx: ServiceContext;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-refresh-"));
    db = await openDatabase(path.join(dir, "t.sqlite"));
    await db.insertInto("parties").values(PARTIES.map(partyRow)).execute();
    await db
      .insertInto("receivables")
      .values([receivableRow("rcv_1", "pty_s", "pty_d"), receivableRow("rcv_2", "pty_t", "pty_d")])
      .execute();
    ctx = offChainContext(db);
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores four parties' scores and their first history rows in one transaction", async () => {
    const transactions = countTransactions(db);
    const results = await refreshRisk(ctx, [...PARTIES, "pty_unknown"]);
    expect(transactions()).to.equal(1); // one a party before: 4
    expect([...results.keys()].sort()).to.deep.equal(PARTIES);

    const scores = await db.selectFrom("risk_scores").select(["party_id", "score"]).orderBy("party_id").execute();
    expect(scores).to.deep.equal(PARTIES.map((id) => ({ party_id: id, score: results.get(id)!.score })));
    const history = await db.selectFrom("risk_score_history").select("party_id").orderBy("party_id").execute();
    expect(history.map((row) => row.party_id)).to.deep.equal(PARTIES);
  });

  it("adds no history when no score moved, and opens no transaction for parties it does not know", async () => {
    await refreshRisk(ctx, PARTIES);
    const transactions = countTransactions(db);
    await refreshRisk(ctx, PARTIES);
    expect(transactions()).to.equal(1);
    expect(await db.selectFrom("risk_score_history").select("party_id").execute()).to.have.length(PARTIES.length);
    await refreshRisk(ctx, ["pty_nobody"]);
    expect(transactions()).to.equal(1);
  });
});
