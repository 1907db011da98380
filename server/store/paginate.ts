// Keyset pagination over a Kysely query: orders by the list's key columns (all one
// direction, the last one unique), starts after the cursor's key with one row-value
// comparison SQLite answers from an index range, and reads one row more than the page to
// know whether another page follows.
import { sql, type SelectQueryBuilder } from "kysely";
import { decodeCursor, encodeCursor, type CursorKey, type Page } from "../model/page.js";

export interface KeysetOrder<Row> {
  /** Column references as the query names them (e.g. "r.created_at"), most significant first. */
  columns: readonly string[];
  /** "s" string or "n" integer, per column: how the cursor is checked. */
  shape: readonly ("s" | "n")[];
  direction: "asc" | "desc";
  /** The key of a row as served, in the columns' order. */
  keyOf: (row: Row) => CursorKey;
}

/** The statement one page runs: after the cursor's key, in the list's order, one row more than the page. */
export function keysetQuery<DB, TB extends keyof DB, Row>(
  query: SelectQueryBuilder<DB, TB, Row>,
  order: KeysetOrder<Row>,
  page: { cursor?: string | undefined; limit: number },
): SelectQueryBuilder<DB, TB, Row> {
  let q = query;
  if (page.cursor !== undefined) {
    const key = decodeCursor(page.cursor, order.shape);
    const columns = sql.join(order.columns.map((c) => sql.ref(c)));
    const values = sql.join(key.map((v) => sql.val(v)));
    const op = order.direction === "desc" ? sql.raw("<") : sql.raw(">");
    q = q.where(sql<boolean>`(${columns}) ${op} (${values})`);
  }
  for (const column of order.columns) q = q.orderBy(sql.ref(column), order.direction);
  return q.limit(page.limit + 1);
}

export async function keysetPage<DB, TB extends keyof DB, Row>(
  query: SelectQueryBuilder<DB, TB, Row>,
  order: KeysetOrder<Row>,
  page: { cursor?: string | undefined; limit: number },
): Promise<Page<Row>> {
  const rows = (await keysetQuery(query, order, page).execute()) as Row[];
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > page.limit && last ? encodeCursor(order.keyOf(last)) : null };
}

/** The same page with each item mapped (e.g. a row to its view). */
export async function mapPage<A, B>(page: Page<A>, map: (item: A) => Promise<B> | B): Promise<Page<B>> {
  const items: B[] = [];
  for (const item of page.items) items.push(await map(item));
  return { items, nextCursor: page.nextCursor };
}
