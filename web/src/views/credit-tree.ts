// The auditor's credit tree of one receivable: the receivable's terms, the conservation
// check, the tree as a graph and as an outline, the selected certificate's details and
// transactions, every transaction, and `verify` (index against chain) run from the page.
import type { Core } from "cytoscape";
import { api, enc } from "../api.js";
import { append, clear, h } from "../dom.js";
import { drawTree, financingLine, flatten, partyName } from "../graph/tree-graph.js";
import { formatDate, formatMoney, shortHash } from "../money.js";
import { partyHref } from "../routes.js";
import type { Party, Trace, TraceNode } from "../types.js";
import { badge, messageBox, section, table, withBusy } from "../ui.js";

interface VerifyReport {
  matches: boolean;
  differences: unknown[];
  checkedCertificates: number;
  checkedFinancingRequests: number;
  chainEvents: number;
  asOfBlock: number;
  contractView?: { checked: boolean; matches: boolean; differences: unknown[] };
}

const partyLink = (ref: { name: string | null; partyId: string | null; address: string }) =>
  ref.partyId ? h("a", { href: partyHref(ref.partyId) }, partyName(ref)) : h("span", {}, partyName(ref));

export async function creditTreeView(receivableId: string, _me: Party): Promise<HTMLElement> {
  const trace = await api.get<Trace>(`/v1/audit/receivables/${enc(receivableId)}/trace`);
  const r = trace.receivable;
  const nodes = flatten(trace.root);
  const byId = new Map(nodes.map((n) => [n.certificateId, n]));
  const c = trace.conservation;

  const summary = h(
    "dl",
    { class: "facts" },
    ...[
      ["Seller", partyLink(r.seller)],
      ["Debtor", partyLink(r.debtor)],
      ["Face value", formatMoney(r.faceValue)],
      ["Due", formatDate(r.dueDate)],
      ["Status", badge(r.status)],
      ["Debtor paid in", formatMoney(r.repaidAmount)],
      ["Paid out to holders", formatMoney(r.distributed)],
      ["Document hash", h("code", { title: r.documentHash }, shortHash(r.documentHash))],
    ].flatMap(([k, v]) => [h("dt", {}, k as string), h("dd", {}, v as Node | string)]),
  );

  const conservation = h(
    "div",
    { class: `conservation ${c.conserves ? "ok" : "bad"}`, "data-testid": "conservation" },
    h("p", { class: "verdict" }, c.conserves ? "✔ Face value conserved down the tree" : "✘ Face value NOT conserved"),
    h(
      "p",
      {},
      `Root ${formatMoney(c.rootFace)} = sum of ${c.leafCount} leaves ${formatMoney(c.liveLeafFaceSum)}`,
      ` (${c.retiredCount} retired by splits; ${trace.certificateCount} certificates in all).`,
    ),
    c.brokenSplits.length
      ? h(
          "ul",
          {},
          c.brokenSplits.map((b) =>
            h(
              "li",
              {},
              `#${b.certificateId}: face ${formatMoney(b.faceValue)} but children add up to ${formatMoney(b.childrenFaceSum)}`,
            ),
          ),
        )
      : null,
  );

  const details = h("div", { class: "node-details", "aria-live": "polite" });
  const graph = h("div", {
    class: "graph",
    role: "img",
    "aria-label": `Credit tree graph: ${nodes.length} certificates; the outline below lists them`,
  });
  let cy: Core | undefined;
  const select = (id: string) => {
    const node = byId.get(id);
    if (!node) return;
    showDetails(details, node, trace);
    if (cy) {
      cy.$(":selected").unselect();
      cy.$id(id).select();
    }
  };

  const fitButton = h("button", { type: "button", class: "secondary" }, "Fit the whole tree");
  fitButton.addEventListener("click", () => cy?.fit(undefined, 16));

  const verifyBox = messageBox();
  const verifyButton = h("button", { type: "button" }, "Verify against the chain");
  const verifyResult = h("div", { class: "verify-result", "data-testid": "verify-result" });
  verifyButton.addEventListener("click", () =>
    withBusy(verifyButton, verifyBox, async () => {
      const report = await api.get<VerifyReport>(`/v1/audit/verify/${enc(receivableId)}`);
      clear(verifyResult);
      verifyResult.append(renderVerify(report));
      return report.matches ? "Verified: the index matches the chain." : "Verification found differences.";
    }),
  );

  const view = h(
    "div",
    { class: "tree-view" },
    h("h1", {}, "Credit tree ", h("code", { class: "id", title: r.id }, shortHash(r.id))),
    section("Receivable", summary, conservation),
    section(
      "Tree",
      h("p", { class: "hint" }, "Drag to pan, scroll or pinch to zoom; select a certificate to see its transactions."),
      h("div", { class: "toolbar" }, fitButton, legend()),
      graph,
      h("h3", {}, "Outline"),
      outline(trace.root, select),
      details,
    ),
    section(
      "Verify",
      h("p", {}, "Rebuilds the tree from chain events and compares it with the index and the contracts' views."),
      verifyButton,
      verifyBox,
      verifyResult,
    ),
    section(
      "Transactions",
      table(
        "Transactions of this receivable",
        [
          { label: "Block", cell: (t) => String(t.blockNumber), numeric: true },
          { label: "Kind", cell: (t) => t.kind },
          { label: "Events", cell: (t) => t.events.map((e) => e.name).join(", ") },
          { label: "Transaction", cell: (t) => h("code", { title: t.txHash }, shortHash(t.txHash)) },
        ],
        trace.transactions,
      ),
    ),
  );
  // Cytoscape needs the container in the document to measure it: draw after insertion.
  requestAnimationFrame(() => {
    cy = drawTree(graph, trace.root, select);
  });
  return view;
}

function legend(): HTMLElement {
  return h(
    "ul",
    { class: "legend", "aria-label": "States" },
    (["live", "locked", "retired", "settled"] as const).map((s) => h("li", {}, badge(s))),
  );
}

function outline(root: TraceNode, select: (id: string) => void): HTMLElement {
  const item = (n: TraceNode): HTMLElement => {
    const button = h(
      "button",
      { type: "button", class: "linklike", "data-certificate": n.certificateId },
      `#${n.certificateId}`,
    );
    button.addEventListener("click", () => select(n.certificateId));
    const financing = financingLine(n);
    return h(
      "li",
      { "data-tier": n.tier },
      button,
      ` tier ${n.tier} · ${partyName(n.holder)} · ${formatMoney(n.faceValue)} · `,
      badge(n.state),
      financing ? ` · ${financing}` : null,
      BigInt(n.paidOut) > 0n ? ` · paid out ${formatMoney(n.paidOut)}` : null,
      n.children.length ? h("ul", {}, n.children.map(item)) : null,
    );
  };
  return h("ul", { class: "outline", "data-testid": "outline" }, item(root));
}

function showDetails(target: HTMLElement, node: TraceNode, trace: Trace): void {
  clear(target);
  const txs = trace.transactions.filter((t) =>
    t.events.some(
      (e) =>
        ["certificateId", "tokenId", "parentId"].some((k) => String(e.args[k] ?? "") === node.certificateId) ||
        node.financing.some((f) => String(e.args.requestId ?? "") === f.requestId),
    ),
  );
  append(target, [
    h("h3", {}, `Certificate #${node.certificateId}`),
    h(
      "dl",
      { class: "facts" },
      ...[
        ["Tier", String(node.tier)],
        ["Holder", partyLink(node.holder)],
        ["Face value", formatMoney(node.faceValue)],
        ["State", node.state],
        ["Paid out", formatMoney(node.paidOut)],
        ["Issued", `block ${node.issuedBlock}`],
      ].flatMap(([k, v]) => [h("dt", {}, k as string), h("dd", {}, v as Node | string)]),
    ),
    node.financing.length
      ? table(
          `Financing of certificate ${node.certificateId}`,
          [
            { label: "Request", cell: (f) => f.requestId },
            { label: "Kind", cell: (f) => f.kind },
            { label: "Status", cell: (f) => f.status },
            { label: "Financier", cell: (f) => (f.financier ? partyLink(f.financier) : "—") },
            { label: "Price", cell: (f) => formatMoney(f.price), numeric: true },
            { label: "Outstanding", cell: (f) => formatMoney(f.outstanding), numeric: true },
          ],
          node.financing,
        )
      : null,
    table(
      `Transactions of certificate ${node.certificateId}`,
      [
        { label: "Block", cell: (t) => String(t.blockNumber), numeric: true },
        { label: "Kind", cell: (t) => t.kind },
        { label: "Transaction", cell: (t) => h("code", { title: t.txHash }, t.txHash) },
      ],
      txs,
    ),
  ]);
}

function renderVerify(report: VerifyReport): HTMLElement {
  return h(
    "div",
    { class: report.matches ? "conservation ok" : "conservation bad" },
    h(
      "p",
      { class: "verdict" },
      report.matches ? "✔ The index matches the chain" : "✘ The index differs from the chain",
    ),
    h(
      "p",
      {},
      `${report.checkedCertificates} certificates, ${report.checkedFinancingRequests} financing requests and ${report.chainEvents} chain events checked, up to block ${report.asOfBlock}.`,
      report.contractView?.checked ? ` Contracts' views: ${report.contractView.matches ? "match" : "differ"}.` : "",
    ),
    report.differences.length ? h("pre", {}, JSON.stringify(report.differences, null, 2)) : null,
  );
}
