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

/**
 * The triggers that keep what `table`'s rows add up to: a row's part is taken out (`takeOut`,
 * statements on `old`) when the row goes or one of `tracked` changes, and put in (`putIn`,
 * statements on `new`) when it comes or changes. SQLite: `${name}_insert`, `_update`, `_delete`;
 * PostgreSQL: the function `${name}_track()` and the triggers `${name}_insert_delete`, `_update`.
 */
export function rowTriggers(
  engine: TriggerEngine,
  spec: { name: string; table: string; tracked: readonly string[]; takeOut: string; putIn: string },
): string[] {
  const { name, table, tracked, takeOut, putIn } = spec;
  const changed = changedColumns(engine, tracked);
  if (engine === "sqlite")
    return [
      `create trigger ${name}_insert after insert on ${table} begin ${putIn} end`,
      `create trigger ${name}_update after update on ${table} when ${changed} begin ${takeOut} ${putIn} end`,
      `create trigger ${name}_delete after delete on ${table} begin ${takeOut} end`,
    ];
  return [
    `create function ${name}_track() returns trigger language plpgsql as $$
     begin
       if tg_op <> 'INSERT' then ${takeOut} end if;
       if tg_op <> 'DELETE' then ${putIn} end if;
       return null;
     end $$`,
    `create trigger ${name}_insert_delete after insert or delete on ${table}
       for each row execute function ${name}_track()`,
    `create trigger ${name}_update after update on ${table}
       for each row when (${changed}) execute function ${name}_track()`,
  ];
}
