// Integrity through HTTP (issue 10, items 3-8): one identity per document whatever the
// script, one delivery backs at most what was delivered, tax cannot inflate the face value,
// limits hold under 50 concurrent confirmations, one clock for maturity, and stuck
// submissions can be declined or withdrawn and resubmitted corrected.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { advanceChainTime } from "../repayment-scenario.js";
import { T } from "../risk/risk-scenario.js";

let seq = 0;
const uniq = () => `${Date.now().toString(36)}${(++seq).toString(36)}`.toUpperCase();
const iso = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString();
const failedRules = (body: any): Array<{ rule: string; code: string; details?: any }> => body.error.details.rules;

describe("API: integrity of what is registered", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;

  const submit = (party: TestParty, body: unknown) => api.as(party.apiKey).post("/v1/receivables", body);
  const confirm = (party: TestParty, id: string) => api.as(party.apiKey).post(`/v1/receivables/${id}/confirm`);
  const statusOnChain = async (id: string) =>
    Number(await t.service.ctx.chain.contracts.registry.getFunction("statusOf")(id));

  before(async function () {
    // The brushing threshold is an operator setting: the concurrency test below submits 50
    // receivables for one seller-debtor pair in a day, which the default (10) would hold.
    t = await startTestService({ TIERLINE_KEEPER: "false", TIERLINE_BRUSHING_MAX_COUNT: "1000" });
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
  });
  after(async function () {
    await t?.close();
  });

  describe("when the same 100 tUSD delivery is submitted four times with look-alike numbers", function () {
    let supplier: TestParty;
    let debtor: TestParty;
    const base = () => validSubmission("", { poNumber: "PO-944450", invoiceNumber: "INV-PO944450-0042" });

    before(async function () {
      supplier = await createTestParty(operator, ["supplier"]);
      debtor = await createTestParty(operator, ["debtor"]);
    });

    it("registers the original once and answers the three look-alikes 409 DUPLICATE_RECEIVABLE", async function () {
      const original = { ...base(), debtorId: debtor.id };
      const first = await submit(supplier, original);
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      const confirmed = await confirm(debtor, first.body.id);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);

      const lookAlikes = [
        // The order as "po 944450" and the invoice in lower case with spaces.
        (d: typeof original) => {
          d.purchaseOrder.number = "po 944450";
          d.invoice.number = "inv po944450 0042";
        },
        // Arabic-Indic digits in the invoice number.
        (d: typeof original) => {
          d.invoice.number = "INV-PO944450-٠٠٤٢";
        },
        // Cyrillic capital О (U+041E) for the Latin O.
        (d: typeof original) => {
          d.invoice.number = "INV-P\u041E944450-0042";
        },
      ];
      for (const change of lookAlikes) {
        const documents = structuredClone(original);
        change(documents);
        documents.delivery.receivedBy = `Dock ${uniq()}`; // other documents: not a retry
        const response = await submit(supplier, documents);
        expect(response.status, `${documents.invoice.number}: ${JSON.stringify(response.body)}`).to.equal(409);
        expect(response.body.error.code).to.equal("DUPLICATE_RECEIVABLE");
        expect(response.body.error.details.existingReceivableId).to.equal(first.body.id);
      }
      const rows = await t.service.ctx.db
        .selectFrom("receivables")
        .select("id")
        .where("seller_id", "=", supplier.id)
        .execute();
      expect(rows.map((r) => r.id)).to.deep.equal([first.body.id]);
      expect(await statusOnChain(first.body.id)).to.not.equal(0);
    });

    it("counts purchase-order capacity on the canonical order number", async function () {
      const poNumber = `PO-${uniq()}-77`;
      const one = validSubmission(debtor.id, { poNumber, quantity: 60 });
      one.purchaseOrder.lines[0]!.quantity = 100; // ordered 100, invoiced 60
      expect((await submit(supplier, one)).status).to.equal(201);
      const two = validSubmission(debtor.id, { poNumber: poNumber.toLowerCase().replaceAll("-", " "), quantity: 60 });
      two.purchaseOrder.lines[0]!.quantity = 100; // 60 more on the same order: 120 > 100
      const response = await submit(supplier, two);
      expect(response.status, JSON.stringify(response.body)).to.equal(422);
      expect(failedRules(response.body).map((r) => r.code)).to.include("PO_CAPACITY_EXCEEDED");
    });
  });

  describe("when one delivery proof backs two invoices", function () {
    let debtor: TestParty;
    let sellerA: TestParty;
    let sellerB: TestParty;
    let waybill: string;
    let acceptedId: string;

    before(async function () {
      debtor = await createTestParty(operator, ["debtor"]);
      sellerA = await createTestParty(operator, ["supplier"]);
      sellerB = await createTestParty(operator, ["supplier"]);
      waybill = `WB-${uniq()}`;
      const first = validSubmission(debtor.id);
      first.delivery.waybill = waybill;
      const accepted = await submit(sellerA, first);
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
      acceptedId = accepted.body.id;
    });

    it("holds the second, from another seller, for the operator: its seller learns no receivable id or quantity", async function () {
      const second = validSubmission(debtor.id, { quantity: 70 });
      second.delivery.carrier = "dhl"; // the same carrier, written differently
      second.delivery.waybill = waybill.toLowerCase().replace("-", " ");
      const held = await submit(sellerB, second);
      // Held, not refused: a competitor that invoiced the waybill first cannot block a real delivery.
      expect(held.status, JSON.stringify(held.body)).to.equal(201);
      expect(held.body.status).to.equal("held_for_review");
      const finding = (answer: any) =>
        (answer.verification.results as Array<{ code: string; message: string; details: any }>).find(
          (r) => r.code === "DELIVERY_INVOICED_BY_ANOTHER_PARTY",
        )!;
      for (const answer of [held.body, (await api.as(sellerB.apiKey).get(`/v1/receivables/${held.body.id}`)).body]) {
        const seen = finding(answer);
        expect(seen.message).to.equal(
          `delivery ${second.delivery.waybill} by dhl is already invoiced by another party: held for the operator's review`,
        );
        expect(Object.keys(seen.details)).to.deep.equal(["delivery"]);
        expect(seen.details.delivery).to.include({ carrier: "dhl", waybill: second.delivery.waybill });
        expect(JSON.stringify(answer.verification)).not.to.include(acceptedId);
      }
      // The operator sees which receivable it clashes with, and how much, to decide.
      const review = finding((await operator.get(`/v1/receivables/${held.body.id}`)).body);
      expect(review.details.otherSellers).to.deep.equal({
        receivableIds: [acceptedId],
        skus: [{ sku: "SKU-1", received: "70", alreadyInvoiced: "100", thisInvoice: "70" }],
      });
    });

    it("refuses the seller's own second invoice on it with 422 DELIVERY_OVER_INVOICED, naming its own receivable", async function () {
      const again = validSubmission(debtor.id);
      again.delivery.waybill = waybill;
      const refused = await submit(sellerA, again);
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal("VERIFICATION_FAILED");
      const [rule] = failedRules(refused.body);
      expect(rule).to.include({ rule: "DELIVERY", code: "DELIVERY_OVER_INVOICED" });
      expect(rule!.details.backingReceivableIds).to.deep.equal([acceptedId]);
      expect(rule!.details).to.include({ received: "100", alreadyInvoiced: "100", thisInvoice: "100" });
    });
  });

  describe("when the tax is 999 times the lines (issue 10: lines 100 tUSD, tax 99,900 tUSD)", function () {
    it("refuses it with 422 naming THREE_WAY_MATCH / INVOICE_TAX_OUT_OF_BOUNDS and the bound", async function () {
      const supplier = await createTestParty(operator, ["supplier"]);
      const debtor = await createTestParty(operator, ["debtor"]);
      const documents = validSubmission(debtor.id); // 100 x 1 tUSD
      documents.invoice.tax = T(99_900).toString();
      documents.invoice.total = T(100_000).toString();
      const response = await submit(supplier, documents);
      expect(response.status, JSON.stringify(response.body)).to.equal(422);
      expect(failedRules(response.body).map((r) => `${r.rule}/${r.code}`)).to.deep.equal([
        "THREE_WAY_MATCH/INVOICE_TAX_OUT_OF_BOUNDS",
      ]);
      expect(failedRules(response.body)[0]!.details).to.deep.equal({
        tax: T(99_900).toString(),
        linesTotal: T(100).toString(),
        maxTaxBps: 2_500,
        maxTax: T(25).toString(),
      });
    });
  });

  describe("when 50 confirmations race for a debtor limit of 1,000 tUSD", function () {
    it("registers only what fits: exposure never above the limit, the others 422 CREDIT_LIMIT_EXCEEDED", async function () {
      const supplier = await createTestParty(operator, ["supplier"]);
      const debtor = await createTestParty(operator, ["debtor"]);
      const set = await operator.post(`/v1/risk/limits/${debtor.id}`, { kind: "debtor", limit: T(1_000).toString() });
      expect(set.status, JSON.stringify(set.body)).to.equal(200);
      const ids: string[] = [];
      for (let i = 0; i < 50; i++) {
        const response = await submit(supplier, validSubmission(debtor.id, { quantity: 60 })); // 60 tUSD each
        expect(response.status, JSON.stringify(response.body)).to.equal(201);
        ids.push(response.body.id);
      }

      const answers = await Promise.all(ids.map((id) => confirm(debtor, id)));
      const won = answers.filter((a) => a.status === 200);
      const lost = answers.filter((a) => a.status !== 200);
      for (const answer of lost) {
        expect(answer.status, JSON.stringify(answer.body)).to.equal(422);
        expect(answer.body.error.code).to.equal("CREDIT_LIMIT_EXCEEDED");
        expect(answer.body.error.details).to.include({ limit: "debtor", partyId: debtor.id });
      }
      const limit = BigInt(set.body.limit);
      expect(won.length).to.be.at.least(1);
      expect(BigInt(won.length) * T(60)).to.be.at.most(limit);
      console.log(`      50 concurrent confirmations: ${won.length} registered, ${lost.length} refused`);

      // What the chain holds agrees: the registered total is within the limit.
      let onChain = 0n;
      for (const id of ids) if ((await statusOnChain(id)) !== 0) onChain += T(60);
      expect(onChain).to.equal(BigInt(won.length) * T(60));
      expect(onChain).to.be.at.most(limit);
      // The refused ones hold no reservation: back to awaiting confirmation.
      const statuses = await t.service.ctx.db
        .selectFrom("receivables")
        .select("status")
        .where("id", "in", lost.length ? ids.filter((_, i) => answers[i]!.status !== 200) : ["-"])
        .execute();
      expect(new Set(statuses.map((s) => s.status))).to.deep.equal(
        new Set(lost.length ? ["awaiting_confirmation"] : []),
      );
      const risk = await operator.get(`/v1/risk/parties/${debtor.id}`);
      expect(risk.status).to.equal(200);
      expect(BigInt(risk.body.limits.debtor.exposure)).to.be.at.most(limit);
    });
  });

  describe("when 50 financing requests race for a holder's financing limit of 40 tUSD", function () {
    it("opens only what fits: financing exposure never above the limit, the others 422 CREDIT_LIMIT_EXCEEDED", async function () {
      const holder = await createTestParty(operator, ["supplier"]);
      const debtor = await createTestParty(operator, ["debtor"]);
      // 50 certificates of 4 tUSD: two receivables of 100 tUSD, each split into 25 pieces kept by the holder.
      const pieces: string[] = [];
      for (let r = 0; r < 2; r++) {
        const submitted = await submit(holder, validSubmission(debtor.id));
        expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
        const confirmed = await confirm(debtor, submitted.body.id);
        expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
        const split = await api.as(holder.apiKey).post(`/v1/certificates/${confirmed.body.certificateId}/split`, {
          parts: Array.from({ length: 25 }, () => ({ toPartyId: holder.id, amount: T(4).toString() })),
        });
        expect(split.status, JSON.stringify(split.body)).to.equal(200);
        pieces.push(...split.body.children.map((c: { id: string }) => c.id));
      }
      expect(pieces).to.have.length(50);
      const set = await operator.post(`/v1/risk/limits/${holder.id}`, { kind: "supplier", limit: T(40).toString() });
      expect(set.status, JSON.stringify(set.body)).to.equal(200);
      const limit = BigInt(set.body.limit);

      const answers = await Promise.all(
        pieces.map((certificateId) =>
          api
            .as(holder.apiKey)
            .post("/v1/financing-requests", { certificateId, kind: "discount", price: T(3).toString() }),
        ),
      );
      const won = answers.filter((a) => a.status === 201);
      const lost = answers.filter((a) => a.status !== 201);
      for (const answer of lost) {
        expect(answer.status, JSON.stringify(answer.body)).to.equal(422);
        expect(answer.body.error.code).to.equal("CREDIT_LIMIT_EXCEEDED");
        expect(answer.body.error.details).to.include({ limit: "financing", partyId: holder.id });
      }
      expect(won.length).to.be.at.least(1);
      expect(BigInt(won.length) * T(3)).to.be.at.most(limit);
      console.log(`      50 concurrent financing requests: ${won.length} opened, ${lost.length} refused`);
      const risk = await operator.get(`/v1/risk/parties/${holder.id}`);
      expect(BigInt(risk.body.limits.financing.exposure)).to.equal(BigInt(won.length) * T(3));
      // Every reservation was released: what counts now is the open requests alone.
      const reservations = await t.service.ctx.db.selectFrom("limit_reservations").selectAll().execute();
      expect(reservations).to.deep.equal([]);
    });
  });

  describe("when the chain moves 25 hours past a due date", function () {
    it("puts the receivable in the overdue bucket by chain time, and the overdue total is not zero", async function () {
      const supplier = await createTestParty(operator, ["supplier"]);
      const debtor = await createTestParty(operator, ["debtor"]);
      const documents = validSubmission(debtor.id);
      documents.invoice.dueDate = iso(2);
      const submitted = await submit(supplier, documents);
      expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
      const confirmed = await confirm(debtor, submitted.body.id);
      expect(confirmed.status).to.equal(200);
      const quoteBefore = await operator.get(`/v1/certificates/${confirmed.body.certificateId}/quote`);
      expect(quoteBefore.status, JSON.stringify(quoteBefore.body)).to.equal(200);
      expect(quoteBefore.body.tenorDays).to.be.oneOf([2, 3]);
      const before = await operator.get(`/v1/audit/parties/${debtor.id}/exposure`);
      expect(before.status, JSON.stringify(before.body)).to.equal(200);
      expect(before.body.owes.byMaturity.overdue).to.equal("0");

      const block = await t.service.ctx.chain.provider.getBlock("latest");
      const dueSeconds = Math.floor(Date.parse(documents.invoice.dueDate) / 1000);
      await advanceChainTime(t, dueSeconds - block!.timestamp + 25 * 3_600);

      const after = await operator.get(`/v1/audit/parties/${debtor.id}/exposure`);
      expect(after.body.owes.byMaturity.overdue).to.equal(T(100).toString());
      expect(after.body.owes.byMaturity["0-30"]).to.equal("0");
      expect(after.body.owes.receivables[0].maturity).to.equal("overdue");
      const held = await api.as(supplier.apiKey).get(`/v1/audit/parties/${supplier.id}/exposure`);
      expect(held.body.owed.byMaturity.overdue).to.equal(T(100).toString());
      // Quotes count the tenor from the chain's clock too: due, so 0 days.
      const quoteAfter = await operator.get(`/v1/certificates/${confirmed.body.certificateId}/quote`);
      expect(quoteAfter.body.tenorDays).to.equal(0);
    });
  });

  describe("when a submission is stuck before the chain", function () {
    let supplier: TestParty;
    let debtor: TestParty;
    let other: TestParty;

    before(async function () {
      supplier = await createTestParty(operator, ["supplier"]);
      debtor = await createTestParty(operator, ["debtor"]);
      other = await createTestParty(operator, ["supplier", "debtor"]);
    });

    it("lets the debtor decline it with a reason, and a corrected resubmission takes the identity, keeping the history", async function () {
      const documents = validSubmission(debtor.id);
      const first = await submit(supplier, documents);
      expect(first.status).to.equal(201);
      for (const wrong of [supplier, other]) {
        const refused = await api
          .as(wrong.apiKey)
          .post(`/v1/receivables/${first.body.id}/decline`, { reason: "not ours" });
        expect(refused.status).to.equal(403);
        expect(refused.body.error.code).to.equal("FORBIDDEN");
      }
      const declined = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${first.body.id}/decline`, { reason: "quantity 100 is wrong, we received 90" });
      expect(declined.status, JSON.stringify(declined.body)).to.equal(200);
      expect(declined.body.status).to.equal("declined");
      expect(declined.body.closed).to.include({
        action: "decline",
        by: debtor.id,
        reason: "quantity 100 is wrong, we received 90",
      });
      const confirmDeclined = await confirm(debtor, first.body.id);
      expect(confirmDeclined.status).to.equal(409);
      expect(confirmDeclined.body.error.code).to.equal("RECEIVABLE_CLOSED");

      // The corrected documents: same invoice number, same order, same delivery, 90 pieces.
      const corrected = structuredClone(documents);
      corrected.delivery.lines[0]!.quantity = 90;
      corrected.invoice.lines[0]!.quantity = 90;
      corrected.invoice.total = T(90).toString();
      const again = await submit(supplier, corrected);
      expect(again.status, JSON.stringify(again.body)).to.equal(201);
      expect(again.body.id).to.equal(first.body.id);
      expect(again.body.status).to.equal("awaiting_confirmation");
      expect(again.body.faceValue).to.equal(T(90).toString());
      expect(again.body.earlierAttempts).to.have.length(1);
      expect(again.body.earlierAttempts[0]).to.include({
        status: "declined",
        documentHash: first.body.documentHash,
      });
      expect((await confirm(debtor, again.body.id)).status).to.equal(200);
    });

    it("lets the supplier withdraw one awaiting confirmation, but not once it is registered", async function () {
      const documents = validSubmission(debtor.id);
      const first = await submit(supplier, documents);
      const byDebtor = await api.as(debtor.apiKey).post(`/v1/receivables/${first.body.id}/withdraw`, {});
      expect(byDebtor.status).to.equal(403);
      const withdrawn = await api
        .as(supplier.apiKey)
        .post(`/v1/receivables/${first.body.id}/withdraw`, { reason: "wrong due date" });
      expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
      expect(withdrawn.body.status).to.equal("withdrawn");
      const twice = await api.as(supplier.apiKey).post(`/v1/receivables/${first.body.id}/withdraw`, {});
      expect(twice.status).to.equal(409);
      expect(twice.body.error.code).to.equal("RECEIVABLE_NOT_CLOSABLE");

      const corrected = structuredClone(documents);
      corrected.invoice.dueDate = iso(45);
      const again = await submit(supplier, corrected);
      expect(again.status, JSON.stringify(again.body)).to.equal(201);
      expect(again.body.earlierAttempts.map((a: { status: string }) => a.status)).to.deep.equal(["withdrawn"]);
      expect((await confirm(debtor, again.body.id)).status).to.equal(200);
      const late = await api.as(supplier.apiKey).post(`/v1/receivables/${again.body.id}/withdraw`, {});
      expect(late.status).to.equal(409);
      expect(late.body.error.code).to.equal("RECEIVABLE_NOT_CLOSABLE");
      const lateDecline = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${again.body.id}/decline`, { reason: "too late" });
      expect(lateDecline.status).to.equal(409);
    });

    it("frees the identity of a submission the operator rejected", async function () {
      const relatedDebtor = await createTestParty(operator, ["debtor"], { relatedPartyIds: [supplier.id] });
      const documents = validSubmission(relatedDebtor.id);
      const held = await submit(supplier, documents);
      expect(held.body.status).to.equal("held_for_review");
      const rejected = await operator.post(`/v1/receivables/${held.body.id}/review`, {
        decision: "reject",
        note: "common owner, documents to be re-issued",
      });
      expect(rejected.body.status).to.equal("rejected");
      const corrected = structuredClone(documents);
      corrected.delivery.receivedBy = "Dock 2, signed by the plant manager";
      const again = await submit(supplier, corrected);
      expect(again.status, JSON.stringify(again.body)).to.equal(201);
      expect(again.body.id).to.equal(held.body.id);
      expect(again.body.status).to.equal("held_for_review");
      expect(again.body.earlierAttempts.map((a: { status: string }) => a.status)).to.deep.equal(["rejected"]);
    });
  });
});
