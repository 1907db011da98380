// The auditor's start: find a receivable (by id, invoice or order number) or a party (by
// id), and the most recent receivables to open.
import { api, enc } from "../api.js";
import { h } from "../dom.js";
import { formatDate, formatMoney, shortHash } from "../money.js";
import { partyHref, treeHref } from "../routes.js";
import type { Party, Receivable } from "../types.js";
import { badge, field, messageBox, section, table } from "../ui.js";

export async function auditorHome(_me: Party): Promise<HTMLElement> {
  const { receivables } = await api.get<{ receivables: Receivable[] }>("/v1/receivables?limit=200");
  const input = h("input", { type: "search", name: "q", autocomplete: "off", required: true });
  const box = messageBox();
  const form = h(
    "form",
    { role: "search", class: "inline-form" },
    field("Receivable id, invoice or order number, or party id", input, "e.g. 0x06e8…, INV-2026-0042, pty_…"),
    h("button", { type: "submit" }, "Search"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (/^0x[0-9a-fA-F]{64}$/.test(q)) location.hash = treeHref(q.toLowerCase());
    else if (/^pty_/.test(q)) {
      try {
        await api.get<Party>(`/v1/parties/${enc(q)}`);
        location.hash = partyHref(q);
      } catch (e) {
        box.showError(e);
      }
    } else {
      const needle = q.toLowerCase();
      const found = receivables.find(
        (r) =>
          r.invoiceNumber.toLowerCase() === needle ||
          r.purchaseOrderNumber.toLowerCase() === needle ||
          r.id.startsWith(needle),
      );
      if (found) location.hash = treeHref(found.id);
      else box.showError(new Error(`No receivable or party matches "${q}" among the last ${receivables.length}.`));
    }
  });
  return h(
    "div",
    {},
    h("h1", {}, "Audit"),
    section("Search", form, box),
    section(
      "Recent receivables",
      table(
        "Recent receivables",
        [
          {
            label: "Receivable",
            cell: (r) => (r.rootCertificateId ? h("a", { href: treeHref(r.id) }, shortHash(r.id)) : shortHash(r.id)),
          },
          { label: "Invoice", cell: (r) => r.invoiceNumber },
          { label: "Seller", cell: (r) => h("a", { href: partyHref(r.sellerId) }, r.sellerId) },
          { label: "Debtor", cell: (r) => h("a", { href: partyHref(r.debtorId) }, r.debtorId) },
          { label: "Face value", cell: (r) => formatMoney(r.faceValue), numeric: true },
          { label: "Due", cell: (r) => formatDate(r.dueDate) },
          { label: "Status", cell: (r) => badge(r.status) },
        ],
        receivables,
        "No receivables yet.",
      ),
    ),
  );
}
