// A party's risk history rows are kept and refreshed from the change log the triggers fill
// (risk/history-rows.ts; SQLite: migration 0019, PostgreSQL: 0023). Kept rows must always be
// the rows a full read gives, on both engines, whatever changed in between: new receivables, status and amount changes,
// deletions, rows moving to another party, on-chain rows appearing, changing and going, and
// changes to columns the history does not read. And a refresh after one change must read
// that receivable only, not the party's whole book (issue 12: 0.12 s at 25,000 receivables).
// On PostgreSQL a change logged first can commit last: the refresh between must not skip it.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Kysely, PostgresDialect, type CompiledQuery } from "kysely";
import pg from "pg";
import { partyRow as party, receivableRow } from "../../helpers/party-row.js";
import { openDatabase, type Db, type DatabaseTarget } from "../../../server/store/database.js";
import type { Database } from "../../../server/store/schema.js";
import { toParty } from "../../../server/store/parties-store.js";
import {
  forgetHistoryRows,
  historyRowsOf,
  pruneHistoryChanges,
  type HistoryRows,
} from "../../../server/risk/history-rows.js";
import { loadPartyHistory } from "../../../server/risk/history.js";
import type { ServiceContext } from "../../../server/context.js";
import { capturingDatabase } from "../store/captured-plans.js";
import { mulberry32 } from "../../../server/risk/network/centrality.js";
import { freshDatabaseUrl } from "../../helpers/postgres.js";

const PARTIES = ["pty_d", "pty_s", "pty_x"];
const addressOf = (id: string) => party(id).address;

function receivable(id: string, seller: string, debtor: string, face: number) {
  return { ...receivableRow(id, seller, debtor), face_value: String(face), net_value: String(face) };
}

function onchain(id: string, debtor: string, face: number) {
  return {
    id,
    seller: addressOf("pty_s"),
    debtor: addressOf(debtor),
    registrar: "0x",
    face_value: String(face),
    repaid_amount: "0",
    due_date: 1_780_000_000,
    document_hash: "0x",
    root_certificate_id: id,
    status: "active",
    register_tx_hash: "0x",
    registered_block: 1,
  };
}

const sorted = (rows: HistoryRows) => ({
  submitted: [...rows.submitted].sort((a, b) => a.id.localeCompare(b.id)),
  owed: [...rows.owed].sort((a, b) => a.id.localeCompare(b.id)),
});

/** A handle on the same database that records every statement it runs. */
function capturingHandle(target: DatabaseTarget, ran: CompiledQuery[]): Kysely<Database> {
  if (!target.url) return capturingDatabase(target.file, ran);
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: target.url, max: 2 }) }),
    log: (event) => {
      if (event.level === "query") ran.push(event.query);
    },
  });
}

for (const engine of ["sqlite", "postgres"] as const)
  describe(`Risk history rows: kept per party, refreshed from the change log (${engine})`, function () {
    this.timeout(120_000);
    let dir: string;
    let target: DatabaseTarget;
    let db: Db;
    let reader: Db; // a second handle: its first read of a party is a full read

    beforeEach(async function () {
      dir = mkdtempSync(path.join(tmpdir(), "history-rows-"));
      target =
        engine === "sqlite" ? { file: path.join(dir, "tierline.db") } : { url: await freshDatabaseUrl(), file: "" };
      db = await openDatabase(target);
      reader = await openDatabase(target);
      await db.insertInto("parties").values(PARTIES.map(party)).execute();
      // Enough rows that the debtor's history is kept.
      const rows = Array.from({ length: 600 }, (_, i) => receivable(`r${i}`, "pty_s", "pty_d", 1_000 + i));
      for (let i = 0; i < rows.length; i += 200)
        await db
          .insertInto("receivables")
          .values(rows.slice(i, i + 200))
          .execute();
      await db
        .insertInto("onchain_receivables")
        .values(Array.from({ length: 100 }, (_, i) => onchain(`r${i}`, "pty_d", 1_000 + i)))
        .execute();
    });
    afterEach(async function () {
      await db.destroy();
      await reader.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it("are, after each of 400 random changes, the rows a full read gives, for every party", async function () {
      const random = mulberry32(12); // seeded: every run replays the same sequence of changes
      const pick = <T>(values: T[]) => values[Math.floor(random() * values.length)]!;
      let next = 600;
      const ids = () => Array.from({ length: next }, (_, i) => `r${i}`);
      const changes: Array<() => Promise<unknown>> = [
        () =>
          db
            .insertInto("receivables")
            .values(receivable(`r${next++}`, pick(PARTIES), pick(PARTIES), 7))
            .execute(),
        () =>
          db
            .updateTable("receivables")
            .set({ status: pick(["confirming", "registered", "rejected"]) as never })
            .where("id", "=", pick(ids()))
            .execute(),
        () =>
          db
            .updateTable("receivables")
            .set({ face_value: String(Math.floor(random() * 1e6)) })
            .where("id", "=", pick(ids()))
            .execute(),
        // A receivable moving to another party: it leaves one history and joins the other.
        () =>
          db
            .updateTable("receivables")
            .set({ debtor_id: pick(PARTIES) })
            .where("id", "=", pick(ids()))
            .execute(),
        () => db.deleteFrom("receivables").where("id", "=", pick(ids())).execute(),
        // Not a column the history reads: nothing to refresh, and nothing may go stale.
        () =>
          db
            .updateTable("receivables")
            .set({ updated_at: "2026-02-01T00:00:00.000Z" })
            .where("id", "=", pick(ids()))
            .execute(),
        () =>
          db
            .insertInto("onchain_receivables")
            .values(onchain(pick(ids()), pick(PARTIES), 9))
            .onConflict((oc) => oc.column("id").doNothing())
            .execute(),
        () =>
          db
            .updateTable("onchain_receivables")
            .set({ repaid_amount: String(Math.floor(random() * 1_000)), status: pick(["active", "repaid", "overdue"]) })
            .where("id", "=", pick(ids()))
            .execute(),
        () =>
          db
            .updateTable("onchain_receivables")
            .set({ debtor: addressOf(pick(PARTIES)) })
            .where("id", "=", pick(ids()))
            .execute(),
        () => db.deleteFrom("onchain_receivables").where("id", "=", pick(ids())).execute(),
      ];
      let kept = 0;
      for (let step = 0; step < 400; step++) {
        // Sometimes several changes between two reads, sometimes none.
        for (let n = Math.floor(random() * 3); n > 0; n--) await pick(changes)();
        for (const id of PARTIES) {
          const p = toParty(party(id));
          const cached = await historyRowsOf(db, p);
          forgetHistoryRows(reader);
          const full = await historyRowsOf(reader, p);
          expect(sorted(cached), `${id} after step ${step}`).to.deep.equal(sorted(full));
          if (id === "pty_d") kept += 1;
        }
      }
      expect(kept).to.equal(400);
      const logged = await db
        .selectFrom("party_history_changes")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst();
      expect(Number(logged!.n)).to.be.greaterThan(1_300); // the setup's 1,300 (600 × 2 parties + 100), and the changes
    });

    it("reads only the changed receivable on the next look, not the party's whole book", async function () {
      const ran: CompiledQuery[] = [];
      const capturing = capturingHandle(target, ran) as unknown as Db;
      try {
        const ctx = { db: capturing, now: () => new Date("2026-02-01T00:00:00.000Z") } as unknown as ServiceContext;
        const debtor = toParty(party("pty_d"));
        const first = await loadPartyHistory(ctx, debtor);
        expect(first.trades).to.have.length(600);
        await db.updateTable("receivables").set({ status: "confirming" }).where("id", "=", "r7").execute();
        await db.updateTable("onchain_receivables").set({ repaid_amount: "5" }).where("id", "=", "r8").execute();
        ran.length = 0;
        const second = await loadPartyHistory(ctx, debtor);
        expect(second.trades.find((t) => t.receivableId === "r7")!.status).to.equal("confirming");
        expect(second.debts.find((d) => d.receivableId === "r8")!.repaidAmount).to.equal(5n);
        const reads = ran.filter((q) => /from "(receivables|onchain_receivables)"/.test(q.sql));
        expect(reads.length).to.be.greaterThan(0);
        for (const q of reads) expect(q.sql, "a read of the whole book").to.match(/"id" in \(/);
        // …and the two changed receivables are all it asked for.
        expect(
          reads.flatMap((q) => q.parameters.filter((v) => typeof v === "string" && /^r\d+$/.test(v))),
        ).to.have.members(["r7", "r7", "r8", "r8"]);
      } finally {
        await capturing.destroy();
      }
    });

    it("ends at the rows of a full read when looks overlap while changes land", async function () {
      const debtor = toParty(party("pty_d"));
      await historyRowsOf(db, debtor); // kept: later looks change its rows in place
      const looks: Promise<HistoryRows>[] = [];
      for (let i = 0; i < 30; i++) {
        await db
          .updateTable("receivables")
          .set({ face_value: String(i) })
          .where("id", "=", `r${i}`)
          .execute();
        looks.push(historyRowsOf(db, debtor));
      }
      for (const look of await Promise.all(looks)) expect(look.submitted).to.have.length(600);
      forgetHistoryRows(reader);
      expect(sorted(await historyRowsOf(db, debtor))).to.deep.equal(sorted(await historyRowsOf(reader, debtor)));
    });

    it("reads a kept history again in full once the log was pruned past the last change it saw", async function () {
      const debtor = toParty(party("pty_d"));
      await historyRowsOf(db, debtor); // kept, up to the last change so far
      await db.updateTable("receivables").set({ status: "rejected" }).where("id", "=", "r3").execute();
      await db.updateTable("onchain_receivables").set({ repaid_amount: "9" }).where("id", "=", "r4").execute();
      // The hourly pass keeps the last 0 changes: the two above are gone from the log.
      expect(await pruneHistoryChanges(db, 0)).to.be.greaterThan(1_300);
      const left = await db
        .selectFrom("party_history_changes")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst();
      expect(Number(left!.n)).to.equal(0);
      const kept = await historyRowsOf(db, debtor);
      expect(kept.submitted.find((r) => r.id === "r3")!.status).to.equal("rejected");
      expect(kept.owed.find((r) => r.id === "r4")!.repaid_amount).to.equal("9");
      forgetHistoryRows(reader);
      expect(sorted(kept)).to.deep.equal(sorted(await historyRowsOf(reader, debtor)));
      // Kept again after the cut: the next change is found in the log as before.
      await db.updateTable("receivables").set({ status: "confirming" }).where("id", "=", "r5").execute();
      expect((await historyRowsOf(db, debtor)).submitted.find((r) => r.id === "r5")!.status).to.equal("confirming");
      expect(await pruneHistoryChanges(db, 10)).to.equal(0); // one change logged since: nothing beyond the last 10
    });

    if (engine === "postgres")
      it("finds a change logged before a look but committed after it", async function () {
        const debtor = toParty(party("pty_d"));
        await historyRowsOf(db, debtor); // kept
        // A transaction changes r1 first (its log row takes the lower seq) and stays open…
        const slow = new pg.Client({ connectionString: target.url });
        await slow.connect();
        try {
          await slow.query("begin");
          await slow.query("update receivables set status = 'rejected' where id = 'r1'");
          // …while a later change to r2 commits, and a look reads it.
          await db.updateTable("receivables").set({ status: "confirming" }).where("id", "=", "r2").execute();
          const between = await historyRowsOf(db, debtor);
          expect(between.submitted.find((r) => r.id === "r2")!.status).to.equal("confirming");
          expect(between.submitted.find((r) => r.id === "r1")!.status).to.equal("awaiting_confirmation");
          await slow.query("commit");
        } finally {
          await slow.end();
        }
        const after = await historyRowsOf(db, debtor);
        expect(after.submitted.find((r) => r.id === "r1")!.status).to.equal("rejected");
        forgetHistoryRows(reader);
        expect(sorted(after)).to.deep.equal(sorted(await historyRowsOf(reader, debtor)));
      });
  });
