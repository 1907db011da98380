// What every trigger-kept table shares (party_owed, party_sums, party_owes_by_due,
// party_relations, party_history_changes): the statements of one engine run in order, and the
// `when` condition "one of these columns changed", which each engine spells its own way.
import { sql, type QueryExecutorProvider } from "kysely";

export type TriggerEngine = "sqlite" | "postgres";

/** Runs the engine's statements (triggers, functions, the backfill) in order. */
export async function runTriggerStatements(
  db: QueryExecutorProvider,
  engine: TriggerEngine,
  statements: { sqlite: () => string[]; postgres: () => string[] },
): Promise<void> {
  for (const statement of statements[engine]()) await sql.raw(statement).execute(db);
}

/** An update trigger's condition: any of `columns` differs between old and new (null-safe). */
export function changedColumns(engine: TriggerEngine, columns: readonly string[]): string {
  const differs = engine === "postgres" ? "is distinct from" : "is not";
  return columns.map((c) => `old.${c} ${differs} new.${c}`).join(" or ");
}
