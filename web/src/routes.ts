// Navigation in the hash (#/tree/<receivable id>): ids of receivables and parties only,
// never the API key, so a link can be shared and the back button works.
export type Route =
  | { view: "home" }
  | { view: "tree"; receivableId: string }
  | { view: "party"; partyId: string }
  | { view: "holdings" }
  | { view: "submissions" }
  | { view: "market" }
  | { view: "book" }
  | { view: "payables" };

export function parseRoute(hash: string): Route {
  const [, view, id] = hash.replace(/^#/, "").split("/");
  if (view === "tree" && id) return { view: "tree", receivableId: decodeURIComponent(id) };
  if (view === "party" && id) return { view: "party", partyId: decodeURIComponent(id) };
  if (view === "holdings" || view === "submissions" || view === "market" || view === "book" || view === "payables")
    return { view };
  return { view: "home" };
}

export const treeHref = (receivableId: string) => `#/tree/${encodeURIComponent(receivableId)}`;
export const partyHref = (partyId: string) => `#/party/${encodeURIComponent(partyId)}`;
