// Statements a test captured as the code ran them (Kysely's query log), explained by
// SQLite: every scan of a whole table among them, one line per statement that has one.
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type CompiledQuery } from "kysely";
import type { Database } from "../../../server/store/schema.js";

/** The database in `file`, every statement it runs appended to `ran` as it runs. */
export function capturingDatabase(file: string, ran: CompiledQuery[]): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new SqliteDialect({ database: new SQLite(file) }),
    log: (event) => {
      if (event.level === "query") ran.push(event.query);
    },
  });
}

/**
 * The names a statement's WITH clause defines. Reading back rows the statement itself built
 * (a recursive walk's frontier) is no scan of a table, and neither is a constant row.
 */
function commonTableNamesIn(statement: string): Set<string> {
  const names = /^\s*with\s/i.test(statement)
    ? [...statement.matchAll(/(?:\bwith\s+(?:recursive\s+)?|,\s*)"?(\w+)"?\s*(?:\([^)]*\))?\s+as\s*\(/gi)]
    : [];
  return new Set(names.map((match) => match[1]!.toLowerCase()));
}

function isScanOfOwnRows(detail: string, ownRows: Set<string>): boolean {
  if (detail === "SCAN CONSTANT ROW") return true;
  const scanned = /^SCAN (\w+)/.exec(detail)?.[1]?.toLowerCase();
  return scanned !== undefined && ownRows.has(scanned);
}

/** The lines of one statement's plan, explained on the open database `explain`. */
export function planOf(explain: SQLite.Database, statement: string, parameters: readonly unknown[]): string[] {
  const plan = explain.prepare(`explain query plan ${statement}`).all(...parameters) as Array<{ detail: string }>;
  return plan.map((r) => r.detail);
}

/** The full-table scans among the lines of `statement`'s plan. */
export function scansIn(plan: readonly string[], statement: string): string[] {
  const ownRows = commonTableNamesIn(statement);
  return plan
    .filter((detail) => /^SCAN /.test(detail) && !/USING .*INDEX/.test(detail))
    .filter((detail) => !isScanOfOwnRows(detail, ownRows));
}

/** The full-table scans in the plans of `queries`, run against the database file `file`. */
export function tableScansIn(file: string, queries: readonly CompiledQuery[]): string[] {
  const scans: string[] = [];
  const explain = new SQLite(file, { readonly: true });
  try {
    for (const query of queries) {
      const found = scansIn(planOf(explain, query.sql, query.parameters), query.sql);
      if (found.length) scans.push(`${found.join("; ")}  in: ${query.sql}`);
    }
  } finally {
    explain.close();
  }
  return scans;
}
