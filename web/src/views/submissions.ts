// A supplier's submissions with their verification reports: every rule, its outcome and
// message, so a rejected or held submission says exactly what to fix.
import { api } from "../api.js";
import { h } from "../dom.js";
import { formatDate, formatMoney, shortHash } from "../money.js";
import type { Party, Receivable } from "../types.js";
import { badge, section } from "../ui.js";

export async function submissionsView(_me: Party): Promise<HTMLElement> {
  const { receivables } = await api.get<{ receivables: Receivable[] }>("/v1/receivables?as=seller");
  return h(
    "div",
    {},
    h("h1", {}, "My submissions"),
    section(
      "Submissions and verification reports",
      receivables.length
        ? h(
            "ul",
            { class: "plain" },
            receivables.map((r) =>
              h(
                "li",
                {},
                h(
                  "details",
                  {},
                  h(
                    "summary",
                    {},
                    `${r.invoiceNumber} · ${formatMoney(r.faceValue)} · due ${formatDate(r.dueDate)} · `,
                    badge(r.status),
                    " · verification ",
                    badge(r.verification?.outcome ?? "none"),
                  ),
                  h(
                    "p",
                    {},
                    "Receivable ",
                    h("code", { title: r.id }, shortHash(r.id)),
                    ` · order ${r.purchaseOrderNumber}`,
                  ),
                  h(
                    "ul",
                    { class: "rules" },
                    (r.verification?.results ?? []).map((v) =>
                      h("li", {}, badge(v.outcome), ` ${v.rule}: ${v.message} `, h("code", {}, v.code)),
                    ),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "empty" }, "No submissions yet (submit through POST /v1/receivables)."),
    ),
  );
}
