// Webhooks of issue 16 as an integrator meets them: a receivable is endorsed with recourse and
// passed down, disputed (withdrawn, dismissed by the arbiter), credit notes proposed (withdrawn,
// rejected by the arbiter, applied with the seller's consent), and the holder that bore the cut
// claims it from its endorser, which pays and passes the claim up. Each step reaches the
// endpoints of the parties it concerns as a signed event whose `data` parses with the type's
// payload schema (the one the OpenAPI document publishes): ids and decimal-string amounts.
import { createServer, type Server } from "node:http";
import { expect } from "chai";
import { Webhook } from "standardwebhooks";
import { freePort, startTestService, asGovernor, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { advanceChainTime, mint } from "../repayment-scenario.js";
import { ISSUE16_WEBHOOK_PAYLOADS, type Issue16WebhookEventType } from "../../../server/model/webhook-payloads.js";
import { until } from "../../helpers/until.js";

const DOC = `0x${"ab".repeat(32)}`;

interface Delivered {
  type: string;
  data: Record<string, any>;
}

/** A receiver on a free port that verifies every delivery under the endpoint's secret. */
async function startReceiver() {
  const raw: Array<{ headers: Record<string, string>; body: string }> = [];
  const port = await freePort();
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      raw.push({ headers: req.headers as Record<string, string>, body });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  let secret = "";
  return {
    url: `http://127.0.0.1:${port}/hook`,
    setSecret: (s: string) => (secret = s),
    /** The verified issue-16 events, in the order their chain events happened. */
    events(): Delivered[] {
      const verifier = new Webhook(secret);
      return raw
        .map((r) => verifier.verify(r.body, r.headers) as Delivered)
        .filter((e) => e.type in ISSUE16_WEBHOOK_PAYLOADS)
        .sort((a, b) => a.data.blockNumber - b.data.blockNumber);
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

describe("API: webhooks of disputes, credit notes and recourse", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;
  let tier3: TestParty;
  let auditor: TestParty;
  let receivableId: string;
  let rootId: string;
  let tier2Piece: string;
  let rejectedNoteId: string;
  let appliedNoteId: string;
  let withdrawnNoteId: string;
  let claimId: string;
  let escalatedId: string;
  const receivers: Record<string, Awaited<ReturnType<typeof startReceiver>>> = {};

  const ok = async (response: Promise<{ status: number; body: any }>, status = 200) => {
    const r = await response;
    expect(r.status, JSON.stringify(r.body)).to.equal(status);
    return r.body;
  };
  const note = (amount: string) => ({
    amount,
    reasonCode: "RETURN",
    documentHash: DOC,
    lines: [{ sku: "SKU-1", quantity: Number(BigInt(amount) / 1_000_000n) }],
  });
  const indexed = async () => t.service.ctx.indexer.sync(await t.service.ctx.chain.provider.getBlockNumber());

  before(async function () {
    t = await startTestService({
      TIERLINE_KEEPER: "false",
      TIERLINE_WEBHOOK_INTERVAL_MS: "50",
      TIERLINE_WEBHOOK_RETRY_BASE_MS: "100",
    });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    tier3 = await createTestParty(operator, ["financier"]);
    auditor = await createTestParty(operator, ["auditor"]);
    for (const party of [auditor, debtor, tier3]) {
      const receiver = await startReceiver();
      const created = await ok(api.as(party.apiKey).post("/v1/webhooks/endpoints", { url: receiver.url }), 201);
      receiver.setSecret(created.secret);
      receivers[party.id] = receiver;
    }
    await mint(t, tier2.address, 100_000_000n);

    // 100 units at 1.000000: face 100,000,000. The seller endorses the root and splits it;
    // tier 2 endorses its piece and passes it to tier 3.
    receivableId = (await ok(api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id)), 201)).id;
    rootId = (await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`))).certificateId;
    await ok(api.as(seller.apiKey).post(`/v1/certificates/${rootId}/recourse`));
    const split = await ok(
      api.as(seller.apiKey).post(`/v1/certificates/${rootId}/split`, {
        parts: [
          { toPartyId: tier2.id, amount: "60000000" },
          { toPartyId: seller.id, amount: "40000000" },
        ],
      }),
    );
    tier2Piece = split.children[0].id;
    await ok(api.as(tier2.apiKey).post(`/v1/certificates/${tier2Piece}/recourse`));
    await ok(api.as(tier2.apiKey).post(`/v1/certificates/${tier2Piece}/transfer`, { toPartyId: tier3.id }));

    // A dispute withdrawn by the debtor, one dismissed by the arbiter (the timelock).
    const dilution = t.service.ctx.chain.contracts.dilution!;
    const dispute = { reasonCode: "DAMAGED", documentHash: DOC };
    await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/disputes`, dispute));
    await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/disputes/withdraw`));
    await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/disputes`, dispute));
    await asGovernor(t, dilution, "dismissDispute", [receivableId, 2n]);
    await indexed();

    // A note withdrawn by the debtor, one rejected by the arbiter once the seller let its time pass,
    // and one the seller consents to, which is applied.
    withdrawnNoteId = (
      await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, note("10000000")))
    ).creditNote.id;
    await ok(api.as(debtor.apiKey).post(`/v1/credit-notes/${withdrawnNoteId}/withdraw`));
    rejectedNoteId = (
      await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, note("10000000")))
    ).creditNote.id;
    await advanceChainTime(t, Number(await dilution.sellerResponsePeriod()) + 60);
    await asGovernor(t, dilution, "decideCreditNote", [rejectedNoteId, false, []]);
    await indexed();
    appliedNoteId = (
      await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, note("50000000")))
    ).creditNote.id;
    await ok(api.as(seller.apiKey).post(`/v1/credit-notes/${appliedNoteId}/consent`));

    // Tier 3 bore 10,000,000 of the cut (the seller's retained 40,000,000 went first): it claims it
    // from tier 2, which pays and passes the claim up to the seller.
    claimId = (
      await ok(api.as(tier3.apiKey).post(`/v1/certificates/${tier2Piece}/recourse-claims`, { kind: "dilution" }))
    ).claim.id;
    await ok(api.as(tier2.apiKey).post(`/v1/recourse-claims/${claimId}/pay`));
    escalatedId = (await ok(api.as(tier2.apiKey).post(`/v1/recourse-claims/${claimId}/escalate`))).claim.id;

    await until("the escalation reaches the auditor", () =>
      receivers[auditor.id]!.events().find((e) => e.type === "recourse_claim.escalated"),
    );
  });
  after(async function () {
    for (const receiver of Object.values(receivers)) await receiver.close();
    await t?.close();
  });

  it("tells the auditor every step, in chain order, each verifying under its secret", function () {
    expect(receivers[auditor.id]!.events().map((e) => e.type)).to.deep.equal([
      "recourse.granted",
      "recourse.granted",
      "dispute.opened",
      "dispute.withdrawn",
      "dispute.opened",
      "dispute.dismissed",
      "dispute.opened",
      "credit_note.proposed",
      "credit_note.withdrawn",
      "credit_note.proposed",
      "credit_note.rejected",
      "credit_note.proposed",
      "dispute.resolved",
      "credit_note.applied",
      "recourse_claim.opened",
      "recourse_claim.paid",
      "recourse_claim.escalated",
    ]);
  });

  it("sends data that parses with each type's published payload schema", function () {
    for (const event of receivers[auditor.id]!.events()) {
      const parsed = ISSUE16_WEBHOOK_PAYLOADS[event.type as Issue16WebhookEventType].safeParse(event.data);
      expect(parsed.success, `${event.type}: ${JSON.stringify(parsed.error?.issues)}`).to.equal(true);
    }
  });

  it("carries the ids and the decimal-string amounts of the chain's events", function () {
    const events = receivers[auditor.id]!.events();
    const one = (type: string) => events.filter((e) => e.type === type);
    expect(one("recourse.granted").map((e) => [e.data.certificateId, e.data.endorser])).to.deep.equal([
      [rootId, seller.address],
      [tier2Piece, tier2.address],
    ]);
    expect(one("dispute.opened")[0]!.data).to.include({
      receivableId,
      debtor: debtor.address,
      reasonCode: "DAMAGED",
      documentHash: DOC,
    });
    expect(one("dispute.dismissed")[0]!.data).to.include({
      receivableId,
      arbiter: t.service.ctx.chain.deployment.addresses.timelock,
    });
    // Each dispute carries its number on the receivable; the dismissal names the one it closed.
    expect(one("dispute.opened").map((e) => e.data.disputeNumber)).to.deep.equal(["1", "2", "3"]);
    expect(one("dispute.dismissed").map((e) => e.data.disputeNumber)).to.deep.equal(["2"]);
    expect(one("credit_note.proposed").map((e) => [e.data.creditNoteId, e.data.amount])).to.deep.equal([
      [withdrawnNoteId, "10000000"],
      [rejectedNoteId, "10000000"],
      [appliedNoteId, "50000000"],
    ]);
    expect(one("credit_note.withdrawn")[0]!.data).to.include({ creditNoteId: withdrawnNoteId, receivableId });
    expect(one("credit_note.rejected")[0]!.data).to.include({ creditNoteId: rejectedNoteId, receivableId });
    expect(one("dispute.resolved")[0]!.data).to.include({ receivableId, creditNoteId: appliedNoteId });
    expect(one("credit_note.applied")[0]!.data).to.include({
      creditNoteId: appliedNoteId,
      receivableId,
      approvedBy: "seller",
      amount: "50000000",
      retainedReduction: "40000000",
      sharedReduction: "10000000",
      credited: "50000000",
    });
    expect(one("recourse_claim.opened")[0]!.data).to.include({
      claimId,
      leafId: tier2Piece,
      receivableId,
      kind: "dilution",
      creditor: tier3.address,
      guarantor: tier2.address,
      amount: "10000000",
    });
    expect(one("recourse_claim.paid")[0]!.data).to.include({
      claimId,
      payer: tier2.address,
      creditor: tier3.address,
      amount: "10000000",
    });
    expect(one("recourse_claim.escalated")[0]!.data).to.include({
      claimId: escalatedId,
      parentClaimId: claimId,
      creditor: tier2.address,
      guarantor: seller.address,
      amount: "10000000",
    });
  });

  it("tells the debtor of its disputes and notes, and nothing of the claims between holders", function () {
    const types = new Set(receivers[debtor.id]!.events().map((e) => e.type));
    for (const type of ["dispute.opened", "dispute.dismissed", "credit_note.rejected", "credit_note.applied"])
      expect(types).to.include(type);
    for (const type of ["recourse_claim.opened", "recourse_claim.paid", "recourse_claim.escalated"])
      expect(types).not.to.include(type);
  });

  it("tells tier 3 of the claim it opened and its payment, not of the claim passed up without it", async function () {
    await until("the payment reaches tier 3", () =>
      receivers[tier3.id]!.events().find((e) => e.type === "recourse_claim.paid"),
    );
    const types = receivers[tier3.id]!.events().map((e) => e.type);
    expect(types).to.include.members(["credit_note.applied", "recourse_claim.opened", "recourse_claim.paid"]);
    expect(types).not.to.include("recourse_claim.escalated");
  });

  it("documents each of these events' payload in the OpenAPI document's webhooks", async function () {
    const doc = (await api.get("/openapi.json")).body;
    expect(Object.keys(doc.webhooks).sort()).to.deep.equal(Object.keys(ISSUE16_WEBHOOK_PAYLOADS).sort());
    const paid = doc.webhooks["recourse_claim.paid"].post.requestBody.content["application/json"].schema;
    const data = paid.properties.data.$ref
      ? doc.components.schemas[paid.properties.data.$ref.split("/").pop()]
      : paid.properties.data;
    expect(data.required).to.include.members(["claimId", "payer", "creditor", "amount", "txHash"]);
    expect(data.properties.amount.type).to.equal("string");
  });
});
