// Reads a cursor-paged list to its end, as an integrator would: ?limit= and then each
// nextCursor, checking every page is within the limit and the last one says so (null).
import { expect } from "chai";
import type { ApiClient } from "./client.js";

/** Every item of `url` (which may carry a query already), `limit` at a time, in the list's order. */
export async function readAllPages<T = Record<string, unknown>>(
  client: ApiClient,
  url: string,
  limit: number,
  itemsOf: (body: Record<string, unknown>) => T[] = (body) => body.items as T[],
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = url.includes("?") ? "&" : "?";
    const page = await client.get(`${url}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(page.status, JSON.stringify(page.body)).to.equal(200);
    const pageItems = itemsOf(page.body);
    expect(pageItems.length).to.be.at.most(limit);
    items.push(...pageItems);
    cursor = page.body.nextCursor as string | null;
    pages += 1;
    if (pages > 1_000) throw new Error(`${url} never ended`);
  } while (cursor !== null);
  return { items, pages };
}
