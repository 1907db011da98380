// A supplier's (or any holder's) certificates — tier, due date, locked or not — with the
// split and transfer forms. A refusal (a locked certificate, pieces that do not add up)
// shows the API's message and code next to the form.
import { api, enc } from "../api.js";
import { h } from "../dom.js";
import { formatAmount, formatDate, formatMoney, parseAmount, shortHash } from "../money.js";
import type { Certificate, Party } from "../types.js";
import { badge, field, messageBox, section, table, withBusy } from "../ui.js";

function certificateSelect(certificates: Certificate[]): HTMLSelectElement {
  return h(
    "select",
    { name: "certificateId", required: true },
    certificates.map((c) =>
      h("option", { value: c.id }, `#${c.id} · tier ${c.tier} · ${formatMoney(c.faceValue)} · ${c.state}`),
    ),
  );
}

function partRow(index: number): HTMLElement {
  return h(
    "fieldset",
    { class: "part" },
    h("legend", {}, `Piece ${index + 1}`),
    field("To party id", h("input", { name: "toPartyId", required: true, autocomplete: "off", placeholder: "pty_…" })),
    field(
      "Amount (tUSD)",
      h("input", { name: "amount", required: true, inputmode: "decimal", autocomplete: "off" }),
      "e.g. 250.00",
    ),
  );
}

function splitForm(certificates: Certificate[], me: Party, onDone: () => void): HTMLElement {
  const select = certificateSelect(certificates);
  const parts = h("div", { class: "parts" }, partRow(0), partRow(1));
  const add = h("button", { type: "button", class: "secondary" }, "Add a piece");
  add.addEventListener("click", () => {
    const row = partRow(parts.children.length);
    parts.append(row);
    row.querySelector("input")?.focus();
  });
  const submit = h("button", { type: "submit" }, "Split");
  const box = messageBox();
  const form = h(
    "form",
    { class: "stack", "aria-label": "Split a certificate" },
    field("Certificate", select),
    parts,
    h("div", { class: "toolbar" }, add, submit),
    box,
  );
  (parts.querySelector("input[name=toPartyId]") as HTMLInputElement).value = me.id;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void withBusy(submit, box, async () => {
      const pieces = [...parts.querySelectorAll("fieldset")].map((fs) => {
        const to = (fs.querySelector("input[name=toPartyId]") as HTMLInputElement).value.trim();
        const text = (fs.querySelector("input[name=amount]") as HTMLInputElement).value;
        const amount = parseAmount(text);
        if (amount === undefined) throw new Error(`"${text}" is not an amount (digits, at most 6 decimals)`);
        return { toPartyId: to, amount: amount.toString() };
      });
      const result = await api.post<{
        children: Array<{ id: string; tier: number; faceValue: string; holderPartyId: string }>;
      }>(`/v1/certificates/${enc(select.value)}/split`, { parts: pieces });
      onDone();
      return `Split #${select.value} into ${result.children
        .map((c) => `#${c.id} (tier ${c.tier}, ${formatAmount(c.faceValue)} to ${c.holderPartyId})`)
        .join(", ")}.`;
    });
  });
  return form;
}

function transferForm(certificates: Certificate[], onDone: () => void): HTMLElement {
  const select = certificateSelect(certificates);
  const to = h("input", { name: "toPartyId", required: true, autocomplete: "off", placeholder: "pty_…" });
  const submit = h("button", { type: "submit" }, "Transfer");
  const box = messageBox();
  const form = h(
    "form",
    { class: "stack", "aria-label": "Transfer a certificate" },
    field("Certificate", select),
    field("To party id", to),
    submit,
    box,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void withBusy(submit, box, async () => {
      await api.post(`/v1/certificates/${enc(select.value)}/transfer`, { toPartyId: to.value.trim() });
      onDone();
      return `Transferred #${select.value} to ${to.value.trim()}.`;
    });
  });
  return form;
}

export async function holdingsView(me: Party): Promise<HTMLElement> {
  const { certificates } = await api.get<{ certificates: Certificate[] }>(
    `/v1/parties/${enc(me.id)}/certificates?limit=200`,
  );
  const list = h("div", {});
  const refresh = async () => {
    const fresh = await api.get<{ certificates: Certificate[] }>(`/v1/parties/${enc(me.id)}/certificates?limit=200`);
    list.replaceChildren(holdingsTable(fresh.certificates));
  };
  list.append(holdingsTable(certificates));
  return h(
    "div",
    {},
    h("h1", {}, "What I hold"),
    section("Certificates", list),
    certificates.length
      ? h(
          "div",
          { class: "two-up" },
          section(
            "Split a certificate",
            h(
              "p",
              { class: "hint" },
              "Pay your own suppliers with pieces; the pieces must add up exactly to the certificate.",
            ),
            splitForm(certificates, me, () => void refresh()),
          ),
          section(
            "Transfer a certificate",
            transferForm(certificates, () => void refresh()),
          ),
        )
      : null,
  );
}

function holdingsTable(certificates: Certificate[]): HTMLElement {
  return table(
    "Certificates I hold",
    [
      { label: "Certificate", cell: (c) => `#${c.id}` },
      { label: "Receivable", cell: (c) => h("code", { title: c.receivableId }, shortHash(c.receivableId)) },
      { label: "Tier", cell: (c) => String(c.tier) },
      { label: "Due", cell: (c) => formatDate(c.dueDate) },
      { label: "State", cell: (c) => badge(c.state) },
      { label: "Face value", cell: (c) => formatMoney(c.faceValue), numeric: true },
      { label: "Paid out", cell: (c) => formatMoney(c.paidOut), numeric: true },
    ],
    certificates,
    "You hold no certificates.",
  );
}
