// Every list is served by an index: SQLite's EXPLAIN QUERY PLAN of each list query (first
// page and a later page, with each filter) reads its main table through an index (SEARCH
// ... USING INDEX, or a range of the primary key), never by a full SCAN of the table. The
// receivables, market, holdings and repayments lists are explained as the service runs them
// (the use case's query and the keyset page over it).
import { expect } from "chai";
import { Kysely, SqliteDialect, sql, type Compilable } from "kysely";
import { openDatabase, type Db } from "../../../server/store/database.js";
import type { ServiceContext } from "../../../server/context.js";
import {
  ListReceivablesQuery,
  receivableListQuery,
  RECEIVABLE_ORDER,
} from "../../../server/domain/list-receivables.js";
import { encodeCursor } from "../../../server/model/page.js";
import { keysetQuery } from "../../../server/store/paginate.js";
import {
  FUNDED_REQUESTS_ORDER,
  fundedRequestsQuery,
  HELD_CERTIFICATES_ORDER,
  heldCertificatesQuery,
  OWED_RECEIVABLES_ORDER,
  owedReceivablesQuery,
  requestsOnQuery,
} from "../../../server/domain/audit/exposure-lists.js";
import SQLite from "better-sqlite3";
import { Migrator } from "kysely/migration";
import { migrations } from "../../../server/store/migrations.js";
import { ListRepaymentsQuery, REPAYMENT_ORDER, repaymentEventsQuery } from "../../../server/domain/repayments.js";
import { ListFinancingRequestsQuery, MARKET_ORDER, marketListQuery } from "../../../server/domain/financing.js";
import { HOLDINGS_ORDER, holdingsListQuery, ListHoldingsQuery } from "../../../server/domain/certificates.js";
import type { Actor } from "../../../server/model/actor.js";
import { ALERTS_ORDER, alertsListQuery, ListAlertsQuery } from "../../../server/risk/alerts.js";
import {
  DISPUTE_REVIEW_ORDER,
  DisputeListQuery,
  disputesInStatusQuery,
} from "../../../server/domain/dispute-dismissal.js";

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

  /** The plan reads `alias` in the list's order from an index (a SEARCH, or a SCAN of an index
   * when the list has no filter), sorts nothing in a temporary tree, and scans no table whole. */
  function expectIndexOrdered(plan: string[], alias: string) {
    const text = plan.join("\n");
    expect(text, text).to.match(new RegExp(`(SEARCH|SCAN) ${alias} USING (COVERING )?INDEX`));
    expect(text, text).not.to.match(/USE TEMP B-TREE FOR ORDER BY/);
    for (const line of plan) expect(line, text).not.to.match(/^SCAN \w+$/);
  }

  const operator = {
    id: "pty_operator",
    roles: ["operator"],
    address: "0x00000000000000000000000000000000000000a0",
  } as unknown as Actor;
  const supplier = {
    id: "pty_s",
    roles: ["supplier"],
    address: "0x00000000000000000000000000000000000000a1",
  } as unknown as Actor;
  const marketCases: Array<[string, Actor, Record<string, string>]> = [
    ["the open market, as a financier sees it", operator, { status: "open" }],
    ["the whole book (operator, auditor, financier)", operator, {}],
    ["the market as a supplier sees it: open requests and its own", supplier, {}],
  ];
  for (const [what, actor, raw] of marketCases) {
    for (const cursor of [undefined, encodeCursor([120, "7"])]) {
      it(`financing requests: ${what}${cursor ? " (a later page)" : ""}`, async function () {
        const query = ListFinancingRequestsQuery.parse({ ...raw, ...(cursor ? { cursor } : {}) });
        const plan = await explain(keysetQuery(marketListQuery(ctx(), actor, query), MARKET_ORDER, query));
        if (actor === supplier)
          expectIndexed(plan, "r"); // an OR of three index ranges, then sorted
        else expectIndexOrdered(plan, "r");
      });
    }
  }

  for (const cursor of [undefined, encodeCursor([120, "7"])]) {
    it(`a holder's certificates, in issue order${cursor ? " (a later page)" : ""}`, async function () {
      const query = ListHoldingsQuery.parse(cursor ? { cursor } : {});
      const plan = await explain(keysetQuery(holdingsListQuery(ctx(), "0xabc"), HOLDINGS_ORDER, query));
      expectIndexed(plan, "onchain_certificates");
      expect(plan.join("\n")).not.to.match(/USE TEMP B-TREE FOR ORDER BY/);
    });
  }

  // The four lists of a party's exposure report (issue 12): each page one range of an index, in
  // the list's order, joined to the rows it shows by primary key.
  const exposureCases: Array<[string, () => Compilable, string, string]> = [];
  for (const cursor of [undefined, encodeCursor([120, "7"])]) {
    const page = { cursor, limit: 50 };
    const later = cursor ? " (a later page)" : "";
    exposureCases.push(
      [
        `the certificates a party holds${later}`,
        () => keysetQuery(heldCertificatesQuery(db, "0xabc"), HELD_CERTIFICATES_ORDER, page),
        "c",
        "certificates_by_holder_issued",
      ],
      [
        `the receivables a debtor owes, soonest due first${later}`,
        () => keysetQuery(owedReceivablesQuery(db, "0xabc"), OWED_RECEIVABLES_ORDER, page),
        "r",
        "onchain_receivables_by_debtor_due",
      ],
      [
        `a financier's pledges${later}`,
        () =>
          keysetQuery(
            fundedRequestsQuery(db, "0xabc").where("f.kind", "=", "pledge").where("f.status", "=", "pledged"),
            FUNDED_REQUESTS_ORDER,
            page,
          ),
        "f",
        "financing_by_financier_opened",
      ],
    );
  }
  exposureCases.push([
    "the requests on a page of certificates (for their pledges)",
    () => requestsOnQuery(db, ["1", "2", "3"]),
    "onchain_financing_requests",
    "financing_by_certificate",
  ]);
  for (const [what, query, alias, index] of exposureCases) {
    it(`exposure: ${what}`, async function () {
      const plan = await explain(query());
      expectIndexOrdered(plan, alias);
      expect(plan.join("\n")).to.include(index);
    });
  }

  for (const cursor of [undefined, encodeCursor([42])]) {
    const later = cursor ? " (a later page)" : "";
    it(`one party's risk alerts, newest first${later}`, async function () {
      const query = ListAlertsQuery.parse({ partyId: "pty_a", ...(cursor ? { cursor } : {}) });
      const plan = await explain(keysetQuery(alertsListQuery(ctx(), query), ALERTS_ORDER, query));
      expectIndexed(plan, "a");
      expect(plan.join("\n")).not.to.match(/USE TEMP B-TREE FOR ORDER BY/);
    });
    it(`every risk alert, newest first${later}: read in key order, stopping at the page`, async function () {
      const query = ListAlertsQuery.parse(cursor ? { cursor } : {});
      const plan = await explain(keysetQuery(alertsListQuery(ctx(), query), ALERTS_ORDER, query));
      const text = plan.join("\n");
      expect(text, text).not.to.match(/USE TEMP B-TREE FOR ORDER BY/);
      if (cursor) expect(text, text).to.match(/SEARCH a USING INTEGER PRIMARY KEY/);
    });
  }

  for (const cursor of [undefined, encodeCursor([42, "42:1"])]) {
    it(`disputes in one status, oldest first (the dispute review queue)${cursor ? " (a later page)" : ""}`, async function () {
      const query = DisputeListQuery.parse({ status: "open", ...(cursor ? { cursor } : {}) });
      const plan = await explain(keysetQuery(disputesInStatusQuery(ctx(), query.status), DISPUTE_REVIEW_ORDER, query));
      expectIndexed(plan, "onchain_disputes");
      expect(plan.join("\n"))
        .to.include("disputes_by_status")
        .and.not.match(/USE TEMP B-TREE FOR ORDER BY/);
    });
  }

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

  for (const cursor of [undefined, encodeCursor([120, 3])]) {
    it(`a receivable's repayments, in chain order${cursor ? " (a later page)" : ""}`, async function () {
      const query = ListRepaymentsQuery.parse(cursor ? { cursor } : {});
      const plan = await explain(
        keysetQuery(repaymentEventsQuery(ctx(), "0x" + "b".repeat(64)), REPAYMENT_ORDER, query),
      );
      expectIndexed(plan, "chain_events");
      expect(plan.join("\n"), plan.join("\n")).to.match(/USING (COVERING )?INDEX chain_events_by_receivable/);
      expect(plan.join("\n")).not.to.match(/USE TEMP B-TREE FOR ORDER BY/);
    });
  }

  it("names the receivable of every event a database migrated from before 0012 already held", async function () {
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(":memory:") }) });
    try {
      const { error } = await new Migrator({ db: old, provider: { getMigrations: async () => migrations } }).migrateTo(
        "0011_lists_and_webhooks",
      );
      expect(error).to.equal(undefined);
      const event = (logIndex: number, args: Record<string, unknown>) => ({
        block_number: 7,
        log_index: logIndex,
        block_hash: "0x",
        tx_hash: "0x",
        contract: "escrow",
        name: "RepaymentReceived",
        args: JSON.stringify(args),
      });
      await old
        .insertInto("chain_events")
        .values([event(0, { receivableId: "0xr1", amount: "5" }), event(1, { certificateId: "9" })])
        .execute();
      const { error: latest } = await new Migrator({
        db: old,
        provider: { getMigrations: async () => migrations },
      }).migrateToLatest();
      expect(latest).to.equal(undefined);
      const rows = await old
        .selectFrom("chain_events")
        .select(["log_index", "receivable_id"])
        .orderBy("log_index")
        .execute();
      expect(rows).to.deep.equal([
        { log_index: 0, receivable_id: "0xr1" },
        { log_index: 1, receivable_id: null },
      ]);
    } finally {
      await old.destroy();
    }
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
