// The trace of a caller who may see only its lineage path (a piece's holder, a financier
// weighing a request on a piece) shows the path and nothing of the pieces beside it: not their
// credit-note cuts, not the recourse claims on them, not their splits; and a financier still
// weighing a request sees no credit notes at all, as GET /v1/receivables/:id/credit-notes
// refuses it (the policy's dilution cell). A review found the trace returned every credit
// note's leaves, and the claims and splits of pieces off the path.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient, type ApiResponse } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

const DOCUMENT = "0x" + "ab".repeat(32);

interface TraceEvent {
  contract: string;
  name: string;
  args: Record<string, unknown>;
}

describe("API: a trace on a lineage path", function () {
  this.timeout(180_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let x: TestParty;
  let financier: TestParty;
  let receivableId: string;
  let tier2Piece: string;
  let xPiece: string;
  let claimId: string;

  const ok = async (pending: Promise<ApiResponse>, status = 200) => {
    const response = await pending;
    expect(response.status, JSON.stringify(response.body).slice(0, 600)).to.equal(status);
    return response.body;
  };
  const traceOf = (party: TestParty) => ok(api.as(party.apiKey).get(`/v1/audit/receivables/${receivableId}/trace`));
  const eventsOf = (trace: { transactions: Array<{ events: TraceEvent[] }> }) =>
    trace.transactions.flatMap((tx) => tx.events);
  /** Whether `event` is about certificate `id` (as the piece, a claim's leaf, a split's parent or child). */
  const mentions = (event: TraceEvent, id: string) =>
    ["certificateId", "tokenId", "leafId", "parentId"].some((key) => event.args[key] === id) ||
    (Array.isArray(event.args.childIds) && event.args.childIds.includes(id));

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    const debtor = await createTestParty(operator, ["debtor"]);
    const tier2 = await createTestParty(operator, ["supplier"]);
    const tier3 = await createTestParty(operator, ["financier"]);
    x = await createTestParty(operator, ["supplier"]);
    financier = await createTestParty(operator, ["financier"]);
    const { chain } = t.service.ctx;
    // tier2 pays a recourse claim below: it needs settlement tokens.
    await chain.registrar.send(
      await chain.contracts.token.getFunction("mint").populateTransaction(tier2.address, 100_000_000n),
      { kind: "mint", ref: "test" },
    );

    receivableId = (await ok(api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id)), 201)).id;
    const rootId = (await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`))).certificateId;
    const split = await ok(
      api.as(seller.apiKey).post(`/v1/certificates/${rootId}/split`, {
        parts: [
          { toPartyId: tier2.id, amount: "60000000" },
          { toPartyId: seller.id, amount: "20000000" },
          { toPartyId: x.id, amount: "20000000" },
        ],
      }),
    );
    [tier2Piece, , xPiece] = split.children.map((child: { id: string }) => child.id);
    await ok(api.as(tier2.apiKey).post(`/v1/certificates/${tier2Piece}/recourse`));
    await ok(api.as(tier2.apiKey).post(`/v1/certificates/${tier2Piece}/transfer`, { toPartyId: tier3.id }));
    // A 50.00 credit note: the seller's 20.00 first, then 30.00 shared by tier3's and X's pieces.
    const creditNoteId = (
      await ok(
        api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, {
          amount: "50000000",
          reasonCode: "RETURN",
          documentHash: DOCUMENT,
          lines: [{ sku: "SKU-1", quantity: 50 }],
        }),
      )
    ).creditNote.id;
    await ok(api.as(seller.apiKey).post(`/v1/credit-notes/${creditNoteId}/consent`));
    claimId = (
      await ok(api.as(tier3.apiKey).post(`/v1/certificates/${tier2Piece}/recourse-claims`, { kind: "dilution" }))
    ).claim.id;
    await ok(api.as(tier2.apiKey).post(`/v1/recourse-claims/${claimId}/pay`));
    // X lists its piece: every financier is now weighing a request on this receivable.
    await ok(
      api.as(x.apiKey).post("/v1/financing-requests", { certificateId: xPiece, kind: "discount", price: "1000000" }),
      201,
    );
  });
  after(async function () {
    await t?.close();
  });

  it("shows the seller (the whole tree) every leaf's cut and the claim on tier 2's piece", async function () {
    const trace = await traceOf(seller);
    expect(trace.creditNotes).to.have.length(1);
    expect(trace.creditNotes[0].leaves.map((leaf: { certificateId: string }) => leaf.certificateId)).to.include.members(
      [tier2Piece, xPiece],
    );
    const events = eventsOf(trace);
    expect(events.some((e) => e.name === "RecourseClaimOpened" && e.args.leafId === tier2Piece)).to.equal(true);
    expect(events.some((e) => e.name === "RecourseClaimPaid" && e.args.claimId === claimId)).to.equal(true);
  });

  it("shows X, on its own piece's path, only its own piece's cut and nothing of tier 2's piece", async function () {
    const trace = await traceOf(x);
    expect(trace.creditNotes).to.have.length(1);
    expect(trace.creditNotes[0].leaves.map((leaf: { certificateId: string }) => leaf.certificateId)).to.deep.equal([
      xPiece,
    ]);
    const events = eventsOf(trace);
    expect(events.filter((e) => mentions(e, tier2Piece))).to.deep.equal([]);
    expect(events.filter((e) => e.contract === "recourse")).to.deep.equal([]);
  });

  it("shows a financier weighing X's request no credit note, no dilution event and nothing of tier 2's piece", async function () {
    expect((await api.as(financier.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`)).status).to.equal(403);
    const trace = await traceOf(financier);
    expect(trace.creditNotes).to.deep.equal([]);
    const events = eventsOf(trace);
    expect(events.filter((e) => e.contract === "dilution")).to.deep.equal([]);
    expect(events.filter((e) => mentions(e, tier2Piece))).to.deep.equal([]);
    expect(events.filter((e) => e.contract === "recourse")).to.deep.equal([]);
    expect(trace.root.children.map((child: { certificateId: string }) => child.certificateId)).to.deep.equal([xPiece]);
  });
});
