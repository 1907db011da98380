// Statements a test captured as the code ran them (Kysely's query log), explained by
// SQLite: every scan of a whole table among them, one line per statement that has one.
import SQLite from "better-sqlite3";
import type { CompiledQuery } from "kysely";

/** The full-table scans in the plans of `queries`, run against the database file `file`. */
export function tableScansIn(file: string, queries: readonly CompiledQuery[]): string[] {
  const scans: string[] = [];
  const explain = new SQLite(file, { readonly: true });
  try {
    for (const query of queries) {
      const plan = explain.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[]));
      const found = (plan as Array<{ detail: string }>)
        .map((r) => r.detail)
        .filter((detail) => /^SCAN /.test(detail) && !/USING .*INDEX/.test(detail));
      if (found.length) scans.push(`${found.join("; ")}  in: ${query.sql}`);
    }
  } finally {
    explain.close();
  }
  return scans;
}
