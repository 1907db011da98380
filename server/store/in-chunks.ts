// Reads keyed by a list of ids go in chunks of 500: SQLite binds at most 32,766 values in one
// statement (PostgreSQL 65,535), and a party's history or an index range can name more.
export const IN_LIST_CHUNK = 500;

/** The rows `read` gives for every chunk of `ids`, in order. */
export async function readInChunks<T>(
  ids: readonly string[],
  read: (chunk: string[]) => Promise<T[]>,
  size = IN_LIST_CHUNK,
): Promise<T[]> {
  const rows: T[] = [];
  for (let i = 0; i < ids.length; i += size) for (const row of await read(ids.slice(i, i + size))) rows.push(row);
  return rows;
}
