// Limit checks share a party's rescore (risk/shared-refresh.ts, issue 12). At a month-end every
// confirmation names the same debtor, and each one rescored its whole history behind the
// refresh lock. Callers arriving while one refresh of the party runs now share the next one;
// each still gets a score computed from a start after its own arrival.
import { expect } from "chai";
import { partyRow, receivableRow, tradeDocuments } from "../../helpers/party-row.js";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type CompiledQuery } from "kysely";
import { openDatabase } from "../../../server/store/database.js";
import type { Database } from "../../../server/store/schema.js";
import { toParty } from "../../../server/store/parties-store.js";
import { creditTerms } from "../../../server/risk/limits.js";
import { createLogger } from "../../../server/logging.js";
import type { ServiceContext } from "../../../server/context.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** A sale of 10 units by pty_s to pty_d, awaiting confirmation. */
const receivable = (n: number) => ({
  ...receivableRow(`r${n}`, "pty_s", "pty_d", tradeDocuments(n, 10, "2026-01-04T00:00:00.000Z")),
  face_value: "10000000",
  net_value: "10000000",
});

describe("Risk: limit checks share a party's rescore", function () {
  let dir: string;
  let db: Kysely<Database>;
  let ctx: ServiceContext;
  const ran: CompiledQuery[] = [];
  const seller = toParty(partyRow("pty_s"));
  /** How many times the seller was rescored: each refresh reads its stored score once. */
  const rescores = () => ran.filter((q) => /from "risk_scores"/.test(q.sql) && q.parameters.includes("pty_s")).length;

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-shared-refresh-"));
    const file = path.join(dir, "tierline.db");
    await (await openDatabase(file)).destroy(); // migrated
    ran.length = 0;
    db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new SQLite(file) }),
      log: (event) => {
        if (event.level === "query") ran.push(event.query);
      },
    });
    ctx = {
      db,
      now: () => new Date("2026-02-01T00:00:00.000Z"),
      log: createLogger("silent"),
    } as unknown as ServiceContext;
    await db
      .insertInto("parties")
      .values([partyRow("pty_s"), partyRow("pty_d")])
      .execute();
    await db.insertInto("receivables").values(receivable(1)).execute();
  });
  afterEach(async function () {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("rescores twice for eight concurrent checks: the one under way, then one for everyone who arrived meanwhile", async function () {
    const terms = await Promise.all(Array.from({ length: 8 }, () => creditTerms(ctx, seller)));
    expect(rescores()).to.equal(2);
    expect(new Set(terms.map((t) => t.score.score)).size).to.equal(1);
  });

  it("never answers a check with a score computed before the check arrived", async function () {
    const first = creditTerms(ctx, seller); // under way from here
    await db.insertInto("receivables").values(receivable(2)).execute();
    const second = await creditTerms(ctx, seller); // arrives after the second sale was committed
    const deliveries = (t: Awaited<typeof first>) =>
      t.score.factors.find((f) => f.name === "onTimeDelivery")!.inputs.deliveries;
    expect(deliveries(second)).to.equal(2);
    expect(deliveries(await first)).to.be.oneOf([1, 2]);
    // Later checks rescore again: nothing is kept beyond the callers waiting at the time.
    await creditTerms(ctx, seller);
    expect(rescores()).to.equal(3);
  });
});
