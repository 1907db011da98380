// A receivable's trace for people: a text tree with box-drawing characters for the
// terminal, Graphviz DOT and Mermaid for diagrams. Pure functions of the trace; amounts
// are formatted from integer minor units exactly (bigint), never through a float.
import type { Trace, TraceNode } from "./trace.js";

export interface RenderOptions {
  /** Decimals of the settlement token (tUSD has 6). */
  decimals?: number;
  symbol?: string;
}

type Financing = TraceNode["financing"][number];
type Ref = TraceNode["holder"];

/** 600000000 -> "600.000000 tUSD". */
export function formatAmount(value: string | bigint, options: RenderOptions = {}): string {
  const decimals = options.decimals ?? 6;
  const symbol = options.symbol ?? "tUSD";
  const amount = BigInt(value);
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  return `${negative ? "-" : ""}${whole}${decimals > 0 ? `.${fraction}` : ""} ${symbol}`;
}

const nameOf = (ref: Ref): string => ref.name ?? ref.address;
const partyLine = (ref: Ref): string =>
  ref.partyId ? `${ref.name ?? "?"} (${ref.partyId}) ${ref.address}` : `${ref.address} (not a party of this service)`;

function nodeLabel(node: TraceNode, options: RenderOptions): string {
  const paid = BigInt(node.paidOut) > 0n ? `, paid out ${formatAmount(node.paidOut, options)}` : "";
  return `#${node.certificateId}  tier ${node.tier}  ${nameOf(node.holder)}  ${formatAmount(node.faceValue, options)}  ${node.state}${paid}`;
}

function financingLine(f: Financing, options: RenderOptions): string {
  const amount = (v: string) => formatAmount(v, options);
  if (f.kind === "discount") {
    return `↳ discount request #${f.requestId} ${f.status}${f.financier ? ` to ${nameOf(f.financier)}` : ""}, price ${amount(f.price)}`;
  }
  const shortfall = f.shortfall !== null ? `, shortfall ${amount(f.shortfall)}` : "";
  // Issue 16: a credit note cut the pledged claim below what the pledgee is owed.
  const collateral =
    f.collateralShortfall !== "0" ? `, collateral short by ${amount(f.collateralShortfall)} after credit notes` : "";
  return `↳ pledge request #${f.requestId} ${f.status}${f.financier ? ` with ${nameOf(f.financier)}` : ""}, lent ${amount(f.price)}, repay ${amount(f.repayAmount)}, outstanding ${amount(f.outstanding)}${shortfall}${collateral}`;
}

/** The tree as lines: `prefix` is what stands before this node's children's connectors. */
function treeLines(node: TraceNode, connector: string, prefix: string, options: RenderOptions, out: string[]): void {
  out.push(`${connector}${nodeLabel(node, options)}`);
  const detailPrefix = prefix + (node.children.length > 0 ? "│   " : "    ");
  for (const f of node.financing) out.push(`${detailPrefix}${financingLine(f, options)}`);
  // Issue 16: each credit note's cut on the leaf, then the recourse claims opened on it.
  for (const d of node.dilutions)
    out.push(
      `${detailPrefix}↳ credit note #${d.creditNoteId} cut ${formatAmount(d.reduction, options)} from ${nameOf(d.holder)}${d.retained ? " (retained piece)" : ""}, claim now ${formatAmount(d.claim, options)}`,
    );
  for (const c of node.recourseClaims)
    out.push(
      `${detailPrefix}↳ recourse claim #${c.claimId} (${c.kind}) ${c.status}: ${nameOf(c.creditor)} on ${nameOf(c.guarantor)}, ${formatAmount(c.amount, options)}`,
    );
  node.children.forEach((child, i) => {
    const last = i === node.children.length - 1;
    treeLines(child, `${prefix}${last ? "└── " : "├── "}`, `${prefix}${last ? "    " : "│   "}`, options, out);
  });
}

export function renderText(trace: Trace, options: RenderOptions = {}): string {
  const r = trace.receivable;
  const amount = (v: string) => formatAmount(v, options);
  const c = trace.conservation;
  const lines = [
    `Receivable ${r.id}`,
    `  seller      ${partyLine(r.seller)}`,
    `  debtor      ${partyLine(r.debtor)}`,
    `  face value  ${amount(r.faceValue)}, due ${r.dueDate.slice(0, 10)}, status ${r.status}`,
    `  repaid      ${amount(r.repaidAmount)}, distributed ${amount(r.distributed)}, early discount ${amount(r.earlyDiscount)}`,
    ...(BigInt(r.creditedAmount) > 0n
      ? [`  credited    ${amount(r.creditedAmount)} by credit notes, owed ${amount(r.owedAmount)}`]
      : []),
    `  documents   ${r.documentHash}`,
    `  registered  tx ${r.registerTxHash} (block ${r.registeredBlock})`,
    "",
    `Certificates (${trace.certificateCount}):`,
  ];
  treeLines(trace.root, "", "", options, lines);
  const relation = BigInt(c.liveLeafFaceSum) === BigInt(c.rootFace) ? "=" : "≠";
  lines.push(
    "",
    `Conservation: leaves ${amount(c.liveLeafFaceSum)} ${relation} root ${amount(c.rootFace)} (${c.leafCount} leaves, ${c.retiredCount} retired): ${c.conserves ? "conserves" : "DOES NOT CONSERVE"}`,
  );
  if (BigInt(c.credited) > 0n) {
    const claimRelation = BigInt(c.liveLeafClaimSum) === BigInt(c.rootFace) - BigInt(c.credited) ? "=" : "≠";
    lines.push(
      `  after credit notes: leaves' claims ${amount(c.liveLeafClaimSum)} ${claimRelation} root ${amount(c.rootFace)} − credited ${amount(c.credited)}`,
    );
  }
  for (const broken of c.brokenSplits) {
    lines.push(
      `  split of #${broken.certificateId}: children ${amount(broken.childrenFaceSum)} ≠ parent ${amount(broken.faceValue)}`,
    );
  }
  lines.push("", `Transactions (${trace.transactions.length}), index as of block ${trace.asOfBlock}:`);
  const kindWidth = Math.max(0, ...trace.transactions.map((t) => t.kind.length));
  const blockWidth = Math.max(0, ...trace.transactions.map((t) => String(t.blockNumber).length));
  for (const tx of trace.transactions) {
    const names = tx.events.map((e) => e.name).join(", ");
    lines.push(
      `  block ${String(tx.blockNumber).padStart(blockWidth)}  ${tx.kind.padEnd(kindWidth)}  ${tx.txHash}  ${names}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function walk(node: TraceNode, visit: (node: TraceNode) => void): void {
  visit(node);
  for (const child of node.children) walk(child, visit);
}

/** Short lines for a diagram box: id and tier, holder, face value, state, payout, financing. */
function boxLines(node: TraceNode, options: RenderOptions): string[] {
  const lines = [
    `#${node.certificateId} · tier ${node.tier}`,
    nameOf(node.holder),
    formatAmount(node.faceValue, options),
    node.state,
  ];
  if (BigInt(node.paidOut) > 0n) lines.push(`paid out ${formatAmount(node.paidOut, options)}`);
  for (const f of node.financing)
    lines.push(`${f.kind} #${f.requestId} ${f.status}${f.financier ? ` (${nameOf(f.financier)})` : ""}`);
  return lines;
}

const DOT_STYLE: Record<TraceNode["state"], string> = {
  live: 'style="rounded,filled", fillcolor="#d9f2d9"',
  locked: 'style="rounded,filled", fillcolor="#ffe0b3"',
  retired: 'style="rounded,dashed", color="#888888", fontcolor="#555555"',
  settled: 'style="rounded,filled", fillcolor="#e0e0e0"',
};

const dotString = (text: string): string =>
  `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

export function renderDot(trace: Trace, options: RenderOptions = {}): string {
  const r = trace.receivable;
  const c = trace.conservation;
  const lines = [
    "digraph trace {",
    `  label=${dotString(`Receivable ${r.id}\nface ${formatAmount(r.faceValue, options)}, due ${r.dueDate.slice(0, 10)}, ${r.status}; ${c.conserves ? "conserves" : "DOES NOT CONSERVE"}`)};`,
    "  labelloc=t;",
    "  rankdir=TB;",
    '  node [shape=box, fontname="Helvetica", fontsize=10];',
  ];
  const edges: string[] = [];
  walk(trace.root, (node) => {
    lines.push(
      `  c${node.certificateId} [label=${dotString(boxLines(node, options).join("\n"))}, ${DOT_STYLE[node.state]}];`,
    );
    for (const child of node.children) edges.push(`  c${node.certificateId} -> c${child.certificateId};`);
  });
  lines.push(...edges, "}");
  return `${lines.join("\n")}\n`;
}

/** Mermaid labels: quotes and markup as entity codes (`#` too, it starts one). */
const mermaidText = (text: string): string =>
  text.replace(/#/g, "#35;").replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");

export function renderMermaid(trace: Trace, options: RenderOptions = {}): string {
  const lines = ["graph TD"];
  const edges: string[] = [];
  const byState = new Map<TraceNode["state"], string[]>();
  walk(trace.root, (node) => {
    lines.push(`  c${node.certificateId}["${boxLines(node, options).map(mermaidText).join("<br/>")}"]`);
    for (const child of node.children) edges.push(`  c${node.certificateId} --> c${child.certificateId}`);
    byState.set(node.state, [...(byState.get(node.state) ?? []), `c${node.certificateId}`]);
  });
  lines.push(
    ...edges,
    "  classDef live fill:#d9f2d9,stroke:#3a7d3a",
    "  classDef locked fill:#ffe0b3,stroke:#b36b00",
    "  classDef retired fill:#ffffff,stroke:#888888,stroke-dasharray:4 2",
    "  classDef settled fill:#e0e0e0,stroke:#555555",
  );
  for (const [state, ids] of byState) lines.push(`  class ${ids.join(",")} ${state}`);
  return `${lines.join("\n")}\n`;
}

export const TRACE_FORMATS = ["json", "text", "dot", "mermaid"] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** The body and content type for `format`. */
export function renderTrace(
  trace: Trace,
  format: Exclude<TraceFormat, "json">,
  options: RenderOptions = {},
): { contentType: string; body: string } {
  switch (format) {
    case "text":
      return { contentType: "text/plain; charset=utf-8", body: renderText(trace, options) };
    case "dot":
      return { contentType: "text/vnd.graphviz; charset=utf-8", body: renderDot(trace, options) };
    case "mermaid":
      return { contentType: "text/plain; charset=utf-8", body: renderMermaid(trace, options) };
  }
}
