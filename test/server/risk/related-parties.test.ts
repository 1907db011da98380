// A rescore flags trades with related parties: those the party lists, and the counterparties
// that list it. The second set came from reading every counterparty's related_party_ids at
// each rescore (a core enterprise's thousands of suppliers, at every confirmation: issue 12);
// triggers now keep the lists as party_relations rows (migration 0024), and the parties that
// name one party are one indexed read. The kept rows must answer as the lists do, whatever
// writes the parties, on both engines; the migration must take in the parties already there.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type PluginTransformQueryArgs } from "kysely";
import { openDatabase, type Db } from "../../../server/store/database.js";
import { toParty } from "../../../server/store/parties-store.js";
import { relatedPartiesOf } from "../../../server/risk/history.js";
import type { ServiceContext } from "../../../server/context.js";
import { mulberry32 } from "../../../server/risk/network/centrality.js";
import { partyRow } from "../../helpers/party-row.js";
import { databaseAtMigration, openEngineDatabase } from "../../helpers/engine-database.js";

const IDS = Array.from({ length: 8 }, (_, i) => `pty_${i}`);

/** What the lists say: the party's own, and the counterparties whose lists name it. */
function fromLists(lists: Map<string, string[]>, partyId: string, counterparties: string[]): string[] {
  const related = new Set(lists.get(partyId) ?? []);
  for (const id of counterparties) if (lists.get(id)?.includes(partyId)) related.add(id);
  return [...related].sort();
}

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`risk: related parties from the kept relations (${engine})`, function () {
    this.timeout(120_000);
    let dir: string;
    let db: Db;

    beforeEach(async function () {
      dir = mkdtempSync(path.join(tmpdir(), "related-parties-"));
      db = await openEngineDatabase(engine, dir);
    });
    afterEach(async function () {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it("answers as the parties' lists do after each of 150 random party writes", async function () {
      const random = mulberry32(engine === "sqlite" ? 5 : 6);
      const pick = <T>(values: T[]) => values[Math.floor(random() * values.length)]!;
      const someOf = () => IDS.filter(() => random() < 0.3);
      const lists = new Map<string, string[]>();
      for (let step = 0; step < 150; step++) {
        const id = pick(IDS);
        const roll = random();
        if (!lists.has(id)) {
          const related = someOf();
          lists.set(id, related);
          await db
            .insertInto("parties")
            .values({ ...partyRow(id), related_party_ids: JSON.stringify(related) })
            .execute();
        } else if (roll < 0.7) {
          const related = roll < 0.1 ? lists.get(id)! : someOf(); // sometimes the same list again
          lists.set(id, related);
          await db
            .updateTable("parties")
            .set({ related_party_ids: JSON.stringify(related), status: "active" })
            .where("id", "=", id)
            .execute();
        } else {
          lists.delete(id);
          await db.deleteFrom("parties").where("id", "=", id).execute();
        }
        for (const partyId of lists.keys()) {
          const party = toParty({ ...partyRow(partyId), related_party_ids: JSON.stringify(lists.get(partyId)) });
          const counterparties = IDS.filter(() => random() < 0.6);
          const kept = await relatedPartiesOf({ db } as ServiceContext, party, counterparties);
          expect([...kept].sort(), `step ${step}, ${partyId}`).to.deep.equal(fromLists(lists, partyId, counterparties));
        }
      }
    });

    it("takes in the parties already there when the triggers are added (migration 0024)", async function () {
      const { db: old, migrateToLatest } = await databaseAtMigration(
        engine,
        dir,
        "0023_party_history_changes_on_postgres",
      );
      try {
        await old
          .insertInto("parties")
          .values([
            { ...partyRow("pty_a"), related_party_ids: JSON.stringify(["pty_b", "pty_c"]) },
            { ...partyRow("pty_b"), related_party_ids: "[]" },
            { ...partyRow("pty_c"), related_party_ids: JSON.stringify(["pty_a"]) },
          ])
          .execute();
        await migrateToLatest();
        const rows = await old
          .selectFrom("party_relations")
          .select(["party_id", "related_id"])
          .orderBy("party_id")
          .orderBy("related_id")
          .execute();
        expect(rows).to.deep.equal([
          { party_id: "pty_a", related_id: "pty_b" },
          { party_id: "pty_a", related_id: "pty_c" },
          { party_id: "pty_c", related_id: "pty_a" },
        ]);
      } finally {
        await old.destroy();
      }
    });
  });
}

describe("risk: a rescore does not read its counterparties' lists", function () {
  it("finds the counterparties that name the party without reading the parties table", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "related-reads-"));
    const db = await openDatabase(path.join(dir, "tierline.db"));
    try {
      const suppliers = Array.from({ length: 300 }, (_, i) => `pty_s${i}`);
      await db
        .insertInto("parties")
        .values([
          partyRow("pty_debtor"),
          ...suppliers.map((id, i) => ({
            ...partyRow(id),
            related_party_ids: JSON.stringify(i % 100 === 7 ? ["pty_debtor"] : []),
          })),
        ])
        .execute();
      const tables: string[] = [];
      const watched = db.withPlugin({
        transformQuery(args: PluginTransformQueryArgs) {
          const node = args.node as { from?: { froms: { table?: { identifier?: { name?: string } } }[] } };
          tables.push(...(node.from?.froms ?? []).map((f) => f.table?.identifier?.name ?? "?"));
          return args.node;
        },
        transformResult: async (args) => args.result,
      });
      const related = await relatedPartiesOf(
        { db: watched } as ServiceContext,
        toParty(partyRow("pty_debtor")),
        suppliers,
      );
      expect([...related].sort()).to.deep.equal(["pty_s107", "pty_s207", "pty_s7"]);
      expect(tables).to.not.include("parties");
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
