// The auditor's "verify from chain" over issue 16's tables: a receivable endorsed with recourse,
// split and passed down, disputed and withdrawn, credited by a note the seller consents to, and
// the cut claimed from the endorser, who pays. The index then matches what the ledgers' logs
// say; each row someone rewrites or drops in the disputes, credit notes, cuts, endorsements or
// claims (or the receivable's credit and a leaf's reduction) is reported, with both values.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { mint } from "../repayment-scenario.js";

const DOC = `0x${"cd".repeat(32)}`;

describe("API: verifying disputes, credit notes and recourse from the chain", function () {
  this.timeout(90_000);
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
  let creditNoteId: string;
  let claimId: string;
  let withdrawnDisputeId: string;

  const ok = async (response: Promise<{ status: number; body: any }>, status = 200) => {
    const r = await response;
    expect(r.status, JSON.stringify(r.body)).to.equal(status);
    return r.body;
  };
  const verify = async () => ok(api.as(auditor.apiKey).get(`/v1/audit/verify/${receivableId}`));

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    tier3 = await createTestParty(operator, ["financier"]);
    auditor = await createTestParty(operator, ["auditor"]);
    await mint(t, tier2.address, 100_000_000n);

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
    withdrawnDisputeId = (
      await ok(
        api
          .as(debtor.apiKey)
          .post(`/v1/receivables/${receivableId}/disputes`, { reasonCode: "DAMAGED", documentHash: DOC }),
      )
    ).dispute.id;
    await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/disputes/withdraw`));
    creditNoteId = (
      await ok(
        api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, {
          amount: "50000000",
          reasonCode: "RETURN",
          documentHash: DOC,
          lines: [{ sku: "SKU-1", quantity: 50 }],
        }),
      )
    ).creditNote.id;
    await ok(api.as(seller.apiKey).post(`/v1/credit-notes/${creditNoteId}/consent`));
    claimId = (
      await ok(api.as(tier3.apiKey).post(`/v1/certificates/${tier2Piece}/recourse-claims`, { kind: "dilution" }))
    ).claim.id;
    await ok(api.as(tier2.apiKey).post(`/v1/recourse-claims/${claimId}/pay`));
  });
  after(async function () {
    await t?.close();
  });

  it("finds the index equal to the chain, issue 16's rows counted", async function () {
    const body = await verify();
    expect(body.differences).to.deep.equal([]);
    expect(body.contractView).to.deep.equal({ checked: true, matches: true, differences: [] });
    expect(body.matches).to.equal(true);
    // Two disputes (one withdrawn, one resolved by the note), one note, two cuts, two endorsements, one claim.
    expect(body.checkedDilutionAndRecourse).to.equal(8);
  });

  /** Rewrites rows in the index, verifies, and puts them back. */
  async function tampered(change: () => Promise<unknown>, restore: () => Promise<unknown>) {
    await change();
    try {
      return await verify();
    } finally {
      await restore();
    }
  }

  it("reports a credit note whose amount was rewritten", async function () {
    const { db } = t.service.ctx;
    const set = (amount: string) =>
      db.updateTable("onchain_credit_notes").set({ amount }).where("id", "=", creditNoteId).execute();
    const body = await tampered(
      () => set("5000000"),
      () => set("50000000"),
    );
    expect(body.matches).to.equal(false);
    expect(body.differences).to.deep.equal([
      { creditNoteId, field: "creditNote.amount", chain: "50000000", index: "5000000" },
    ]);
  });

  it("reports a withdrawn dispute shown as dismissed", async function () {
    const { db } = t.service.ctx;
    const set = (status: string) =>
      db.updateTable("onchain_disputes").set({ status }).where("id", "=", withdrawnDisputeId).execute();
    const body = await tampered(
      () => set("dismissed"),
      () => set("withdrawn"),
    );
    expect(body.differences).to.deep.equal([
      { disputeId: withdrawnDisputeId, field: "dispute.status", chain: "withdrawn", index: "dismissed" },
    ]);
  });

  it("reports a leaf's cut, its reduction and the receivable's credit rewritten", async function () {
    const { db } = t.service.ctx;
    const cut = (reduction: string) =>
      db
        .updateTable("onchain_leaf_reductions")
        .set({ reduction })
        .where("credit_note_id", "=", creditNoteId)
        .where("certificate_id", "=", tier2Piece)
        .execute();
    const leaf = (reduction: string) =>
      db.updateTable("onchain_certificates").set({ reduction }).where("id", "=", tier2Piece).execute();
    const credited = (amount: string) =>
      db.updateTable("onchain_receivables").set({ credited: amount }).where("id", "=", receivableId).execute();
    const body = await tampered(
      () => Promise.all([cut("1"), leaf("1"), credited("41000000")]),
      () => Promise.all([cut("10000000"), leaf("10000000"), credited("50000000")]),
    );
    expect(body.differences).to.deep.equal([
      { field: "receivable.credited", chain: "50000000", index: "41000000" },
      { certificateId: tier2Piece, field: "reduction", chain: "10000000", index: "1" },
      { certificateId: tier2Piece, creditNoteId, field: "leafReduction.reduction", chain: "10000000", index: "1" },
    ]);
    expect(body.contractView.matches).to.equal(true);
  });

  it("reports a dispute whose number was rewritten: a dismissal names it", async function () {
    const { db } = t.service.ctx;
    const set = (number: number) =>
      db.updateTable("onchain_disputes").set({ dispute_number: number }).where("id", "=", withdrawnDisputeId).execute();
    const body = await tampered(
      () => set(2),
      () => set(1),
    );
    expect(body.differences).to.deep.equal([
      { disputeId: withdrawnDisputeId, field: "dispute.number", chain: 1, index: 2 },
    ]);
    expect(body.contractView.matches).to.equal(true);
  });

  it("reports an endorsement credited to another endorser", async function () {
    const { db } = t.service.ctx;
    const set = (endorser: string) =>
      db
        .updateTable("onchain_recourse_endorsements")
        .set({ endorser })
        .where("certificate_id", "=", tier2Piece)
        .execute();
    const body = await tampered(
      () => set(seller.address),
      () => set(tier2.address),
    );
    expect(body.differences).to.deep.equal([
      {
        certificateId: tier2Piece,
        field: "recourse.endorsement[0].endorser",
        chain: tier2.address,
        index: seller.address,
      },
    ]);
  });

  it("reports a paid claim shown as open, and a claim dropped from the index", async function () {
    const { db } = t.service.ctx;
    const row = await db
      .selectFrom("onchain_recourse_claims")
      .selectAll()
      .where("id", "=", claimId)
      .executeTakeFirstOrThrow();
    const reopened = await tampered(
      () => db.updateTable("onchain_recourse_claims").set({ status: "open" }).where("id", "=", claimId).execute(),
      () => db.updateTable("onchain_recourse_claims").set({ status: "paid" }).where("id", "=", claimId).execute(),
    );
    expect(reopened.differences).to.deep.equal([
      { claimId, field: "recourseClaim.status", chain: "paid", index: "open" },
    ]);
    const dropped = await tampered(
      () => db.deleteFrom("onchain_recourse_claims").where("id", "=", claimId).execute(),
      () => db.insertInto("onchain_recourse_claims").values(row).execute(),
    );
    expect(dropped.differences).to.deep.equal([{ claimId, field: "recourseClaim.exists", chain: true, index: false }]);
    expect((await verify()).matches).to.equal(true);
  });
});
