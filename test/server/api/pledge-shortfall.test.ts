// A credit note that cuts a pledged leaf below what its pledgee is owed (issue 16): the ledger
// emits PledgeCollateralShortfall; the service indexes it (rebuilt by a reindex) and shows the
// gap wherever the pledge is seen — the financing request, the pledgee's and the pledgor's
// exposure, the pledgor's supplier limit (the pledgee's unsecured exposure to it) and the
// auditor's trace of the leaf. Every figure is checked against DilutionLedger.collateralShortfallOf.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { INDEX_TABLES } from "../../../server/store/schema.js";
import { findPartyById } from "../../../server/store/parties-store.js";
import { supplierExposure } from "../../../server/risk/exposure.js";

const DOC = `0x${"ab".repeat(32)}`;
const M = 1_000_000n;

describe("API: a credit note leaves a pledge short of collateral", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;
  let financier: TestParty;
  let receivableId: string;
  let sellerPiece: string;
  let requestId: string;

  const SHORTFALL = (10n * M).toString();

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    financier = await createTestParty(operator, ["financier"]);
    const mint = await t.service.ctx.chain.contracts.token
      .getFunction("mint")
      .populateTransaction(financier.address, 1_000n * M);
    await t.service.ctx.chain.registrar.send(mint, { kind: "mint", ref: "test" });

    // 100 units at 1.000000: face 100 tUSD. The seller passes 60 to tier 2 and keeps 40.
    receivableId = (await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id))).body.id;
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const split = await api.as(seller.apiKey).post(`/v1/certificates/${confirmed.body.certificateId}/split`, {
      parts: [
        { toPartyId: tier2.id, amount: (60n * M).toString() },
        { toPartyId: seller.id, amount: (40n * M).toString() },
      ],
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    sellerPiece = split.body.children[1].id;

    // The seller pledges its retained 40: lent 20, owed 30 to the pledgee.
    const opened = await api.as(seller.apiKey).post("/v1/financing-requests", {
      certificateId: sellerPiece,
      kind: "pledge",
      price: (20n * M).toString(),
      repayAmount: (30n * M).toString(),
    });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    requestId = opened.body.id;
    const funded = await api.as(financier.apiKey).post(`/v1/financing-requests/${requestId}/fund`);
    expect(funded.status, JSON.stringify(funded.body)).to.equal(200);

    // Nothing is short before the credit note.
    const before = await api.as(seller.apiKey).get(`/v1/financing-requests/${requestId}`);
    expect(before.body.collateralShortfall).to.equal("0");

    // The debtor returns 20 units; the seller's retained piece (pledged) absorbs the 20: claim 40 -> 20 < 30.
    const proposed = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, {
      amount: (20n * M).toString(),
      reasonCode: "RETURN",
      documentHash: DOC,
      lines: [{ sku: "SKU-1", quantity: 20 }],
    });
    expect(proposed.status, JSON.stringify(proposed.body)).to.equal(200);
    const notes = await api.as(debtor.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`);
    const applied = await api.as(seller.apiKey).post(`/v1/credit-notes/${notes.body.creditNotes[0].id}/consent`);
    expect(applied.status, JSON.stringify(applied.body)).to.equal(200);
  });
  after(async function () {
    await t?.close();
  });

  it("matches the ledger's own reading of the gap", async function () {
    const onChain = await t.service.ctx.chain.contracts.dilution!.collateralShortfallOf(sellerPiece);
    expect(onChain.toString()).to.equal(SHORTFALL);
  });

  it("indexes PledgeCollateralShortfall, and a reindex rebuilds it exactly", async function () {
    const db = t.service.ctx.db;
    const rows = await db.selectFrom("onchain_pledge_shortfalls").selectAll().execute();
    expect(rows.map((r) => [r.certificate_id, r.request_id, r.pledgee, r.outstanding, r.claim])).to.deep.equal([
      [sellerPiece, requestId, financier.address, (30n * M).toString(), (20n * M).toString()],
    ]);
    const snapshot = async () => {
      const out: Record<string, unknown[]> = {};
      for (const table of INDEX_TABLES) out[table] = await db.selectFrom(table).selectAll().execute();
      for (const list of Object.values(out)) list.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      return out;
    };
    const live = await snapshot();
    await t.service.ctx.indexer.rebuild();
    expect(await snapshot()).to.deep.equal(live);
  });

  it("is covered by the auditor's verify: the index's row against the chain's event", async function () {
    const operator = api.as(t.operatorKey);
    const clean = await operator.get(`/v1/audit/verify/${receivableId}`);
    expect(clean.status, JSON.stringify(clean.body)).to.equal(200);
    expect(clean.body.matches, JSON.stringify(clean.body.differences)).to.equal(true);
    const db = t.service.ctx.db;
    await db
      .updateTable("onchain_pledge_shortfalls")
      .set({ claim: (25n * M).toString() })
      .execute();
    try {
      const tampered = await operator.get(`/v1/audit/verify/${receivableId}`);
      expect(tampered.body.matches).to.equal(false);
      expect(
        tampered.body.differences.map(
          (d: { field: string; certificateId?: string; chain: unknown; index: unknown }) => [
            d.field,
            d.certificateId,
            d.chain,
            d.index,
          ],
        ),
      ).to.deep.equal([["pledgeShortfall.claim", sellerPiece, (20n * M).toString(), (25n * M).toString()]]);
    } finally {
      await db
        .updateTable("onchain_pledge_shortfalls")
        .set({ claim: (20n * M).toString() })
        .execute();
    }
  });

  it("shows collateralShortfall on the pledge", async function () {
    const read = await api.as(financier.apiKey).get(`/v1/financing-requests/${requestId}`);
    expect(read.status, JSON.stringify(read.body)).to.equal(200);
    expect(read.body).to.include({
      status: "pledged",
      outstanding: (30n * M).toString(),
      remainingClaim: (20n * M).toString(),
      collateralShortfall: SHORTFALL,
    });
  });

  it("shows it in the pledgee's exposure and the pledgor's", async function () {
    const pledgee = await api.as(t.operatorKey).get(`/v1/audit/parties/${financier.id}/exposure`);
    expect(pledgee.status, JSON.stringify(pledgee.body)).to.equal(200);
    expect(pledgee.body.asFinancier.collateralShortfall).to.equal(SHORTFALL);
    expect(
      pledgee.body.asFinancier.pledges.map((p: { requestId: string; collateralShortfall: string }) => [
        p.requestId,
        p.collateralShortfall,
      ]),
    ).to.deep.equal([[requestId, SHORTFALL]]);
    const pledgor = await api.as(t.operatorKey).get(`/v1/audit/parties/${seller.id}/exposure`);
    const piece = pledgor.body.owed.certificates.find(
      (c: { certificateId: string }) => c.certificateId === sellerPiece,
    );
    expect(piece.claim).to.equal((20n * M).toString());
    expect(piece.pledge).to.include({ requestId, collateralShortfall: SHORTFALL });
  });

  it("counts it against the pledgor's supplier limit, as the pledgee's unsecured exposure to it", async function () {
    const party = (await findPartyById(t.service.ctx.db, seller.id))!;
    const exposure = await supplierExposure(t.service.ctx, party);
    expect(exposure.collateralShortfall).to.equal(10n * M);
    expect(exposure.total).to.equal(
      exposure.originated + exposure.throughTiers + exposure.recourse + exposure.collateralShortfall + exposure.pending,
    );
    const risk = await api.as(t.operatorKey).get(`/v1/risk/parties/${seller.id}`);
    expect(risk.status, JSON.stringify(risk.body)).to.equal(200);
    expect(risk.body.limits.supplier.exposureParts.collateralShortfall).to.equal(SHORTFALL);
    expect(risk.body.limits.supplier.exposure).to.equal(exposure.total.toString());
  });

  it("shows it on the leaf in the auditor's trace", async function () {
    const trace = await api.as(t.operatorKey).get(`/v1/audit/receivables/${receivableId}/trace`);
    expect(trace.status, JSON.stringify(trace.body)).to.equal(200);
    const find = (node: { certificateId: string; children: unknown[] }): any =>
      node.certificateId === sellerPiece ? node : node.children.map((c) => find(c as never)).find(Boolean);
    const leaf = find(trace.body.root);
    expect(
      leaf.financing.map((f: { requestId: string; collateralShortfall: string }) => [
        f.requestId,
        f.collateralShortfall,
      ]),
    ).to.deep.equal([[requestId, SHORTFALL]]);
    expect(leaf.collateralShortfalls).to.have.length(1);
    expect(leaf.collateralShortfalls[0]).to.include({
      requestId,
      outstanding: (30n * M).toString(),
      claim: (20n * M).toString(),
      shortfall: SHORTFALL,
    });
    expect(leaf.collateralShortfalls[0].pledgee.partyId).to.equal(financier.id);
    const text = await api.as(t.operatorKey).get(`/v1/audit/receivables/${receivableId}/trace?format=text`);
    expect(String(text.body)).to.include("collateral short by");
  });

  it("hides it, with the pledge's terms, from the debtor, who sees the tree but not others' financing", async function () {
    const trace = await api.as(debtor.apiKey).get(`/v1/audit/receivables/${receivableId}/trace`);
    expect(trace.status, JSON.stringify(trace.body)).to.equal(200);
    const find = (node: { certificateId: string; children: unknown[] }): any =>
      node.certificateId === sellerPiece ? node : node.children.map((c) => find(c as never)).find(Boolean);
    const leaf = find(trace.body.root);
    expect(leaf.financing).to.deep.equal([]);
    expect(leaf.collateralShortfalls).to.deep.equal([]);
    const names = trace.body.transactions.flatMap((tx: { events: { name: string }[] }) => tx.events.map((e) => e.name));
    expect(names).to.include("LeafDiluted");
    expect(names).not.to.include("PledgeCollateralShortfall");
  });

  it("shows the claim after the cut in the certificate's wallet metadata, as the service deployed it", async function () {
    const uri: string = await t.service.ctx.chain.contracts.certificates.tokenURI(sellerPiece);
    const metadata = JSON.parse(Buffer.from(uri.split(",")[1]!, "base64").toString("utf8")) as {
      attributes: { trait_type: string; value: unknown }[];
    };
    const trait = (name: string) => metadata.attributes.find((a) => a.trait_type === name)?.value;
    expect(trait("Claim (units)")).to.equal((20n * M).toString());
    expect(trait("Face value (units)")).to.equal((40n * M).toString());
  });

  describe("when a second credit note cuts deeper and tier 2 finances its diluted piece", function () {
    before(async function () {
      // 30 more units returned: the pledged retained piece's last 20 go first (claim 0), then 10 off tier 2's 60.
      const proposed = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, {
        amount: (30n * M).toString(),
        reasonCode: "RETURN",
        documentHash: DOC,
        lines: [{ sku: "SKU-1", quantity: 30 }],
      });
      expect(proposed.status, JSON.stringify(proposed.body)).to.equal(200);
      const applied = await api.as(seller.apiKey).post(`/v1/credit-notes/${proposed.body.creditNote.id}/consent`);
      expect(applied.status, JSON.stringify(applied.body)).to.equal(200);
    });

    it("records a second shortfall event and shows the whole loan unsecured", async function () {
      const rows = await t.service.ctx.db
        .selectFrom("onchain_pledge_shortfalls")
        .select(["outstanding", "claim"])
        .orderBy("block_number")
        .execute();
      expect(rows.map((r) => [r.outstanding, r.claim])).to.deep.equal([
        [(30n * M).toString(), (20n * M).toString()],
        [(30n * M).toString(), "0"],
      ]);
      const read = await api.as(financier.apiKey).get(`/v1/financing-requests/${requestId}`);
      expect(read.body.collateralShortfall).to.equal((30n * M).toString());
      const onChain = await t.service.ctx.chain.contracts.dilution!.collateralShortfallOf(sellerPiece);
      expect(onChain).to.equal(30n * M);
    });

    it("funds a discount on tier 2's diluted piece at the claim the market recorded", async function () {
      const tier2Piece = (await api.as(tier2.apiKey).get(`/v1/audit/parties/${tier2.id}/exposure`)).body.owed
        .certificates[0].certificateId;
      const opened = await api
        .as(tier2.apiKey)
        .post("/v1/financing-requests", { certificateId: tier2Piece, kind: "discount", price: (40n * M).toString() });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
      expect(opened.body).to.include({ faceValue: (60n * M).toString(), remainingClaim: (50n * M).toString() });
      const funded = await api.as(financier.apiKey).post(`/v1/financing-requests/${opened.body.id}/fund`);
      expect(funded.status, JSON.stringify(funded.body)).to.equal(200);
      expect(funded.body.request).to.include({ status: "sold", remainingClaim: (50n * M).toString() });
    });
  });
});
