// A party's exposure: what it is owed by tier, by debtor and by maturity, what it owes,
// and (for a financier) its pledges and purchases. Shared by the auditor's party page and
// the financier's book.
import { h } from "../dom.js";
import { formatDate, formatMoney, shortHash } from "../money.js";
import { partyName } from "../graph/tree-graph.js";
import { treeHref } from "../routes.js";
import { api, enc } from "../api.js";
import type { ByMaturity, Exposure } from "../types.js";
import { badge, pagedTable, section, table, type ListPage } from "../ui.js";

/** Items per page of each list in the web view: a screenful, the rest a click away. */
export const EXPOSURE_PAGE = 20;
export const exposureHref = (partyId: string) => `/v1/audit/parties/${enc(partyId)}/exposure?limit=${EXPOSURE_PAGE}`;

/** The page after `cursor` of one of a party's exposure lists (the report holds the first). */
export const nextExposurePage =
  <T>(partyId: string, list: "certificates" | "receivables" | "pledges" | "purchases") =>
  (cursor: string) =>
    api.get<ListPage<T>>(
      `/v1/audit/parties/${enc(partyId)}/exposure/${list}?limit=${EXPOSURE_PAGE}&cursor=${enc(cursor)}`,
    );

const maturityRows = (m: ByMaturity) => Object.entries(m).map(([bucket, amount]) => ({ bucket, amount }));

function maturityTable(caption: string, m: ByMaturity): HTMLElement {
  return table(
    caption,
    [
      { label: "Days to maturity", cell: (r) => r.bucket },
      { label: "Amount", cell: (r) => formatMoney(r.amount), numeric: true },
    ],
    maturityRows(m),
  );
}

export function exposureSections(x: Exposure, linkTrees: boolean): HTMLElement[] {
  const rid = (id: string) =>
    linkTrees ? h("a", { href: treeHref(id) }, shortHash(id)) : h("code", {}, shortHash(id));
  const pages = <T>(list: "certificates" | "receivables" | "pledges" | "purchases") =>
    nextExposurePage<T>(x.party.id, list);
  return [
    section(
      "Owed to this party",
      h(
        "p",
        { class: "total" },
        `Total ${formatMoney(x.owed.total)} — direct (tier 1) ${formatMoney(x.owed.direct)}, through deeper tiers ${formatMoney(x.owed.throughTiers)}`,
      ),
      h("h3", {}, "By tier"),
      table(
        "Owed by tier",
        [
          { label: "Tier", cell: (r) => String(r.tier) },
          { label: "Certificates", cell: (r) => String(r.certificates), numeric: true },
          { label: "Amount", cell: (r) => formatMoney(r.amount), numeric: true },
        ],
        x.owed.byTier,
      ),
      h("h3", {}, "By debtor"),
      table(
        "Owed by debtor",
        [
          { label: "Debtor", cell: (r) => partyName(r.debtor) },
          { label: "Certificates", cell: (r) => String(r.certificates), numeric: true },
          { label: "Amount", cell: (r) => formatMoney(r.amount), numeric: true },
        ],
        x.owed.byDebtor,
      ),
      h("h3", {}, "By maturity"),
      maturityTable("Owed by maturity", x.owed.byMaturity),
      h("h3", {}, "Certificates"),
      pagedTable(
        "Certificates owed",
        [
          { label: "Certificate", cell: (r) => `#${r.certificateId}` },
          { label: "Receivable", cell: (r) => rid(r.receivableId) },
          { label: "Tier", cell: (r) => String(r.tier) },
          { label: "Debtor", cell: (r) => partyName(r.debtor) },
          { label: "Due", cell: (r) => formatDate(r.dueDate) },
          { label: "State", cell: (r) => badge(r.state) },
          {
            label: "Pledged to",
            cell: (r) =>
              r.pledge?.pledgee ? `${partyName(r.pledge.pledgee)} (${formatMoney(r.pledge.outstanding)})` : "—",
          },
          { label: "Owed", cell: (r) => formatMoney(r.owed), numeric: true },
        ],
        { items: x.owed.certificates, nextCursor: x.owed.certificatesNextCursor },
        x.owed.count,
        pages("certificates"),
      ),
    ),
    section(
      "Owed by this party (as debtor)",
      h("p", { class: "total" }, `Total ${formatMoney(x.owes.total)}`),
      maturityTable("Owes by maturity", x.owes.byMaturity),
      pagedTable(
        "Receivables owed",
        [
          { label: "Receivable", cell: (r) => rid(r.receivableId) },
          { label: "Seller", cell: (r) => partyName(r.seller) },
          { label: "Due", cell: (r) => formatDate(r.dueDate) },
          { label: "Status", cell: (r) => badge(r.status) },
          { label: "Outstanding", cell: (r) => formatMoney(r.outstanding), numeric: true },
        ],
        { items: x.owes.receivables, nextCursor: x.owes.receivablesNextCursor },
        x.owes.count,
        pages("receivables"),
      ),
    ),
    section(
      "As financier",
      h(
        "p",
        { class: "total" },
        `Pledges outstanding ${formatMoney(x.asFinancier.pledgesOutstanding)}; ${x.asFinancier.certificatesBought.count} certificates bought for ${formatMoney(x.asFinancier.certificatesBought.pricePaid)} (face ${formatMoney(x.asFinancier.certificatesBought.faceValue)}, still owed ${formatMoney(x.asFinancier.certificatesBought.stillHeldOwed)})`,
      ),
      pagedTable(
        "Pledges",
        [
          { label: "Request", cell: (r) => r.requestId },
          { label: "Certificate", cell: (r) => `#${r.certificateId}` },
          { label: "Pledgor", cell: (r) => partyName(r.pledgor) },
          { label: "Due", cell: (r) => (r.dueDate ? formatDate(r.dueDate) : "—") },
          { label: "Lent", cell: (r) => formatMoney(r.lent), numeric: true },
          { label: "Outstanding", cell: (r) => formatMoney(r.outstanding), numeric: true },
        ],
        { items: x.asFinancier.pledges, nextCursor: x.asFinancier.pledgesNextCursor },
        x.asFinancier.pledgeCount,
        pages("pledges"),
        "No pledges.",
      ),
      pagedTable(
        "Purchases",
        [
          { label: "Request", cell: (r) => r.requestId },
          { label: "Certificate", cell: (r) => `#${r.certificateId}` },
          { label: "Bought from", cell: (r) => partyName(r.seller) },
          { label: "State", cell: (r) => badge(r.state) },
          { label: "Price", cell: (r) => formatMoney(r.price), numeric: true },
          { label: "Face", cell: (r) => formatMoney(r.faceValue), numeric: true },
          { label: "Paid out", cell: (r) => formatMoney(r.paidOut), numeric: true },
        ],
        { items: x.asFinancier.purchases, nextCursor: x.asFinancier.purchasesNextCursor },
        x.asFinancier.certificatesBought.count,
        pages("purchases"),
        "No purchases.",
      ),
    ),
  ];
}
