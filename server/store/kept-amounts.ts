// Reading an amount a trigger keeps (party_owed.owed, party_sums.amount, party_owes_by_due.amount):
// PostgreSQL keeps it in numeric, exact at any size; SQLite in a 64-bit integer that turns into a
// real once a sum overflows, beside a `wide` count of rows it could not sum. The amount is read
// as text, with whether it can be trusted; where not, the caller sums the rows itself.
import { PostgresAdapter, sql, type QueryExecutorProvider, type RawBuilder } from "kysely";

/** The kept `column` as decimal text. */
export const keptAmountText = (column: string): RawBuilder<string> => sql<string>`cast(${sql.ref(column)} as text)`;

/** 1 where the kept `column` is still an exact integer (always on PostgreSQL). */
export const keptAmountIsInteger = (db: QueryExecutorProvider, column: string): RawBuilder<number> =>
  db.getExecutor().adapter instanceof PostgresAdapter
    ? sql<number>`1`
    : sql<number>`typeof(${sql.ref(column)}) = 'integer'`;

/** Whether a kept row's amount is exact: an integer, with no row left out for being too wide. */
export const isExactKept = (row: { exact: unknown; wide: unknown }): boolean =>
  Number(row.exact) === 1 && Number(row.wide) === 0;
