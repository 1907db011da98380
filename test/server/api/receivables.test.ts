// POST /v1/receivables, GET /v1/receivables/:id and POST /v1/receivables/:id/review
// through HTTP: verification outcomes, duplicates, manual review, strict input,
// idempotency, and who may read which receivable.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

let seq = 0;
const uniq = () => `${Date.now().toString(36)}${(++seq).toString(36)}`.toUpperCase();
const iso = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString();
type Submission = ReturnType<typeof validSubmission>;
const fieldPaths = (body: any): string[] => body.error.details.fields.map((f: { path: string }) => f.path);
const failedCodes = (body: any): string[] => body.error.details.rules.map((r: { code: string }) => r.code);
const failedRules = (body: any): string[] => body.error.details.rules.map((r: { rule: string }) => r.rule);

describe("API: submitting, reviewing and reading receivables", function () {
  this.timeout(60_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let supplier: TestParty;
  let otherSupplier: TestParty;
  let debtor: TestParty;
  let auditor: TestParty;
  let financier: TestParty;

  const receivableRows = async () => (await t.service.ctx.db.selectFrom("receivables").select("id").execute()).length;
  const submit = (party: TestParty, body: unknown, headers?: Record<string, string>) =>
    api.as(party.apiKey).post("/v1/receivables", body, headers);

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    otherSupplier = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    auditor = await createTestParty(operator, ["auditor"]);
    financier = await createTestParty(operator, ["financier"]);
  });
  after(async function () {
    await t?.close();
  });

  describe("when a supplier submits documents that pass every rule", function () {
    it("stores the receivable as awaiting_confirmation with a passed report and answers 201", async function () {
      const documents = validSubmission(debtor.id);
      const before = await receivableRows();
      const response = await submit(supplier, documents);
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      const r = response.body;
      expect(r.id).to.match(/^0x[0-9a-f]{64}$/);
      expect(r.status).to.equal("awaiting_confirmation");
      expect(r.sellerId).to.equal(supplier.id);
      expect(r.debtorId).to.equal(debtor.id);
      expect(r.invoiceNumber).to.equal(documents.invoice.number);
      expect(r.purchaseOrderNumber).to.equal(documents.purchaseOrder.number);
      expect(r.currency).to.equal("USD");
      expect(r.faceValue).to.equal("100000000");
      expect(r.repaidAmount).to.equal("0");
      expect(Date.parse(r.dueDate)).to.equal(Math.floor(Date.parse(documents.invoice.dueDate) / 1000) * 1000);
      expect(r.rootCertificateId).to.equal(null);
      expect(r.txHashes).to.deep.equal({ register: null });
      expect(r.verification.outcome).to.equal("passed");
      expect(r.verification.receivableId).to.equal(r.id);
      expect(r.verification.documentHash).to.equal(r.documentHash);
      expect(r.verification.results.every((x: { outcome: string }) => x.outcome === "pass")).to.equal(true);
      expect(r.documents).to.deep.equal(documents);
      expect(await receivableRows()).to.equal(before + 1);
    });

    it("answers the identical submission again with 200 and the same receivable, storing nothing new", async function () {
      const documents = validSubmission(debtor.id);
      const first = await submit(supplier, documents);
      expect(first.status).to.equal(201);
      const before = await receivableRows();
      const again = await submit(supplier, documents);
      expect(again.status).to.equal(200);
      expect(again.body.id).to.equal(first.body.id);
      expect(again.body.documentHash).to.equal(first.body.documentHash);
      expect(again.body.verification).to.deep.equal(first.body.verification);
      expect(await receivableRows()).to.equal(before);
    });
  });

  describe("when the invoice number was used before", function () {
    it("refuses the same invoice number with other documents with DUPLICATE_RECEIVABLE naming the existing one", async function () {
      const invoiceNumber = `INV-${uniq()}`;
      const first = await submit(supplier, validSubmission(debtor.id, { invoiceNumber }));
      expect(first.status).to.equal(201);
      const before = await receivableRows();
      const other = await submit(supplier, validSubmission(debtor.id, { invoiceNumber, quantity: 90 }));
      expect(other.status).to.equal(409);
      expect(other.body.error.code).to.equal("DUPLICATE_RECEIVABLE");
      expect(other.body.error.details.existingReceivableId).to.equal(first.body.id);
      expect(await receivableRows()).to.equal(before);
    });

    it('refuses a normalised variant of the invoice number ("inv-001" vs "INV 001")', async function () {
      const base = uniq();
      const first = await submit(
        supplier,
        validSubmission(debtor.id, { invoiceNumber: `inv-001-${base}`.toLowerCase() }),
      );
      expect(first.status).to.equal(201);
      const variant = await submit(supplier, validSubmission(debtor.id, { invoiceNumber: `INV 001 ${base}` }));
      expect(variant.status).to.equal(409);
      expect(variant.body.error.code).to.equal("DUPLICATE_RECEIVABLE");
      expect(variant.body.error.details.existingReceivableId).to.equal(first.body.id);
    });

    it("accepts the same invoice number from another seller: its receivable id differs", async function () {
      const invoiceNumber = `INV-${uniq()}`;
      const a = await submit(supplier, validSubmission(debtor.id, { invoiceNumber }));
      const b = await submit(otherSupplier, validSubmission(debtor.id, { invoiceNumber }));
      expect(a.status).to.equal(201);
      expect(b.status).to.equal(201);
      expect(b.body.id).not.to.equal(a.body.id);
    });

    it("answers two concurrent submissions of the same invoice with one receivable and no server error", async function () {
      const documents = validSubmission(debtor.id);
      const before = await receivableRows();
      const responses = await Promise.all([
        submit(supplier, documents),
        submit(supplier, documents),
        submit(supplier, documents),
      ]);
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses, JSON.stringify(responses.map((r) => r.body))).to.deep.equal([200, 200, 201]);
      expect(new Set(responses.map((r) => r.body.id)).size).to.equal(1);
      expect(await receivableRows()).to.equal(before + 1);
    });
  });

  describe("when two invoices on one purchase order arrive at the same time", function () {
    it("accepts only as much as the order holds: one is stored, the other refused with PO_CAPACITY_EXCEEDED", async function () {
      const seller = await createTestParty(operator, ["supplier"]);
      const poNumber = `PO-${uniq()}`;
      // Each invoice bills 60 of the 100 ordered units: either fits, both do not.
      const invoice = () => {
        const documents = validSubmission(debtor.id, { poNumber });
        documents.delivery.lines[0]!.quantity = 60;
        documents.invoice.lines[0]!.quantity = 60;
        documents.invoice.total = "60000000";
        return documents;
      };
      const responses = await Promise.all([submit(seller, invoice()), submit(seller, invoice())]);
      expect(
        responses.map((r) => r.status).sort(),
        JSON.stringify(responses.map((r) => r.body.error ?? r.body.status)),
      ).to.deep.equal([201, 422]);
      const refusedOne = responses.find((r) => r.status === 422)!;
      expect(failedCodes(refusedOne.body)).to.deep.equal(["PO_CAPACITY_EXCEEDED"]);
      const stored = await t.service.ctx.db
        .selectFrom("receivables")
        .select("id")
        .where("po_number", "=", poNumber)
        .execute();
      expect(stored.length).to.equal(1);
    });
  });

  describe("when the documents fail verification", function () {
    const refused = async (party: TestParty, documents: unknown) => {
      const before = await receivableRows();
      const response = await submit(party, documents);
      expect(response.status, JSON.stringify(response.body)).to.equal(422);
      expect(response.body.error.code).to.equal("VERIFICATION_FAILED");
      expect(response.body.error.details.verification.outcome).to.equal("rejected");
      expect(await receivableRows()).to.equal(before);
      return response.body;
    };

    it("refuses an invoice priced above the order with THREE_WAY_MATCH / INVOICE_PRICE_MISMATCH", async function () {
      // 90 units at 1.10 instead of 1.00: within the order's total, so only the price is wrong.
      const documents = validSubmission(debtor.id);
      documents.invoice.lines[0] = { sku: "SKU-1", quantity: 90, unitPrice: "1100000" };
      documents.invoice.total = "99000000";
      const body = await refused(supplier, documents);
      expect(failedRules(body)).to.deep.equal(["THREE_WAY_MATCH"]);
      expect(failedCodes(body)).to.deep.equal(["INVOICE_PRICE_MISMATCH"]);
      expect(body.error.details.rules[0].fields).to.include("invoice.lines[0].unitPrice");
    });

    it("refuses a due date in the past with CHRONOLOGY / DUE_DATE_PASSED", async function () {
      const documents = validSubmission(debtor.id);
      documents.invoice.dueDate = iso(-1);
      const body = await refused(supplier, documents);
      expect(failedRules(body)).to.deep.equal(["CHRONOLOGY"]);
      expect(failedCodes(body)).to.deep.equal(["DUE_DATE_PASSED"]);
      expect(body.error.details.rules[0].fields).to.deep.equal(["invoice.dueDate"]);
    });

    it("refuses a second invoice that takes the order over its total with PO_CAPACITY / PO_CAPACITY_EXCEEDED", async function () {
      const poNumber = `PO-${uniq()}`;
      expect((await submit(supplier, validSubmission(debtor.id, { poNumber }))).status).to.equal(201);
      const second: Submission = validSubmission(debtor.id, { poNumber });
      second.delivery.lines[0]!.quantity = 50;
      second.invoice.lines[0]!.quantity = 50;
      second.invoice.total = "50000000";
      const body = await refused(supplier, second);
      expect(failedRules(body)).to.deep.equal(["PO_CAPACITY"]);
      expect(failedCodes(body)).to.deep.equal(["PO_CAPACITY_EXCEEDED"]);
      expect(body.error.details.rules[0].message).to.include("already invoiced 100000000 + this invoice 50000000");
    });

    it("refuses an unknown debtor with PARTIES / DEBTOR_UNKNOWN", async function () {
      const body = await refused(supplier, validSubmission("pty_nobody"));
      expect(failedCodes(body)).to.deep.equal(["DEBTOR_UNKNOWN"]);
      expect(body.error.details.rules[0].fields).to.deep.equal(["debtorId"]);
    });

    it("refuses a debtor without the debtor role with PARTIES / DEBTOR_NOT_DEBTOR", async function () {
      const body = await refused(supplier, validSubmission(otherSupplier.id));
      expect(failedRules(body)).to.deep.equal(["PARTIES"]);
      expect(failedCodes(body)).to.deep.equal(["DEBTOR_NOT_DEBTOR"]);
    });

    it("refuses a party invoicing itself with PARTIES / SELF_DEALING", async function () {
      const both = await createTestParty(operator, ["supplier", "debtor"]);
      const body = await refused(both, validSubmission(both.id));
      expect(failedCodes(body)).to.deep.equal(["SELF_DEALING"]);
    });

    it("lists every failed rule at once", async function () {
      const documents = validSubmission(debtor.id);
      documents.invoice.lines[0]!.unitPrice = "1100000";
      documents.invoice.total = "110000000";
      documents.invoice.dueDate = iso(-1);
      const body = await refused(supplier, documents);
      expect(failedCodes(body)).to.deep.equal(["INVOICE_PRICE_MISMATCH", "PO_CAPACITY_EXCEEDED", "DUE_DATE_PASSED"]);
      expect(failedRules(body)).to.deep.equal(["THREE_WAY_MATCH", "PO_CAPACITY", "CHRONOLOGY"]);
    });
  });

  describe("when a submission carries a fraud signal", function () {
    let nearDuplicateId: string;
    let relatedId: string;
    let relatedDebtor: TestParty;
    let supplier: TestParty;
    let debtor: TestParty;

    before(async function () {
      // A fresh pair, so no other signal (brushing, volume) from earlier tests mixes in.
      supplier = await createTestParty(operator, ["supplier"]);
      debtor = await createTestParty(operator, ["debtor"]);
      // Same order, same amount, another invoice number: a near duplicate.
      const poNumber = `PO-${uniq()}`;
      const first = validSubmission(debtor.id, { poNumber });
      first.purchaseOrder.lines[0]!.quantity = 200;
      expect((await submit(supplier, first)).status).to.equal(201);
      const second = validSubmission(debtor.id, { poNumber });
      second.purchaseOrder.lines[0]!.quantity = 200;
      const held = await submit(supplier, second);
      expect(held.status, JSON.stringify(held.body)).to.equal(201);
      nearDuplicateId = held.body.id;

      // A debtor recorded as related to the seller.
      relatedDebtor = await createTestParty(operator, ["debtor"], { relatedPartyIds: [supplier.id] });
      const related = await submit(supplier, validSubmission(relatedDebtor.id));
      expect(related.status, JSON.stringify(related.body)).to.equal(201);
      relatedId = related.body.id;
    });

    it("holds a near duplicate for review with DUPLICATE / NEAR_DUPLICATE", async function () {
      const view = await api.as(supplier.apiKey).get(`/v1/receivables/${nearDuplicateId}`);
      expect(view.body.status).to.equal("held_for_review");
      expect(view.body.verification.outcome).to.equal("held");
      const held = view.body.verification.results.filter((r: { outcome: string }) => r.outcome === "hold");
      expect(held.map((r: { rule: string; code: string }) => `${r.rule}/${r.code}`)).to.deep.equal([
        "DUPLICATE/NEAR_DUPLICATE",
      ]);
    });

    it("holds a receivable on a related party with FRAUD_SIGNAL / RELATED_PARTY", async function () {
      const view = await api.as(supplier.apiKey).get(`/v1/receivables/${relatedId}`);
      expect(view.body.status).to.equal("held_for_review");
      const held = view.body.verification.results.filter((r: { outcome: string }) => r.outcome === "hold");
      expect(held.map((r: { rule: string; code: string }) => `${r.rule}/${r.code}`)).to.deep.equal([
        "FRAUD_SIGNAL/RELATED_PARTY",
      ]);
    });

    it("holds a receivable that closes a trade cycle, naming the cycle's parties to the operator and auditors only", async function () {
      // D sells to X and X sells to S: trades S is no party to. S's receivable on D closes the cycle.
      const [s, d, x] = [
        await createTestParty(operator, ["supplier", "debtor"]),
        await createTestParty(operator, ["supplier", "debtor"]),
        await createTestParty(operator, ["supplier", "debtor"]),
      ];
      expect((await submit(d, validSubmission(x.id))).status).to.equal(201);
      expect((await submit(x, validSubmission(s.id))).status).to.equal(201);
      const cycleOf = (report: { results: Array<{ code: string; message: string; details?: unknown }> }) =>
        report.results.find((r) => r.code === "CIRCULAR_TRADING")!;
      const unnamed = (finding: { message: string; details?: unknown }, what: string) => {
        expect(finding.message, what).to.equal("this receivable closes a trade cycle of 3 parties");
        expect(finding.details, what).to.deep.equal({ parties: 3 });
        expect(JSON.stringify(finding), what).not.to.include(x.id);
      };

      const held = await submit(s, validSubmission(d.id));
      expect(held.status, JSON.stringify(held.body)).to.equal(201);
      expect(held.body.status).to.equal("held_for_review");
      unnamed(cycleOf(held.body.verification), "the submitter's answer");
      for (const [party, what] of [
        [s, "the seller"],
        [d, "the debtor"],
      ] as const)
        unnamed(cycleOf((await api.as(party.apiKey).get(`/v1/receivables/${held.body.id}`)).body.verification), what);
      for (const key of [t.operatorKey, auditor.apiKey]) {
        const view = await api.as(key).get(`/v1/receivables/${held.body.id}`);
        expect(cycleOf(view.body.verification).details).to.deep.equal({ parties: 3, cycle: [s.id, d.id, x.id, s.id] });
      }

      // A refused submission that also closes the cycle carries the report the same way.
      const late = validSubmission(d.id);
      late.invoice.dueDate = iso(-1);
      const refusedNow = await submit(s, late);
      expect(refusedNow.status, JSON.stringify(refusedNow.body)).to.equal(422);
      unnamed(cycleOf(refusedNow.body.error.details.verification), "the submitter's refusal");
    });

    it("refuses the debtor's confirmation of a held receivable with RECEIVABLE_HELD_FOR_REVIEW", async function () {
      const confirm = await api.as(debtor.apiKey).post(`/v1/receivables/${nearDuplicateId}/confirm`);
      expect(confirm.status).to.equal(409);
      expect(confirm.body.error.code).to.equal("RECEIVABLE_HELD_FOR_REVIEW");
    });

    it("refuses a review by anyone but the operator with FORBIDDEN", async function () {
      for (const party of [supplier, debtor, auditor]) {
        const response = await api
          .as(party.apiKey)
          .post(`/v1/receivables/${nearDuplicateId}/review`, { decision: "approve", note: "looks fine" });
        expect(response.status).to.equal(403);
        expect(response.body.error.code).to.equal("FORBIDDEN");
      }
      const view = await api.as(supplier.apiKey).get(`/v1/receivables/${nearDuplicateId}`);
      expect(view.body.status).to.equal("held_for_review");
    });

    it("lets the operator approve: awaiting_confirmation, with the decision in the report", async function () {
      const response = await operator.post(`/v1/receivables/${nearDuplicateId}/review`, {
        decision: "approve",
        note: "second shipment, checked by phone",
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.status).to.equal("awaiting_confirmation");
      expect(response.body.verification.review.decision).to.equal("approve");
      expect(response.body.verification.review.note).to.equal("second shipment, checked by phone");
      expect(response.body.verification.review.by).to.equal("pty_operator");
      const again = await operator.post(`/v1/receivables/${nearDuplicateId}/review`, {
        decision: "reject",
        note: "changed my mind",
      });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("RECEIVABLE_NOT_HELD");
      expect(again.body.error.details.status).to.equal("awaiting_confirmation");
    });

    it("lets the operator reject: rejected, and the debtor's confirmation is refused with RECEIVABLE_REJECTED", async function () {
      const response = await operator.post(`/v1/receivables/${relatedId}/review`, {
        decision: "reject",
        note: "common owner",
      });
      expect(response.status).to.equal(200);
      expect(response.body.status).to.equal("rejected");
      const confirm = await api.as(relatedDebtor.apiKey).post(`/v1/receivables/${relatedId}/confirm`);
      expect(confirm.status).to.equal(409);
      expect(confirm.body.error.code).to.equal("RECEIVABLE_REJECTED");
      expect(Number(await t.service.ctx.chain.contracts.registry.getFunction("statusOf")(relatedId))).to.equal(0);
    });

    it("refuses to review a receivable that was never held with RECEIVABLE_NOT_HELD", async function () {
      const plain = await submit(supplier, validSubmission(debtor.id));
      const response = await operator.post(`/v1/receivables/${plain.body.id}/review`, {
        decision: "approve",
        note: "ok",
      });
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("RECEIVABLE_NOT_HELD");
    });

    it("refuses a review without a note or with an unknown decision with VALIDATION_FAILED", async function () {
      const noNote = await operator.post(`/v1/receivables/${nearDuplicateId}/review`, { decision: "approve" });
      expect(noNote.status).to.equal(400);
      expect(fieldPaths(noNote.body)).to.deep.equal(["body.note"]);
      const badDecision = await operator.post(`/v1/receivables/${nearDuplicateId}/review`, {
        decision: "maybe",
        note: "x",
      });
      expect(badDecision.status).to.equal(400);
      expect(fieldPaths(badDecision.body)).to.deep.equal(["body.decision"]);
    });

    it("answers 404 NOT_FOUND for a review of an unknown receivable", async function () {
      const response = await operator.post(`/v1/receivables/0x${"ab".repeat(32)}/review`, {
        decision: "approve",
        note: "ok",
      });
      expect(response.status).to.equal(404);
      expect(response.body.error.code).to.equal("NOT_FOUND");
    });
  });

  describe("when the body breaks the schema", function () {
    const cases: Array<[string, (s: any) => void, string]> = [
      ["a client-set status", (s) => (s.status = "active"), "body"],
      ["an extra field inside the invoice", (s) => (s.invoice.paid = true), "body.invoice"],
      ["a negative total", (s) => (s.invoice.total = "-100000000"), "body.invoice.total"],
      ["a decimal amount", (s) => (s.invoice.lines[0].unitPrice = "1000000.5"), "body.invoice.lines.0.unitPrice"],
      ["a number instead of a string amount", (s) => (s.invoice.total = 100000000), "body.invoice.total"],
      ["a zero total", (s) => (s.invoice.total = "0"), "body.invoice.total"],
      ["a decimal quantity", (s) => (s.purchaseOrder.lines[0].quantity = 1.5), "body.purchaseOrder.lines.0.quantity"],
      ["an invalid date", (s) => (s.invoice.dueDate = "2026-13-45T00:00:00Z"), "body.invoice.dueDate"],
      ["a date without time", (s) => (s.delivery.shippedAt = "2026-01-01"), "body.delivery.shippedAt"],
      ["a control character in the invoice number", (s) => (s.invoice.number = "INV\u0000001"), "body.invoice.number"],
      ["a newline in the invoice number", (s) => (s.invoice.number = "INV-1\nINV-2"), "body.invoice.number"],
      ["a lowercase currency", (s) => (s.purchaseOrder.currency = "usd"), "body.purchaseOrder.currency"],
      ["no invoice lines", (s) => (s.invoice.lines = []), "body.invoice.lines"],
      ["no debtor", (s) => delete s.debtorId, "body.debtorId"],
    ];
    for (const [what, mutate, path] of cases) {
      it(`refuses ${what} with VALIDATION_FAILED naming ${path}`, async function () {
        const documents = validSubmission(debtor.id) as any;
        mutate(documents);
        const before = await receivableRows();
        const response = await submit(supplier, documents);
        expect(response.status, JSON.stringify(response.body)).to.equal(400);
        expect(response.body.error.code).to.equal("VALIDATION_FAILED");
        expect(fieldPaths(response.body)).to.include(path);
        expect(await receivableRows()).to.equal(before);
      });
    }
  });

  describe("when the supplier sends an Idempotency-Key", function () {
    let supplier: TestParty;
    before(async function () {
      supplier = await createTestParty(operator, ["supplier"]);
    });

    it("answers a retry with the first response, marked Idempotent-Replayed, and stores one receivable", async function () {
      const key = `submit-${uniq()}`;
      const documents = validSubmission(debtor.id);
      const before = await receivableRows();
      const first = await submit(supplier, documents, { "idempotency-key": key });
      expect(first.status).to.equal(201);
      expect(first.headers.get("idempotent-replayed")).to.equal(null);
      const retry = await submit(supplier, documents, { "idempotency-key": key });
      expect(retry.status).to.equal(201);
      expect(retry.headers.get("idempotent-replayed")).to.equal("true");
      expect(retry.body).to.deep.equal(first.body);
      expect(await receivableRows()).to.equal(before + 1);
    });

    it("refuses the same key with another body with IDEMPOTENCY_KEY_REUSED and stores nothing", async function () {
      const key = `submit-${uniq()}`;
      expect((await submit(supplier, validSubmission(debtor.id), { "idempotency-key": key })).status).to.equal(201);
      const before = await receivableRows();
      const reused = await submit(supplier, validSubmission(debtor.id), { "idempotency-key": key });
      expect(reused.status).to.equal(422);
      expect(reused.body.error.code).to.equal("IDEMPOTENCY_KEY_REUSED");
      expect(reused.body.error.details.idempotencyKey).to.equal(key);
      expect(await receivableRows()).to.equal(before);
    });

    it("replays a refusal as the same refusal", async function () {
      const key = `submit-${uniq()}`;
      const documents = validSubmission(debtor.id);
      documents.invoice.dueDate = iso(-1);
      const first = await submit(supplier, documents, { "idempotency-key": key });
      const retry = await submit(supplier, documents, { "idempotency-key": key });
      expect(first.status).to.equal(422);
      expect(retry.status).to.equal(422);
      expect(retry.headers.get("idempotent-replayed")).to.equal("true");
      expect(retry.body).to.deep.equal(first.body);
    });

    it("keeps keys per party: another supplier may use the same key", async function () {
      const key = `shared-${uniq()}`;
      const a = await submit(supplier, validSubmission(debtor.id), { "idempotency-key": key });
      const b = await submit(otherSupplier, validSubmission(debtor.id), { "idempotency-key": key });
      expect(a.status).to.equal(201);
      expect(b.status).to.equal(201);
      expect(b.headers.get("idempotent-replayed")).to.equal(null);
      expect(b.body.sellerId).to.equal(otherSupplier.id);
    });

    it("refuses a key with non-printable characters with INVALID_IDEMPOTENCY_KEY", async function () {
      const response = await submit(supplier, validSubmission(debtor.id), { "idempotency-key": "x".repeat(129) });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("INVALID_IDEMPOTENCY_KEY");
    });
  });

  describe("when a receivable is read", function () {
    let documents: Submission;
    let receivableId: string;
    let tier2: TestParty;

    let supplier: TestParty;
    let debtor: TestParty;

    before(async function () {
      supplier = await createTestParty(operator, ["supplier"]);
      debtor = await createTestParty(operator, ["debtor"]);
      tier2 = await createTestParty(operator, ["supplier"]);
      documents = validSubmission(debtor.id);
      receivableId = (await submit(supplier, documents)).body.id;
      const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      const split = await api.as(supplier.apiKey).post(`/v1/certificates/${confirmed.body.certificateId}/split`, {
        parts: [
          { toPartyId: tier2.id, amount: "30000000" },
          { toPartyId: supplier.id, amount: "70000000" },
        ],
      });
      expect(split.status, JSON.stringify(split.body)).to.equal(200);
    });

    it("shows the documents to the seller, the debtor, the operator and an auditor", async function () {
      for (const key of [supplier.apiKey, debtor.apiKey, t.operatorKey, auditor.apiKey]) {
        const response = await api.as(key).get(`/v1/receivables/${receivableId}`);
        expect(response.status).to.equal(200);
        expect(response.body.id).to.equal(receivableId);
        expect(response.body.status).to.equal("active");
        expect(response.body.rootCertificateId).to.match(/^[1-9][0-9]*$/);
        expect(response.body.txHashes.register).to.match(/^0x[0-9a-f]{64}$/);
        expect(response.body.documents).to.deep.equal(documents);
      }
    });

    it("shows a holder of a child certificate the receivable without its documents", async function () {
      const response = await api.as(tier2.apiKey).get(`/v1/receivables/${receivableId}`);
      expect(response.status).to.equal(200);
      expect(response.body.id).to.equal(receivableId);
      expect(response.body.faceValue).to.equal("100000000");
      expect(response.body).not.to.have.property("documents");
    });

    it("refuses an unrelated supplier and a financier with FORBIDDEN", async function () {
      for (const party of [otherSupplier, financier]) {
        const response = await api.as(party.apiKey).get(`/v1/receivables/${receivableId}`);
        expect(response.status).to.equal(403);
        expect(response.body.error.code).to.equal("FORBIDDEN");
        expect(JSON.stringify(response.body)).not.to.include(documents.invoice.number);
      }
    });

    it("refuses a malformed id with VALIDATION_FAILED naming params.id", async function () {
      for (const id of ["0x1234", "abc", receivableId.toUpperCase().replace("0X", "0x"), `${receivableId}00`]) {
        const response = await api.as(supplier.apiKey).get(`/v1/receivables/${id}`);
        expect(response.status, id).to.equal(400);
        expect(response.body.error.code).to.equal("VALIDATION_FAILED");
        expect(fieldPaths(response.body)).to.deep.equal(["params.id"]);
      }
    });

    it("answers 404 NOT_FOUND for an unknown id", async function () {
      const id = `0x${"cd".repeat(32)}`;
      const response = await api.as(supplier.apiKey).get(`/v1/receivables/${id}`);
      expect(response.status).to.equal(404);
      expect(response.body.error.code).to.equal("NOT_FOUND");
      expect(response.body.error.details.receivable).to.equal(id);
    });
  });

  describe("when someone other than a supplier submits", function () {
    it("refuses a debtor, a financier and the operator with FORBIDDEN", async function () {
      const before = await receivableRows();
      for (const key of [debtor.apiKey, financier.apiKey, t.operatorKey]) {
        const response = await api.as(key).post("/v1/receivables", validSubmission(debtor.id));
        expect(response.status).to.equal(403);
        expect(response.body.error.code).to.equal("FORBIDDEN");
      }
      expect(await receivableRows()).to.equal(before);
    });
  });
});
