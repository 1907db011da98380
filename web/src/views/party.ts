// An auditor's page for one party: profile, its receivables (as seller and debtor) and
// its exposure across every tier.
import { api, enc } from "../api.js";
import { h } from "../dom.js";
import { formatDate, formatMoney, shortHash } from "../money.js";
import { treeHref } from "../routes.js";
import type { Exposure, Party, Receivable } from "../types.js";
import { badge, section, table } from "../ui.js";
import { exposureHref, exposureSections } from "./exposure.js";

export async function partyView(partyId: string, _me: Party): Promise<HTMLElement> {
  const [party, exposure, list] = await Promise.all([
    api.get<Party>(`/v1/parties/${enc(partyId)}`),
    api.get<Exposure>(exposureHref(partyId)),
    api.get<{ receivables: Receivable[] }>(`/v1/receivables?partyId=${enc(partyId)}`),
  ]);
  return h(
    "div",
    {},
    h("h1", {}, party.name),
    h("p", {}, `${party.id} · ${party.roles.join(", ")} · ${party.status} · `, h("code", {}, party.address)),
    section(
      "Receivables",
      table(
        "Receivables of this party",
        [
          {
            label: "Receivable",
            cell: (r) => (r.rootCertificateId ? h("a", { href: treeHref(r.id) }, shortHash(r.id)) : shortHash(r.id)),
          },
          { label: "Invoice", cell: (r) => r.invoiceNumber },
          { label: "Role", cell: (r) => (r.sellerId === party.id ? "seller" : "debtor") },
          { label: "Due", cell: (r) => formatDate(r.dueDate) },
          { label: "Status", cell: (r) => badge(r.status) },
          { label: "Face value", cell: (r) => formatMoney(r.faceValue), numeric: true },
        ],
        list.receivables,
      ),
    ),
    h("h2", { class: "group" }, "Exposure"),
    ...exposureSections(exposure, true),
  );
}
