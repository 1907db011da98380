// The trace renderers on a hand-built tree: the text tree line by line, Graphviz DOT and
// Mermaid node by node, and exact amount formatting.
import { expect } from "chai";
import {
  formatAmount,
  renderDot,
  renderMermaid,
  renderText,
  renderTrace,
} from "../../../server/domain/audit/render.js";
import {
  checkConservation,
  classifyTransaction,
  type Trace,
  type TraceNode,
} from "../../../server/domain/audit/trace.js";

const acme = { address: "0x00000000000000000000000000000000000000A1", partyId: "pty_acme", name: "Acme Components" };
const bolt = { address: "0x00000000000000000000000000000000000000B2", partyId: "pty_bolt", name: 'Bolt "Metals" <2>' };
const harbor = { address: "0x00000000000000000000000000000000000000C3", partyId: "pty_harbor", name: "Harbor Bank" };
const summit = {
  address: "0x00000000000000000000000000000000000000D4",
  partyId: "pty_summit",
  name: "Summit Factoring",
};
const stranger = { address: "0x00000000000000000000000000000000000000E5", partyId: null, name: null };
const northwind = {
  address: "0x00000000000000000000000000000000000000F6",
  partyId: "pty_north",
  name: "Northwind Mart",
};

const node = (
  overrides: Partial<TraceNode> & Pick<TraceNode, "certificateId" | "tier" | "holder" | "faceValue" | "state">,
): TraceNode => ({
  parentId: null,
  financing: [],
  paidOut: "0",
  reduction: "0",
  claim: overrides.faceValue,
  dilutions: [],
  endorsements: [],
  recourseClaims: [],
  collateralShortfalls: [],
  issuedTxHash: `0x${"0".repeat(63)}${overrides.certificateId}`,
  issuedBlock: 10,
  children: [],
  ...overrides,
});

/** #1 Acme 1000 (retired) -> #2 Bolt 600 (retired) -> #4 Harbor 200 (bought at a discount), #5 Bolt 400 (pledged); #3 stranger 400 (paid 100). */
function handBuiltTrace(): Trace {
  const discount = {
    requestId: "1",
    kind: "discount" as const,
    price: "190000000",
    repayAmount: "0",
    status: "sold" as const,
    financier: harbor,
    outstanding: "0",
    shortfall: null,
    collateralShortfall: "0",
    openedTxHash: "0xopen1",
    fundedTxHash: "0xfund1",
  };
  const pledge = {
    requestId: "2",
    kind: "pledge" as const,
    price: "300000000",
    repayAmount: "320000000",
    status: "pledged" as const,
    financier: summit,
    outstanding: "320000000",
    shortfall: null,
    collateralShortfall: "0",
    openedTxHash: "0xopen2",
    fundedTxHash: "0xfund2",
  };
  const c4 = node({
    certificateId: "4",
    parentId: "2",
    tier: 3,
    holder: harbor,
    faceValue: "200000000",
    state: "live",
    financing: [discount],
  });
  const c5 = node({
    certificateId: "5",
    parentId: "2",
    tier: 2,
    holder: bolt,
    faceValue: "400000000",
    state: "locked",
    financing: [pledge],
  });
  const c2 = node({
    certificateId: "2",
    parentId: "1",
    tier: 2,
    holder: bolt,
    faceValue: "600000000",
    state: "retired",
    children: [c4, c5],
  });
  const c3 = node({
    certificateId: "3",
    parentId: "1",
    tier: 1,
    holder: stranger,
    faceValue: "400000000",
    state: "live",
    paidOut: "100000000",
  });
  const root = node({
    certificateId: "1",
    tier: 1,
    holder: acme,
    faceValue: "1000000000",
    state: "retired",
    children: [c2, c3],
  });
  return {
    receivable: {
      id: `0x${"ab".repeat(32)}`,
      seller: acme,
      debtor: northwind,
      registrar: "0x0000000000000000000000000000000000000001",
      faceValue: "1000000000",
      dueDate: "2027-03-01T00:00:00.000Z",
      status: "active",
      repaidAmount: "250000000",
      creditedAmount: "0",
      owedAmount: "1000000000",
      distributed: "100000000",
      earlyDiscount: "0",
      documentHash: `0x${"cd".repeat(32)}`,
      rootCertificateId: "1",
      registerTxHash: "0xreg",
      registeredBlock: 10,
    },
    root,
    certificateCount: 5,
    creditNotes: [],
    transactions: [
      {
        txHash: "0xreg",
        blockNumber: 10,
        kind: "registration",
        events: [
          { logIndex: 0, contract: "registry", name: "ReceivableRegistered", args: {} },
          { logIndex: 1, contract: "certificates", name: "CertificateIssued", args: {} },
        ],
      },
      {
        txHash: "0xsplit",
        blockNumber: 112,
        kind: "split",
        events: [{ logIndex: 0, contract: "certificates", name: "CertificateSplit", args: {} }],
      },
    ],
    conservation: {
      rootFace: "1000000000",
      liveLeafFaceSum: "1000000000",
      leafCount: 3,
      retiredCount: 2,
      credited: "0",
      liveLeafClaimSum: "1000000000",
      conserves: true,
      brokenSplits: [],
    },
    asOfBlock: 120,
  };
}

describe("audit renderers", function () {
  describe("when formatting amounts", function () {
    it("writes integer minor units as tUSD with six decimals, exactly", function () {
      expect(formatAmount("600000000")).to.equal("600.000000 tUSD");
      expect(formatAmount(0n)).to.equal("0.000000 tUSD");
      expect(formatAmount("1")).to.equal("0.000001 tUSD");
      expect(formatAmount("123456789012345678901234567")).to.equal("123456789012345678901.234567 tUSD");
      expect(formatAmount(-1500000n)).to.equal("-1.500000 tUSD");
    });

    it("follows other decimals and symbols when told", function () {
      expect(formatAmount("12345", { decimals: 2, symbol: "EUR" })).to.equal("123.45 EUR");
      expect(formatAmount("7", { decimals: 0, symbol: "PTS" })).to.equal("7 PTS");
    });
  });

  describe("when rendering the text tree", function () {
    it("draws every certificate with box-drawing connectors, holders, tiers, states and financing", function () {
      const text = renderText(handBuiltTrace());
      expect(text.split("\n")).to.deep.equal([
        `Receivable 0x${"ab".repeat(32)}`,
        `  seller      Acme Components (pty_acme) ${acme.address}`,
        `  debtor      Northwind Mart (pty_north) ${northwind.address}`,
        "  face value  1000.000000 tUSD, due 2027-03-01, status active",
        "  repaid      250.000000 tUSD, distributed 100.000000 tUSD, early discount 0.000000 tUSD",
        `  documents   0x${"cd".repeat(32)}`,
        "  registered  tx 0xreg (block 10)",
        "",
        "Certificates (5):",
        "#1  tier 1  Acme Components  1000.000000 tUSD  retired",
        '├── #2  tier 2  Bolt "Metals" <2>  600.000000 tUSD  retired',
        "│   ├── #4  tier 3  Harbor Bank  200.000000 tUSD  live",
        "│   │       ↳ discount request #1 sold to Harbor Bank, price 190.000000 tUSD",
        '│   └── #5  tier 2  Bolt "Metals" <2>  400.000000 tUSD  locked',
        "│           ↳ pledge request #2 pledged with Summit Factoring, lent 300.000000 tUSD, repay 320.000000 tUSD, outstanding 320.000000 tUSD",
        `└── #3  tier 1  ${stranger.address}  400.000000 tUSD  live, paid out 100.000000 tUSD`,
        "",
        "Conservation: leaves 1000.000000 tUSD = root 1000.000000 tUSD (3 leaves, 2 retired): conserves",
        "",
        "Transactions (2), index as of block 120:",
        "  block  10  registration  0xreg  ReceivableRegistered, CertificateIssued",
        "  block 112  split         0xsplit  CertificateSplit",
        "",
      ]);
    });

    it("names a holder outside the service by its address in the party lines", function () {
      const trace = handBuiltTrace();
      trace.receivable.seller = stranger;
      expect(renderText(trace)).to.contain(`  seller      ${stranger.address} (not a party of this service)\n`);
    });

    it("says loudly when the tree does not conserve, naming the broken split", function () {
      const trace = handBuiltTrace();
      trace.conservation = {
        ...trace.conservation,
        liveLeafFaceSum: "900000000",
        conserves: false,
        brokenSplits: [{ certificateId: "2", faceValue: "600000000", childrenFaceSum: "500000000" }],
      };
      const text = renderText(trace);
      expect(text).to.contain(
        "Conservation: leaves 900.000000 tUSD ≠ root 1000.000000 tUSD (3 leaves, 2 retired): DOES NOT CONSERVE\n",
      );
      expect(text).to.contain("  split of #2: children 500.000000 tUSD ≠ parent 600.000000 tUSD\n");
    });

    it("shows a released pledge's shortfall and a cancelled request without a financier", function () {
      const trace = handBuiltTrace();
      const c3 = trace.root.children[1]!;
      c3.financing = [
        {
          ...trace.root.children[0]!.children[1]!.financing[0]!,
          requestId: "7",
          status: "released",
          outstanding: "0",
          shortfall: "20000000",
        },
        { ...trace.root.children[0]!.children[0]!.financing[0]!, requestId: "8", status: "cancelled", financier: null },
      ];
      const lines = renderText(trace).split("\n");
      const at = lines.findIndex((l) => l.startsWith("└── #3"));
      expect(lines.slice(at + 1, at + 3)).to.deep.equal([
        "        ↳ pledge request #7 released with Summit Factoring, lent 300.000000 tUSD, repay 320.000000 tUSD, outstanding 0.000000 tUSD, shortfall 20.000000 tUSD",
        "        ↳ discount request #8 cancelled, price 190.000000 tUSD",
      ]);
    });
  });

  describe("when rendering Graphviz DOT", function () {
    it("writes one node per certificate and one edge per parent-child link, labels escaped", function () {
      const dot = renderDot(handBuiltTrace());
      const lines = dot.trimEnd().split("\n");
      expect(lines[0]).to.equal("digraph trace {");
      expect(lines.at(-1)).to.equal("}");
      const nodes = lines.filter((l) => /^ {2}c\d+ \[label=/.test(l));
      const edges = lines.filter((l) => /^ {2}c\d+ -> c\d+;$/.test(l));
      expect(nodes.map((l) => l.split(" ")[2])).to.deep.equal(["c1", "c2", "c4", "c5", "c3"]);
      expect(edges).to.deep.equal(["  c1 -> c2;", "  c1 -> c3;", "  c2 -> c4;", "  c2 -> c5;"]);
      expect(dot).to.contain(
        'c5 [label="#5 · tier 2\\nBolt \\"Metals\\" <2>\\n400.000000 tUSD\\nlocked\\npledge #2 pledged (Summit Factoring)", style="rounded,filled", fillcolor="#ffe0b3"];',
      );
      expect(dot).to.contain(
        'c3 [label="#3 · tier 1\\n0x00000000000000000000000000000000000000E5\\n400.000000 tUSD\\nlive\\npaid out 100.000000 tUSD"',
      );
    });
  });

  describe("when rendering Mermaid", function () {
    it("writes a top-down graph with one node per certificate, one edge per link and a class per state", function () {
      const mermaid = renderMermaid(handBuiltTrace());
      const lines = mermaid.trimEnd().split("\n");
      expect(lines[0]).to.equal("graph TD");
      expect(lines.filter((l) => /^ {2}c\d+\["/.test(l))).to.have.length(5);
      expect(lines.filter((l) => /^ {2}c\d+ --> c\d+$/.test(l))).to.deep.equal([
        "  c1 --> c2",
        "  c1 --> c3",
        "  c2 --> c4",
        "  c2 --> c5",
      ]);
      expect(lines).to.include(
        '  c5["#35;5 · tier 2<br/>Bolt #quot;Metals#quot; #lt;2#gt;<br/>400.000000 tUSD<br/>locked<br/>pledge #35;2 pledged (Summit Factoring)"]',
      );
      expect(lines).to.include("  class c1,c2 retired");
      expect(lines).to.include("  class c4,c3 live");
      expect(lines).to.include("  class c5 locked");
    });
  });

  describe("when choosing the content type by format", function () {
    it("serves text and mermaid as text/plain and dot as text/vnd.graphviz", function () {
      const trace = handBuiltTrace();
      expect(renderTrace(trace, "text")).to.deep.equal({
        contentType: "text/plain; charset=utf-8",
        body: renderText(trace),
      });
      expect(renderTrace(trace, "dot")).to.deep.equal({
        contentType: "text/vnd.graphviz; charset=utf-8",
        body: renderDot(trace),
      });
      expect(renderTrace(trace, "mermaid")).to.deep.equal({
        contentType: "text/plain; charset=utf-8",
        body: renderMermaid(trace),
      });
    });
  });
});

describe("audit conservation check", function () {
  const row = (id: string, parent: string | null, face: string, state: string) => ({
    id,
    parent_id: parent,
    face_value: face,
    state,
  });

  it("conserves when the leaves add up to the root and each split to its parent", function () {
    const check = checkConservation("1000", [
      row("1", null, "1000", "retired"),
      row("2", "1", "600", "settled"),
      row("3", "1", "400", "locked"),
    ]);
    expect(check).to.deep.equal({
      rootFace: "1000",
      liveLeafFaceSum: "1000",
      leafCount: 2,
      retiredCount: 1,
      credited: "0",
      liveLeafClaimSum: "1000",
      conserves: true,
      brokenSplits: [],
    });
  });

  it("after a credit note, conserves only when the leaves' claims add up to the root less what was credited", function () {
    const diluted = [
      { ...row("1", null, "1000", "retired"), reduction: "0" },
      { ...row("2", "1", "600", "live"), reduction: "100" },
      { ...row("3", "1", "400", "live"), reduction: "50" },
    ];
    const check = checkConservation("1000", diluted, "150");
    expect(check).to.include({ liveLeafFaceSum: "1000", liveLeafClaimSum: "850", credited: "150", conserves: true });
    expect(checkConservation("1000", diluted, "100").conserves).to.equal(false);
  });

  it("does not conserve when a split's children miss part of their parent, and names it", function () {
    const check = checkConservation("1000", [
      row("1", null, "1000", "retired"),
      row("2", "1", "600", "live"),
      row("3", "1", "300", "live"),
      row("4", "2", "50", "live"),
    ]);
    expect(check.conserves).to.equal(false);
    expect(check.liveLeafFaceSum).to.equal("950");
    expect(check.brokenSplits).to.deep.equal([{ certificateId: "1", faceValue: "1000", childrenFaceSum: "900" }]);
  });

  it("does not conserve when the leaves exceed the root though every split adds up", function () {
    const check = checkConservation("1000", [row("1", null, "1200", "retired"), row("2", "1", "1200", "live")]);
    expect(check).to.include({ liveLeafFaceSum: "1200", conserves: false });
    expect(check.brokenSplits).to.deep.equal([]);
  });
});

describe("audit transaction kinds", function () {
  it("names a transaction by its most telling event", function () {
    expect(classifyTransaction(["ReceivableRegistered", "CertificateIssued", "Transfer"])).to.equal("registration");
    expect(classifyTransaction(["Transfer", "CertificateIssued", "CertificateSplit"])).to.equal("split");
    expect(classifyTransaction(["CertificateLockLifted", "Transfer", "FinancingFunded"])).to.equal("financing");
    expect(classifyTransaction(["FinancingRequested", "CertificateLockPlaced"])).to.equal("financing-request");
    expect(classifyTransaction(["RepaymentRecorded", "ReceivableStatusChanged", "RepaymentReceived"])).to.equal(
      "repayment",
    );
    expect(classifyTransaction(["LeafSettled", "PledgeRepaid", "PledgeReleased", "CertificateSettled"])).to.equal(
      "settlement",
    );
    expect(classifyTransaction(["PledgeRepaid", "PledgeReleased", "CertificateLockLifted"])).to.equal(
      "pledge-repayment",
    );
    expect(classifyTransaction(["Transfer"])).to.equal("transfer");
  });
});
