// The debtor's view: payables awaiting its confirmation (with Confirm), what it owes by
// due date, and Repay (in full or in part) for each registered receivable.
import { api, enc } from "../api.js";
import { exposureHref, nextExposurePage } from "./exposure.js";
import { h } from "../dom.js";
import { formatDate, formatMoney, parseAmount, shortHash } from "../money.js";
import type { Exposure, Party, Receivable } from "../types.js";
import { badge, field, messageBox, pagedTable, section, table, withBusy } from "../ui.js";

export async function debtorView(me: Party): Promise<HTMLElement> {
  const [pending, exposure] = await Promise.all([
    api.get<{ receivables: Receivable[] }>("/v1/receivables?as=debtor&status=awaiting_confirmation"),
    api.get<Exposure>(exposureHref(me.id)),
  ]);
  const box = messageBox();
  const confirmButton = (r: Receivable) => {
    const button = h("button", { type: "button", "aria-label": `Confirm invoice ${r.invoiceNumber}` }, "Confirm");
    button.addEventListener("click", () =>
      withBusy(button, box, async () => {
        const done = await api.post<{ certificateId: string }>(`/v1/receivables/${enc(r.id)}/confirm`);
        button.replaceWith(badge("confirmed", "active"));
        return `Confirmed ${r.invoiceNumber}: registered on-chain, root certificate #${done.certificateId}.`;
      }),
    );
    return button;
  };
  type Owed = Exposure["owes"]["receivables"][number];
  // Soonest due first, a page at a time: the report's first page, then the list's.
  const nextOwed = nextExposurePage<Owed>(me.id, "receivables");
  return h(
    "div",
    {},
    h("h1", {}, "What I owe"),
    section(
      "Awaiting my confirmation",
      h(
        "p",
        { class: "hint" },
        "Confirming signs your consent to the payable (EIP-712, by the service for a custodial debtor); the receivable is then registered on-chain.",
      ),
      box,
      table(
        "Receivables awaiting confirmation",
        [
          { label: "Invoice", cell: (r) => r.invoiceNumber },
          { label: "Seller", cell: (r) => r.sellerId },
          { label: "Due", cell: (r) => formatDate(r.dueDate) },
          { label: "Verification", cell: (r) => badge(r.verification?.outcome ?? "none") },
          { label: "Amount", cell: (r) => formatMoney(r.faceValue), numeric: true },
          { label: "", cell: (r) => confirmButton(r) },
        ],
        pending.receivables,
        "Nothing awaits your confirmation.",
      ),
    ),
    section(
      "By due date",
      h("p", { class: "total" }, `Total outstanding ${formatMoney(exposure.owes.total)}`),
      pagedTable(
        "What I owe by due date",
        [
          { label: "Due", cell: (r) => formatDate(r.dueDate) },
          { label: "Receivable", cell: (r) => h("code", { title: r.receivableId }, shortHash(r.receivableId)) },
          { label: "Seller", cell: (r) => r.seller.name ?? r.seller.address },
          { label: "Status", cell: (r) => badge(r.status) },
          { label: "Repaid", cell: (r) => formatMoney(r.repaidAmount), numeric: true },
          { label: "Outstanding", cell: (r) => formatMoney(r.outstanding), numeric: true },
          {
            label: "Repay",
            cell: (r) => (BigInt(r.outstanding) > 0n ? repayForm(r.receivableId, r.outstanding) : "—"),
          },
        ],
        { items: exposure.owes.receivables, nextCursor: exposure.owes.receivablesNextCursor },
        exposure.owes.count,
        nextOwed,
        "You owe nothing.",
      ),
    ),
  );
}

function repayForm(receivableId: string, outstanding: string): HTMLElement {
  const amount = h("input", {
    name: "amount",
    inputmode: "decimal",
    autocomplete: "off",
    required: true,
    value: formatMoney(outstanding).split(" ")[0]!,
  });
  const submit = h("button", { type: "submit" }, "Repay");
  const box = messageBox();
  const form = h("form", { class: "inline-form" }, field("Amount (tUSD)", amount), submit, box);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void withBusy(submit, box, async () => {
      const minor = parseAmount(amount.value);
      if (minor === undefined) throw new Error(`"${amount.value}" is not an amount (digits, at most 6 decimals)`);
      await api.post(`/v1/receivables/${enc(receivableId)}/repayments`, { amount: minor.toString() });
      return `Paid ${formatMoney(minor)}; the keeper pays every holder.`;
    });
  });
  return form;
}
