// Every list is served by an index: SQLite's EXPLAIN QUERY PLAN of each list query (first
// page and a later page, with each filter) reads its main table through an index (SEARCH
// ... USING INDEX, or a range of the primary key), never by a full SCAN of the table.
import { expect } from "chai";
import { sql, type Compilable } from "kysely";
import { openDatabase, type Db } from "../../../server/store/database.js";
import type { ServiceContext } from "../../../server/context.js";
import {
  ListReceivablesQuery,
  receivableListQuery,
  RECEIVABLE_ORDER,
} from "../../../server/domain/list-receivables.js";
import { encodeCursor } from "../../../server/model/page.js";

describe("Store: every list query is answered from an index", function () {
  let db: Db;
  let explain: (query: Compilable) => Promise<string[]>;

  before(async function () {
    db = await openDatabase(":memory:");
    explain = async (query) => {
      const { sql: text, parameters } = query.compile();
      // EXPLAIN QUERY PLAN takes the same parameters as the statement.
      const rows = await db.executeQuery<{ detail: string }>({
        sql: `EXPLAIN QUERY PLAN ${text}`,
        parameters,
        query: query.compile().query,
        queryId: query.compile().queryId,
      });
      return rows.rows.map((r) => r.detail);
    };
  });
  after(async function () {
    await db?.destroy();
  });

  const ctx = () => ({ db }) as unknown as ServiceContext;
  const laterPage = encodeCursor(["2026-11-26T00:00:00.000Z", "0x" + "a".repeat(64)]);

  /** The plan reads `table` (by alias) through an index, and scans no table whole. */
  function expectIndexed(plan: string[], alias: string) {
    const text = plan.join("\n");
    expect(text, text).to.match(
      new RegExp(`SEARCH ${alias} USING (COVERING )?(INDEX|INTEGER PRIMARY KEY|PRIMARY KEY)`),
    );
    for (const line of plan) expect(line, text).not.to.match(/^SCAN \w+$/);
  }

  const receivableCases: Array<[string, Record<string, string>]> = [
    ["a seller's submissions", { partyId: "pty_a", as: "seller" }],
    [
      "a debtor's receivables awaiting its confirmation",
      { partyId: "pty_a", as: "debtor", status: "awaiting_confirmation" },
    ],
    ["the operator's held_for_review queue", { status: "held_for_review" }],
    ["a party's receivables, both sides", { partyId: "pty_a" }],
    [
      "with a counterparty and a due-date range",
      { partyId: "pty_a", as: "seller", counterpartyId: "pty_b", dueFrom: "2026-01-01", dueTo: "2027-01-01" },
    ],
    ["with a chain status", { status: "overdue" }],
  ];
  for (const [what, raw] of receivableCases) {
    for (const cursor of [undefined, laterPage]) {
      it(`receivables: ${what}${cursor ? " (a later page)" : ""}`, async function () {
        const query = ListReceivablesQuery.parse({ ...raw, ...(cursor ? { cursor } : {}) });
        let q = receivableListQuery(ctx(), raw.partyId, query);
        for (const c of RECEIVABLE_ORDER.columns) q = q.orderBy(sql.ref(c), "desc");
        const plan = await explain(q.limit(51));
        expectIndexed(plan, raw.status === "overdue" ? "c" : "r");
      });
    }
  }

  it("parties by status, in id order", async function () {
    const plan = await explain(
      db
        .selectFrom("parties")
        .selectAll()
        .where("status", "=", "active")
        .where("id", ">", "pty_x")
        .orderBy("id")
        .limit(51),
    );
    expectIndexed(plan, "parties");
  });

  it("a holder's certificates", async function () {
    const plan = await explain(
      db
        .selectFrom("onchain_certificates")
        .selectAll()
        .where("holder", "=", "0xabc")
        .where("state", "in", ["live", "locked"])
        .orderBy("issued_block")
        .orderBy("id")
        .limit(51),
    );
    expectIndexed(plan, "onchain_certificates");
  });

  it("the open market", async function () {
    const plan = await explain(
      db
        .selectFrom("onchain_financing_requests")
        .selectAll()
        .where("status", "=", "open")
        .orderBy("opened_block")
        .orderBy("id")
        .limit(51),
    );
    expectIndexed(plan, "onchain_financing_requests");
  });

  it("a receivable's repayment events (audit)", async function () {
    const plan = await explain(
      db
        .selectFrom("chain_events")
        .selectAll()
        .where("contract", "=", "escrow")
        .where("name", "=", "RepaymentReceived")
        .orderBy("block_number")
        .orderBy("log_index"),
    );
    expectIndexed(plan, "chain_events");
  });

  it("webhook endpoints, deliveries and the dispatcher's queues", async function () {
    expectIndexed(
      await explain(
        db
          .selectFrom("webhook_endpoints")
          .selectAll()
          .where("party_id", "=", "pty_a")
          .where("status", "=", "active")
          .orderBy("created_at")
          .orderBy("id")
          .limit(51),
      ),
      "webhook_endpoints",
    );
    expectIndexed(
      await explain(
        db
          .selectFrom("webhook_deliveries")
          .selectAll()
          .where("endpoint_id", "=", "whe_a")
          .where("id", "<", 9)
          .orderBy("id", "desc")
          .limit(51),
      ),
      "webhook_deliveries",
    );
    expectIndexed(
      await explain(
        db
          .selectFrom("webhook_deliveries")
          .selectAll()
          .where("state", "=", "pending")
          .where("next_attempt_at", "<=", 1)
          .orderBy("next_attempt_at")
          .limit(20),
      ),
      "webhook_deliveries",
    );
    expectIndexed(
      await explain(db.selectFrom("webhook_outbox").selectAll().where("fanned_out", "=", 0).orderBy("seq").limit(100)),
      "webhook_outbox",
    );
  });
});
