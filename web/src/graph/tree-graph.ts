// The credit tree drawn with Cytoscape.js and a dagre (layered, top-down) layout: the
// root at the top, one rank per split, each node a certificate with its tier, holder,
// face value, state and financing. Pan and zoom keep a 500-node tree readable; the
// outline list beside it is the same tree for keyboards and screen readers.
import cytoscape, { type Core, type ElementDefinition } from "cytoscape";
import dagre from "cytoscape-dagre";
import { formatAmount } from "../money.js";
import type { TraceNode } from "../types.js";

cytoscape.use(dagre);

export const partyName = (ref: { name: string | null; partyId: string | null; address: string }) =>
  ref.name ?? ref.partyId ?? `${ref.address.slice(0, 8)}…`;

export function financingLine(node: TraceNode): string | null {
  const live = node.financing.find((f) => f.status !== "cancelled") ?? null;
  if (!live) return null;
  const who = live.financier ? partyName(live.financier) : "anyone";
  if (live.kind === "discount")
    return live.status === "sold"
      ? `sold to ${who} for ${formatAmount(live.price)}`
      : `offered for ${formatAmount(live.price)}`;
  if (live.status === "open") return `pledge asked: ${formatAmount(live.price)}`;
  return `${live.status === "pledged" ? "pledged" : `pledge ${live.status}`} to ${who}: lent ${formatAmount(live.price)}, owed ${formatAmount(live.outstanding)}`;
}

export function nodeLabel(node: TraceNode): string {
  const lines = [
    `#${node.certificateId} · tier ${node.tier}`,
    partyName(node.holder),
    `${formatAmount(node.faceValue)} · ${node.state}`,
  ];
  const financing = financingLine(node);
  if (financing) lines.push(financing);
  if (BigInt(node.paidOut) > 0n) lines.push(`paid out ${formatAmount(node.paidOut)}`);
  return lines.join("\n");
}

/** A box that fits the label at 11 px (Cytoscape's width: "label" is deprecated). */
function labelBox(label: string): { width: number; height: number } {
  const lines = label.split("\n");
  return { width: Math.max(...lines.map((l) => l.length)) * 6.4 + 20, height: lines.length * 14 + 14 };
}

export function flatten(root: TraceNode): TraceNode[] {
  const out: TraceNode[] = [];
  const walk = (n: TraceNode) => {
    out.push(n);
    n.children.forEach(walk);
  };
  walk(root);
  return out;
}

const STATE_COLOURS: Record<TraceNode["state"], string> = {
  live: "#e7f5ec",
  locked: "#fff4d6",
  retired: "#eceff3",
  settled: "#e3ecfb",
};

export function drawTree(container: HTMLElement, root: TraceNode, onSelect: (id: string) => void): Core {
  const nodes = flatten(root);
  const elements: ElementDefinition[] = [
    ...nodes.map((n) => ({
      data: { id: n.certificateId, label: nodeLabel(n), state: n.state, tier: n.tier, ...labelBox(nodeLabel(n)) },
    })),
    ...nodes
      .filter((n) => n.parentId !== null)
      .map((n) => ({
        data: { id: `e${n.parentId}-${n.certificateId}`, source: n.parentId!, target: n.certificateId },
      })),
  ];
  const cy = cytoscape({
    container,
    elements,
    minZoom: 0.05,
    maxZoom: 3,
    style: [
      {
        selector: "node",
        style: {
          shape: "round-rectangle",
          label: "data(label)",
          "text-wrap": "wrap",
          "text-valign": "center",
          "text-halign": "center",
          "font-size": 11,
          "font-family": "system-ui, sans-serif",
          color: "#1b2430",
          width: "data(width)",
          height: "data(height)",
          "border-width": 1,
          "border-color": "#8a96a8",
          "background-color": (el) => STATE_COLOURS[el.data("state") as TraceNode["state"]] ?? "#fff",
        },
      },
      { selector: "node[state = 'retired']", style: { "border-style": "dashed", color: "#5a6473" } },
      { selector: "node[state = 'locked']", style: { "border-color": "#b7791f", "border-width": 2 } },
      { selector: "node:selected", style: { "border-color": "#1d4ed8", "border-width": 3 } },
      {
        selector: "edge",
        style: {
          width: 1.5,
          "line-color": "#8a96a8",
          "target-arrow-color": "#8a96a8",
          "target-arrow-shape": "triangle",
          "curve-style": "taxi",
          "taxi-direction": "downward",
        },
      },
    ],
    layout: {
      name: "dagre",
      rankDir: "TB",
      nodeSep: 24,
      rankSep: 48,
      fit: true,
      padding: 16,
    } as cytoscape.LayoutOptions,
  });
  cy.on("tap", "node", (event) => onSelect(event.target.id() as string));
  container.dataset.nodes = String(cy.nodes().length);
  container.dataset.tiers = [...new Set(nodes.map((n) => n.tier))].sort((a, b) => a - b).join(",");
  return cy;
}
