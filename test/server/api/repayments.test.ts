// POST and GET /v1/receivables/:id/repayments and POST /v1/parties/:id/early-payment-rate
// through HTTP: the debtor pays in full, in part or early from its custodial wallet, with
// exactly the amount approved to the escrow; every refusal is the contract's own.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { readAllPages } from "../pages.js";
import {
  advanceChainTime,
  balanceOf,
  chainTime,
  FACE,
  mint,
  registeredReceivable,
  type RegisteredReceivable,
} from "../repayment-scenario.js";

const RECEIVABLE_DEFAULTED = "3";
const YEAR = 365n * 86_400n;

describe("API: the debtor repays a receivable", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let supplier: TestParty;
  let debtor: TestParty;
  let brokeDebtor: TestParty;
  let auditor: TestParty;
  let outsider: TestParty;

  const escrowAddress = () => t.service.ctx.chain.deployment.addresses.settlementEscrow;
  const allowance = async (owner: string) =>
    BigInt(await t.service.ctx.chain.contracts.token.getFunction("allowance")(owner, escrowAddress()));
  const chainStatus = async (id: string) =>
    (await t.service.ctx.chain.contracts.registry.getFunction("receivableOf")(id)).status.toString();
  const pay = (id: string, body: unknown, as: TestParty = debtor, headers?: Record<string, string>) =>
    api.as(as.apiKey).post(`/v1/receivables/${id}/repayments`, body, headers);
  const fresh = () => registeredReceivable(api, supplier, debtor);

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    brokeDebtor = await createTestParty(operator, ["debtor"]);
    auditor = await createTestParty(operator, ["auditor"]);
    outsider = await createTestParty(operator, ["supplier"]);
    await mint(t, debtor.address, 50n * FACE);
  });
  after(async function () {
    await t?.close();
  });

  describe("when the debtor pays in full", function () {
    let receivable: RegisteredReceivable;
    let response: Awaited<ReturnType<typeof pay>>;
    let debtorBefore: bigint;
    let escrowBefore: bigint;

    before(async function () {
      receivable = await fresh();
      debtorBefore = await balanceOf(t, debtor.address);
      escrowBefore = await balanceOf(t, escrowAddress());
      response = await pay(receivable.id, { amount: FACE.toString() });
    });

    it("moves exactly the face value from the debtor into the escrow", async function () {
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(debtorBefore - (await balanceOf(t, debtor.address))).to.equal(FACE);
      expect((await balanceOf(t, escrowAddress())) - escrowBefore).to.equal(FACE);
      expect(await allowance(debtor.address)).to.equal(0n);
    });

    it("answers with the repaid receivable and the escrow transaction", async function () {
      expect(response.body).to.include({ paid: FACE.toString(), discount: "0", early: false });
      expect(response.body.receivable).to.include({
        id: receivable.id,
        status: "repaid",
        repaidAmount: FACE.toString(),
      });
      const receipt = await t.service.ctx.chain.provider.getTransactionReceipt(response.body.txHash);
      expect(receipt!.status).to.equal(1);
      expect(receipt!.to).to.equal(escrowAddress());
      expect(receipt!.from).to.equal(debtor.address);
      // The envelope: the approval of exactly the amount, then the payment.
      const [approval, payment] = response.body.transactions;
      expect(response.body.transactions.map((sent: { kind: string }) => sent.kind)).to.deep.equal(["approve", "repay"]);
      expect(payment.hash).to.equal(response.body.txHash);
      const approvalReceipt = await t.service.ctx.chain.provider.getTransactionReceipt(approval.hash);
      expect(approvalReceipt!.to).to.equal(t.service.ctx.chain.deployment.addresses.settlementToken);
    });

    it("lists the payment with its payer, cumulative amount, transaction and block", async function () {
      const list = await api.as(supplier.apiKey).get(`/v1/receivables/${receivable.id}/repayments`);
      expect(list.status, JSON.stringify(list.body)).to.equal(200);
      expect(list.body).to.include({
        receivableId: receivable.id,
        status: "repaid",
        faceValue: FACE.toString(),
        repaidAmount: FACE.toString(),
        outstanding: "0",
        distributed: "0",
        earlyQuote: null,
      });
      const debtorName = (await api.as(t.operatorKey).get(`/v1/parties/${debtor.id}`)).body.name;
      expect(debtorName).to.match(/^Party debtor /);
      expect(list.body.repayments).to.deep.equal([
        {
          payerAddress: debtor.address,
          payerPartyId: debtor.id,
          payer: { address: debtor.address, partyId: debtor.id, name: debtorName },
          amount: FACE.toString(),
          repaidAmount: FACE.toString(),
          txHash: response.body.txHash,
          blockNumber: (await t.service.ctx.chain.provider.getTransactionReceipt(response.body.txHash))!.blockNumber,
        },
      ]);
    });

    it("refuses a second payment with the contract's RECEIVABLE_WRONG_STATUS and takes nothing", async function () {
      const balance = await balanceOf(t, debtor.address);
      const again = await pay(receivable.id, { amount: "1" });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("RECEIVABLE_WRONG_STATUS");
      expect(again.body.error.details).to.include({
        contractError: "ReceivableWrongStatus",
        receivableId: receivable.id,
        status: "4",
      });
      expect(await balanceOf(t, debtor.address)).to.equal(balance);
    });
  });

  describe("when the debtor pays in part", function () {
    let receivable: RegisteredReceivable;

    before(async function () {
      receivable = await fresh();
    });

    it("records each payment and keeps the receivable active until the last one", async function () {
      const first = await pay(receivable.id, { amount: "30000000" });
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      expect(first.body.receivable).to.include({ status: "active", repaidAmount: "30000000" });
      const second = await pay(receivable.id, { amount: "45000000" });
      expect(second.body.receivable).to.include({ status: "active", repaidAmount: "75000000" });

      const list = await api.as(debtor.apiKey).get(`/v1/receivables/${receivable.id}/repayments`);
      expect(list.body).to.include({ status: "active", repaidAmount: "75000000", outstanding: "25000000" });
      expect(
        list.body.repayments.map((r: { amount: string; repaidAmount: string; txHash: string }) => [
          r.amount,
          r.repaidAmount,
          r.txHash,
        ]),
      ).to.deep.equal([
        ["30000000", "30000000", first.body.txHash],
        ["45000000", "75000000", second.body.txHash],
      ]);
      expect(list.body.items).to.deep.equal(list.body.repayments);
      expect(list.body.nextCursor).to.equal(null);
    });

    it("pages the repayments with a cursor, one at a time, in chain order", async function () {
      const url = `/v1/receivables/${receivable.id}/repayments`;
      const all = (await api.as(debtor.apiKey).get(url)).body.repayments as Array<{ txHash: string }>;
      const paged = await readAllPages<{ txHash: string }>(api.as(supplier.apiKey), url, 1);
      expect(paged.items.map((r) => r.txHash)).to.deep.equal(all.map((r) => r.txHash));
      expect(paged.pages).to.equal(2);
    });

    it("refuses more than the outstanding amount with the contract's reason, before approving anything", async function () {
      const balance = await balanceOf(t, debtor.address);
      const blockBefore = await t.service.ctx.chain.provider.getBlockNumber();
      const over = await pay(receivable.id, { amount: "25000001" });
      expect(over.status).to.equal(409);
      expect(over.body.error.code).to.equal("REPAYMENT_EXCEEDS_OUTSTANDING");
      expect(over.body.error.details).to.include({
        receivableId: receivable.id,
        amount: "25000001",
        outstanding: "25000000",
      });
      expect(await balanceOf(t, debtor.address)).to.equal(balance);
      expect(await t.service.ctx.chain.provider.getBlockNumber()).to.equal(blockBefore);
    });

    it("takes the exact rest and marks the receivable repaid", async function () {
      const last = await pay(receivable.id, { amount: "25000000" });
      expect(last.status, JSON.stringify(last.body)).to.equal(200);
      expect(last.body.receivable).to.include({ status: "repaid", repaidAmount: FACE.toString() });
      expect(await chainStatus(receivable.id)).to.equal("4");
    });
  });

  describe("when the same payment is retried with its Idempotency-Key", function () {
    it("pays once and answers the retry with the first answer", async function () {
      const receivable = await fresh();
      const balance = await balanceOf(t, debtor.address);
      const headers = { "Idempotency-Key": `repay-${receivable.id}` };
      const first = await pay(receivable.id, { amount: "10000000" }, debtor, headers);
      const retry = await pay(receivable.id, { amount: "10000000" }, debtor, headers);
      expect(first.status).to.equal(200);
      expect(retry.status).to.equal(200);
      expect(retry.headers.get("idempotent-replayed")).to.equal("true");
      expect(retry.body.txHash).to.equal(first.body.txHash);
      expect(balance - (await balanceOf(t, debtor.address))).to.equal(10_000_000n);
      const list = await api.as(debtor.apiKey).get(`/v1/receivables/${receivable.id}/repayments`);
      expect(list.body.repayments).to.have.length(1);
    });
  });

  describe("when someone other than the debtor pays", function () {
    let receivable: RegisteredReceivable;

    before(async function () {
      receivable = await fresh();
    });

    for (const [who, party] of [
      ["the seller", () => supplier],
      ["the operator", () => ({ apiKey: t.operatorKey }) as TestParty],
      ["an outsider", () => outsider],
    ] as const) {
      it(`refuses ${who} with 403`, async function () {
        const response = await pay(receivable.id, { amount: "1" }, party());
        expect(response.status).to.equal(403);
        expect(response.body.error.code).to.equal("FORBIDDEN");
        expect(await chainStatus(receivable.id)).to.equal("1");
      });
    }

    it("refuses an outsider the list of repayments", async function () {
      const response = await api.as(outsider.apiKey).get(`/v1/receivables/${receivable.id}/repayments`);
      expect(response.status).to.equal(403);
    });

    it("shows an auditor the list of repayments", async function () {
      const response = await api.as(auditor.apiKey).get(`/v1/receivables/${receivable.id}/repayments`);
      expect(response.status).to.equal(200);
      expect(response.body.repayments).to.deep.equal([]);
    });
  });

  describe("when the receivable cannot be paid", function () {
    it("answers 404 for an unknown receivable", async function () {
      const response = await pay(`0x${"ab".repeat(32)}`, { amount: "1" });
      expect(response.status).to.equal(404);
      expect(response.body.error.code).to.equal("NOT_FOUND");
    });

    it("refuses a receivable the debtor has not confirmed yet", async function () {
      const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
      const response = await pay(submitted.body.id, { amount: "1" });
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("RECEIVABLE_NOT_REGISTERED");
    });

    it("refuses a debtor without the money, before approving anything", async function () {
      const receivable = await registeredReceivable(api, supplier, brokeDebtor);
      const response = await pay(receivable.id, { amount: "1000" }, brokeDebtor);
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("INSUFFICIENT_BALANCE");
      expect(response.body.error.details).to.deep.equal({ balance: "0", needed: "1000" });
      expect(await allowance(brokeDebtor.address)).to.equal(0n);
    });

    for (const [what, body] of [
      ["a zero amount", { amount: "0" }],
      ["a fractional amount", { amount: "1.5" }],
      ["an amount and early at once", { amount: "1", early: true }],
      ["early: false", { early: false }],
      ["an empty body", {}],
    ] as const) {
      it(`refuses ${what} with 400`, async function () {
        const receivable = `0x${"cd".repeat(32)}`;
        const response = await pay(receivable, body);
        expect(response.status).to.equal(400);
        expect(response.body.error.code).to.equal("VALIDATION_FAILED");
      });
    }
  });

  describe("when the debtor has no early-payment rate", function () {
    let receivable: RegisteredReceivable;

    before(async function () {
      receivable = await fresh();
    });

    it("quotes nothing", async function () {
      const list = await api.as(debtor.apiKey).get(`/v1/receivables/${receivable.id}/repayments`);
      expect(list.body).to.include({ earlyPaymentRateBps: 0, earlyQuote: null });
    });

    it("refuses an early discharge with the contract's EARLY_PAYMENT_UNAVAILABLE", async function () {
      const balance = await balanceOf(t, debtor.address);
      const response = await pay(receivable.id, { early: true });
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("EARLY_PAYMENT_UNAVAILABLE");
      expect(response.body.error.details).to.include({
        receivableId: receivable.id,
        rateBps: "0",
        dueDate: String(receivable.dueDate),
      });
      expect(await balanceOf(t, debtor.address)).to.equal(balance);
    });
  });

  describe("when the operator sets an early-payment rate", function () {
    const RATE_BPS = 800; // 8% a year
    let receivable: RegisteredReceivable;
    let registeredBefore: RegisteredReceivable;

    before(async function () {
      registeredBefore = await fresh();
    });
    after(async function () {
      expect((await operator.post(`/v1/parties/${debtor.id}/early-payment-rate`, { rateBps: 0 })).status).to.equal(200);
    });

    it("refuses anyone but the operator", async function () {
      const response = await api
        .as(debtor.apiKey)
        .post(`/v1/parties/${debtor.id}/early-payment-rate`, { rateBps: 10_000 });
      expect(response.status).to.equal(403);
      expect(
        Number(await t.service.ctx.chain.contracts.registry.getFunction("earlyPaymentRateOf")(debtor.address)),
      ).to.equal(0);
    });

    it("refuses a rate above 100% a year and an unknown party", async function () {
      expect((await operator.post(`/v1/parties/${debtor.id}/early-payment-rate`, { rateBps: 10_001 })).status).to.equal(
        400,
      );
      const unknown = await operator.post("/v1/parties/pty_nobody/early-payment-rate", { rateBps: 100 });
      expect(unknown.status).to.equal(404);
    });

    it("sets the debtor's rate on-chain", async function () {
      const response = await operator.post(`/v1/parties/${debtor.id}/early-payment-rate`, { rateBps: RATE_BPS });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body).to.include({ partyId: debtor.id, address: debtor.address, rateBps: RATE_BPS });
      expect(
        Number(await t.service.ctx.chain.contracts.registry.getFunction("earlyPaymentRateOf")(debtor.address)),
      ).to.equal(RATE_BPS);
      const receipt = await t.service.ctx.chain.provider.getTransactionReceipt(response.body.txHash);
      expect(receipt!.status).to.equal(1);
      // The rate is a registration term: receivables registered from now on carry it.
      receivable = await fresh();
    });

    it("leaves a receivable registered before the change at the rate it was registered with (none)", async function () {
      const list = await api.as(supplier.apiKey).get(`/v1/receivables/${registeredBefore.id}/repayments`);
      expect(list.body).to.include({ earlyPaymentRateBps: 0, earlyQuote: null });
      const response = await pay(registeredBefore.id, { early: true });
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("EARLY_PAYMENT_UNAVAILABLE");
    });

    it("quotes the early amount at the latest block", async function () {
      const list = await api.as(supplier.apiKey).get(`/v1/receivables/${receivable.id}/repayments`);
      expect(list.body.earlyPaymentRateBps).to.equal(RATE_BPS);
      const quote = list.body.earlyQuote;
      const block = await t.service.ctx.chain.provider.getBlock(quote.blockNumber);
      const discount =
        (FACE * BigInt(RATE_BPS) * (BigInt(receivable.dueDate) - BigInt(block!.timestamp))) / (10_000n * YEAR);
      expect(quote).to.include({
        rateBps: RATE_BPS,
        discount: discount.toString(),
        amount: (FACE - discount).toString(),
        asOf: new Date(block!.timestamp * 1000).toISOString(),
      });
      expect(discount > 0n).to.equal(true);
    });

    it("refuses a limit below the current quote, before approving anything", async function () {
      const response = await pay(receivable.id, { early: true, maxAmount: "1000" });
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("SETTLEMENT_QUOTE_ABOVE_LIMIT");
      expect(response.body.error.details.maxAmount).to.equal("1000");
      expect(await chainStatus(receivable.id)).to.equal("1");
    });

    it("discharges the receivable at the quote of the block that mines it", async function () {
      const balance = await balanceOf(t, debtor.address);
      const response = await pay(receivable.id, { early: true });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      const receipt = await t.service.ctx.chain.provider.getTransactionReceipt(response.body.txHash);
      const mined = await t.service.ctx.chain.provider.getBlock(receipt!.blockNumber);
      const discount =
        (FACE * BigInt(RATE_BPS) * (BigInt(receivable.dueDate) - BigInt(mined!.timestamp))) / (10_000n * YEAR);
      expect(response.body).to.include({
        early: true,
        paid: (FACE - discount).toString(),
        discount: discount.toString(),
      });
      expect(response.body.receivable).to.include({ status: "repaid", repaidAmount: (FACE - discount).toString() });
      expect(balance - (await balanceOf(t, debtor.address))).to.equal(FACE - discount);
      expect(await allowance(debtor.address)).to.equal(0n); // the unused part of the limit is withdrawn
      const list = await api.as(debtor.apiKey).get(`/v1/receivables/${receivable.id}/repayments`);
      expect(list.body).to.include({ status: "repaid", earlyQuote: null });
      expect(list.body.repayments.map((r: { amount: string }) => r.amount)).to.deep.equal([
        (FACE - discount).toString(),
      ]);
    });
  });

  describe("when a client reads the API description", function () {
    it("documents the three repayment routes with their request bodies", async function () {
      const document = await api.get("/openapi.json");
      const paths = document.body.paths;
      expect(Object.keys(paths["/v1/receivables/{id}/repayments"])).to.have.members(["get", "post"]);
      expect(
        paths["/v1/receivables/{id}/repayments"].post.requestBody.content["application/json"].schema.$ref,
      ).to.equal("#/components/schemas/Repayment");
      expect(
        paths["/v1/parties/{id}/early-payment-rate"].post.requestBody.content["application/json"].schema.$ref,
      ).to.equal("#/components/schemas/EarlyPaymentRate");
    });
  });

  // Chain time moves forward from here: registrations (checked against wall-clock time) come first.
  describe("when the receivable has defaulted", function () {
    let receivable: RegisteredReceivable;

    before(async function () {
      receivable = await fresh();
      const grace = Number(await t.service.ctx.chain.contracts.registry.getFunction("gracePeriod")());
      await advanceChainTime(t, receivable.dueDate + grace - (await chainTime(t)) + 60);
      const pass = await t.service.keeper.runOnce();
      expect(pass.markedDefaulted).to.be.at.least(1);
      expect(await chainStatus(receivable.id)).to.equal(RECEIVABLE_DEFAULTED);
    });

    // Deliberately changed (trust model, item 5): late payment after default is taken and paid out.
    it("takes a late repayment, leaving the receivable defaulted until it is paid in full", async function () {
      const balance = await balanceOf(t, debtor.address);
      const response = await pay(receivable.id, { amount: "1000000" });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(balance - (await balanceOf(t, debtor.address))).to.equal(1_000_000n);
      expect(await allowance(debtor.address)).to.equal(0n);
      expect(await chainStatus(receivable.id)).to.equal(RECEIVABLE_DEFAULTED);
    });

    it("shows the receivable defaulted, with the late payment on its books", async function () {
      const list = await api.as(debtor.apiKey).get(`/v1/receivables/${receivable.id}/repayments`);
      expect(list.body).to.include({
        status: "defaulted",
        repaidAmount: "1000000",
        outstanding: (FACE - 1_000_000n).toString(),
      });
    });
  });
});
