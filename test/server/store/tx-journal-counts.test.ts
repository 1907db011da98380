// GET /metrics reports the transaction journal by kind and state (tierline_transactions). It
// counted the whole journal at every scrape; triggers now keep the counts (migration 0028,
// store/tx-journal-count-triggers.ts). On both engines: the kept counts equal the journal's
// own after random inserts, state changes and deletes, and a journal written before the
// migration is counted when the triggers are added.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { mulberry32 } from "../../../server/risk/network/centrality.js";
import type { Kysely } from "kysely";
import type { Db } from "../../../server/store/database.js";
import type { TxJournalState } from "../../../server/model/row-statuses.js";
import { databaseAtMigration, openEngineDatabase, type Engine } from "../../helpers/engine-database.js";

const KINDS = ["register", "split", "fund"];
const STATES: TxJournalState[] = ["sent", "mined", "failed", "unconfirmed"];
const STEPS = 300;

const journalRow = (kind: string, state: TxJournalState, nonce: number) => ({
  kind,
  ref: `ref-${nonce}`,
  signer: "0x00000000000000000000000000000000000000a1",
  nonce,
  tx_hash: `0x${nonce.toString(16)}`,
  state,
  error: null,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
});

/** "kind state" -> count, from the kept rows or from the journal itself; zero counts left out. */
async function kept(db: Kysely<any>): Promise<Record<string, number>> {
  const rows = await db.selectFrom("tx_journal_counts").select(["kind", "state", "count"]).execute();
  return Object.fromEntries(
    rows.filter((r) => Number(r.count) !== 0).map((r) => [`${r.kind} ${r.state}`, Number(r.count)]),
  );
}
async function counted(db: Kysely<any>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("tx_journal")
    .select(["kind", "state", (eb) => eb.fn.countAll().as("n")])
    .groupBy(["kind", "state"])
    .execute();
  return Object.fromEntries(rows.map((r) => [`${r.kind} ${r.state}`, Number(r.n)]));
}

for (const engine of ["sqlite", "postgres"] as Engine[]) {
  describe(`store: the journal's counts by kind and state, kept for /metrics (${engine})`, function () {
    let dir: string;
    beforeEach(function () {
      dir = mkdtempSync(path.join(tmpdir(), "tierline-journal-counts-"));
    });
    afterEach(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it(`equal the journal's own after each of ${STEPS} random inserts, state changes and deletes`, async function () {
      const db: Db = await openEngineDatabase(engine, dir);
      try {
        const next = mulberry32(engine === "sqlite" ? 7 : 11);
        const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
        for (let step = 0; step < STEPS; step++) {
          const ids = (await db.selectFrom("tx_journal").select("id").execute()).map((r) => r.id);
          const roll = next();
          if (roll < 0.5 || ids.length === 0) {
            await db
              .insertInto("tx_journal")
              .values(journalRow(pick(KINDS), pick(STATES), step))
              .execute();
          } else if (roll < 0.85) {
            // A state change, sometimes to the state it has (no change), sometimes of several rows at once.
            const some = ids.filter(() => next() < 0.3);
            if (some.length)
              await db
                .updateTable("tx_journal")
                .set({ state: pick(STATES) })
                .where("id", "in", some)
                .execute();
          } else {
            await db.deleteFrom("tx_journal").where("id", "=", pick(ids)).execute();
          }
          expect(await kept(db), `after step ${step}`).to.deep.equal(await counted(db));
        }
        expect(Object.keys(await counted(db)).length).to.be.at.least(4);
        // No row is left for a kind and state nothing is in.
        const rows = await db.selectFrom("tx_journal_counts").select("count").execute();
        expect(rows.every((r) => Number(r.count) > 0)).to.equal(true);
      } finally {
        await db.destroy();
      }
    });

    it("counts a journal written before migration 0028 when the triggers are added", async function () {
      const { db, migrateToLatest } = await databaseAtMigration(engine, dir, "0027_party_owes_by_due");
      try {
        for (let n = 0; n < 12; n++)
          await db
            .insertInto("tx_journal")
            .values(journalRow(KINDS[n % 3]!, STATES[n % 4]!, n))
            .execute();
        await migrateToLatest();
        expect(await kept(db)).to.deep.equal(await counted(db));
        expect(Object.values(await kept(db)).reduce((a, b) => a + b, 0)).to.equal(12);
      } finally {
        await db.destroy();
      }
    });
  });
}
