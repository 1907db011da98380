// The financier's open market — debtor, tenor, face, tier, the ask, the risk-priced quote
// and the verification summary, with Fund for a custodial financier — and its book.
import { api, enc } from "../api.js";
import { h } from "../dom.js";
import { formatDate, formatMoney, shortHash } from "../money.js";
import type { Exposure, FinancingRequest, Party } from "../types.js";
import { badge, messageBox, section, table, withBusy } from "../ui.js";
import { exposureHref, exposureSections } from "./exposure.js";

interface Quote {
  price: string;
  discountRate: { totalBps: number };
  debtor: { band: string; score: number };
}

const bps = (n: number) => `${(n / 100).toFixed(2)} %`;

export async function marketView(_me: Party): Promise<HTMLElement> {
  const { requests } = await api.get<{ requests: FinancingRequest[] }>("/v1/financing-requests?status=open&limit=200");
  const quotes = new Map<string, Quote | null>();
  await Promise.all(
    requests.map(async (r) => {
      quotes.set(r.id, await api.get<Quote>(`/v1/financing-requests/${enc(r.id)}/quote`).catch(() => null));
    }),
  );
  const box = messageBox();
  const fundButton = (r: FinancingRequest) => {
    const button = h("button", { type: "button", "aria-label": `Fund request ${r.id}` }, "Fund");
    button.addEventListener("click", () =>
      withBusy(button, box, async () => {
        await api.post(`/v1/financing-requests/${enc(r.id)}/fund`);
        button.replaceWith(badge("funded"));
        return `Funded request ${r.id}: ${formatMoney(r.price)} paid, certificate #${r.certificateId} ${r.kind === "pledge" ? "pledged to you" : "now yours"}.`;
      }),
    );
    return button;
  };
  return h(
    "div",
    {},
    h("h1", {}, "Open market"),
    section(
      "Open financing requests",
      box,
      table(
        "Open financing requests",
        [
          { label: "Request", cell: (r) => r.id },
          { label: "Kind", cell: (r) => r.kind },
          { label: "Debtor", cell: (r) => r.debtor.name ?? r.debtor.address },
          { label: "Tier", cell: (r) => String(r.tier) },
          { label: "Due", cell: (r) => `${formatDate(r.dueDate)} (${r.tenorDays} d)` },
          { label: "Face", cell: (r) => formatMoney(r.faceValue), numeric: true },
          { label: "Asked price", cell: (r) => formatMoney(r.price), numeric: true },
          { label: "To repay", cell: (r) => (r.kind === "pledge" ? formatMoney(r.repayAmount) : "—"), numeric: true },
          {
            label: "Quote",
            cell: (r) => {
              const q = quotes.get(r.id);
              return q ? `${formatMoney(q.price)} at ${bps(q.discountRate.totalBps)} (debtor ${q.debtor.band})` : "—";
            },
          },
          { label: "Verification", cell: (r) => badge(r.verification?.outcome ?? "none") },
          { label: "", cell: (r) => fundButton(r) },
        ],
        requests,
        "No open requests.",
      ),
    ),
  );
}

export async function financierBook(me: Party): Promise<HTMLElement> {
  const [exposure, mine] = await Promise.all([
    api.get<Exposure>(exposureHref(me.id)),
    api.get<{ requests: FinancingRequest[] }>("/v1/financing-requests?limit=200"),
  ]);
  const funded = mine.requests.filter((r) => r.financierPartyId === me.id);
  return h(
    "div",
    {},
    h("h1", {}, "My book"),
    section(
      "What I funded",
      table(
        "Requests I funded",
        [
          { label: "Request", cell: (r) => r.id },
          { label: "Certificate", cell: (r) => `#${r.certificateId}` },
          { label: "Receivable", cell: (r) => h("code", { title: r.receivableId }, shortHash(r.receivableId)) },
          { label: "Kind", cell: (r) => r.kind },
          { label: "Status", cell: (r) => badge(r.status) },
          { label: "Due", cell: (r) => formatDate(r.dueDate) },
          { label: "Paid", cell: (r) => formatMoney(r.price), numeric: true },
          {
            label: "Outstanding",
            cell: (r) => (r.kind === "pledge" ? formatMoney(r.outstanding) : "—"),
            numeric: true,
          },
        ],
        funded,
        "Nothing funded yet.",
      ),
    ),
    ...exposureSections(exposure, false),
  );
}
