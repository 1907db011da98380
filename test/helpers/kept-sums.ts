// What the tests of the trigger-kept sums (party_owed, party_sums) share: the parties they
// write, a database per engine with those parties, the kept rows read as "amount/wide" strings,
// and a database handle that records the statements reading one table.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult } from "kysely";
import type { Db } from "../../server/store/database.js";
import { toParty } from "../../server/store/parties-store.js";
import type { PartySumKind } from "../../server/store/schema.js";
import { partyRow } from "./party-row.js";
import { openEngineDatabase, type Engine } from "./engine-database.js";

export const KEPT_PARTIES = ["pty_a", "pty_b", "pty_c"].map((id) => toParty(partyRow(id)));

/** A fresh database on `engine` holding KEPT_PARTIES, for a mocha suite's beforeEach; close() in afterEach. */
export async function keptSumsDatabase(
  engine: Engine,
  name: string,
): Promise<{ db: Db; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const db = await openEngineDatabase(engine, dir);
  await db
    .insertInto("parties")
    .values(KEPT_PARTIES.map((p) => partyRow(p.id)))
    .execute();
  return {
    db,
    dir,
    async close() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The kept rows, "amount/wide" by "address kind" (by "address side" for party_owed), rows at 0/0 left out. */
export async function keptRows(
  db: Db,
  table: "party_owed" | { kinds: PartySumKind[] },
): Promise<Record<string, string>> {
  const rows =
    table === "party_owed"
      ? await db
          .selectFrom("party_owed")
          .select(["address", "side as kind", sql<string>`cast(owed as text)`.as("amount"), "wide"])
          .execute()
      : await db
          .selectFrom("party_sums")
          .select(["address", "kind", sql<string>`cast(amount as text)`.as("amount"), "wide"])
          .where("kind", "in", table.kinds)
          .execute();
  return nonZero(rows.map((r) => [`${r.address} ${r.kind}`, `${BigInt(r.amount)}/${r.wide}`]));
}

/** Sums by key as "amount/wide", rows at 0/0 left out: the shape keptRows answers in. */
export function nonZero(entries: Iterable<readonly [string, string]>): Record<string, string> {
  return Object.fromEntries([...entries].filter(([, value]) => value !== "0/0"));
}

/** `db`, recording each statement whose main FROM is `table` (not a join to it by key). */
export function recordingReadsOf(db: Db, table: string): { db: Db; reads: string[] } {
  const reads: string[] = [];
  type Named = { table?: { identifier?: { name?: string } }; node?: { table?: { identifier?: { name?: string } } } };
  const logged = db.withPlugin({
    transformQuery(args: PluginTransformQueryArgs) {
      const node = args.node as { kind: string; from?: { froms: Named[] } };
      const from = node.from?.froms[0];
      const name = from?.table?.identifier?.name ?? from?.node?.table?.identifier?.name;
      const text = JSON.stringify(node);
      if (node.kind === "SelectQueryNode" ? name === table : text.includes(`from ${table}`)) reads.push(text);
      return args.node;
    },
    transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<any>> => args.result,
  });
  return { db: logged, reads };
}
