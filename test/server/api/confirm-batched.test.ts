// Confirmations registered many per transaction (server/chain/registration-batcher.ts), and
// the accept-fast answer (Prefer: respond-async): one refused item never sinks its batch and
// is refused with the error the single path gives; a signature that is not the debtor's is
// refused before the chain (a batch is not simulated, so a refusal there costs gas); a 202 is
// followed to registered (or refused) through its Location.
import { expect } from "chai";
import { Wallet } from "ethers";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient, type ApiResponse } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { registerAlone } from "../../../server/chain/registration-batcher.js";
import { chainError } from "../../../server/chain/revert-errors.js";
import { AppError } from "../../../server/model/errors.js";
import { hashText } from "../../../server/model/receivable-schema.js";

const RECEIVABLE_ACTIVE = 1;
const ASYNC = { prefer: "respond-async" };

describe("API: confirmations registered in batches", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let supplier: TestParty;
  let custodialDebtor: TestParty;
  let wallet: ReturnType<typeof Wallet.createRandom>;
  let selfCustodied: TestParty;

  const statusOnChain = async (id: string) => Number(await t.service.ctx.chain.contracts.registry.statusOf(id));
  const submitted = async (debtor: TestParty): Promise<string> => {
    const response = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    return response.body.id;
  };
  /** The debtor's own signature over the typed data the service hands out; `by` forges it, and
   * `deadline` replaces the one handed out (a consent the debtor let expire). */
  const signed = async (
    id: string,
    by: Wallet | ReturnType<typeof Wallet.createRandom> = wallet,
    deadline?: number,
  ) => {
    const { domain, types, message } = (await api.as(selfCustodied.apiKey).get(`/v1/receivables/${id}/confirmation`))
      .body;
    if (deadline !== undefined) message.deadline = String(deadline);
    return {
      nonce: message.nonce as string,
      deadline: Number(message.deadline),
      signature: await by.signTypedData(domain, types, message),
    };
  };
  /** Unix time long past: the registry refuses the consent as expired, which only the chain's clock can tell. */
  const EXPIRED = 1_000;
  const followUntilSettled = async (location: string, apiKey: string): Promise<ApiResponse> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const answer = await api.as(apiKey).get(location);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      if (answer.body.state !== "pending") return answer;
      if (Date.now() > deadline) throw new Error(`still pending: ${JSON.stringify(answer.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  before(async function () {
    // A wide window, so that confirmations sent together share one registerBatch.
    t = await startTestService({ TIERLINE_BATCH_WINDOW_MS: "400" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    custodialDebtor = await createTestParty(operator, ["debtor"]);
    wallet = Wallet.createRandom();
    selfCustodied = await createTestParty(operator, ["debtor"], { address: wallet.address });
  });
  after(async function () {
    await t?.close();
  });

  describe("when one confirmation in a batch carries an expired consent", function () {
    let good: string[];
    let bad: string;
    let answers: ApiResponse[];
    let expired: Awaited<ReturnType<typeof signed>>;

    before(async function () {
      good = [await submitted(selfCustodied), await submitted(selfCustodied)];
      bad = await submitted(selfCustodied);
      const bodies = [await signed(good[0]!), await signed(good[1]!)];
      expired = await signed(bad, wallet, EXPIRED);
      answers = await Promise.all([
        api.as(selfCustodied.apiKey).post(`/v1/receivables/${good[0]}/confirm`, bodies[0]),
        api.as(selfCustodied.apiKey).post(`/v1/receivables/${bad}/confirm`, expired),
        api.as(selfCustodied.apiKey).post(`/v1/receivables/${good[1]}/confirm`, bodies[1]),
      ]);
    });

    it("registers the others in one registerBatch transaction", async function () {
      const [first, , second] = answers;
      expect(first!.status, JSON.stringify(first!.body)).to.equal(200);
      expect(second!.status, JSON.stringify(second!.body)).to.equal(200);
      expect(first!.body.txHash).to.equal(second!.body.txHash);
      const tx = await t.service.ctx.chain.provider.getTransaction(first!.body.txHash);
      const registry = t.service.ctx.chain.contracts.registry;
      expect(registry.interface.parseTransaction({ data: tx!.data })!.name).to.equal("registerBatch");
      for (const id of good) expect(await statusOnChain(id)).to.equal(RECEIVABLE_ACTIVE);
      expect(first!.body.certificateId).to.not.equal(second!.body.certificateId);
    });

    it("refuses the expired one in that same transaction, with the code and details the single path gives", async function () {
      const refused = answers[1]!;
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal("CONFIRMATION_EXPIRED");
      expect(refused.body.error.details.deadline).to.equal(String(EXPIRED));
      expect(refused.body.error.details.txHash).to.equal(answers[0]!.body.txHash);
      const receipt = await t.service.ctx.chain.provider.getTransactionReceipt(answers[0]!.body.txHash);
      const registry = t.service.ctx.chain.contracts.registry;
      const refusals = receipt!.logs
        .map((log) => registry.interface.parseLog(log))
        .filter((parsed) => parsed?.name === "RegistrationRefused");
      expect(refusals.map((parsed) => parsed!.args.receivableId)).to.deep.equal([bad]);
      expect(await statusOnChain(bad)).to.equal(0);
      const read = await api.as(supplier.apiKey).get(`/v1/receivables/${bad}`);
      expect(read.body.status).to.equal("awaiting_confirmation");

      // The single path (register, simulated first) refuses the very same request so.
      const ctx = t.service.ctx;
      const row = await ctx.db
        .selectFrom("receivables")
        .select("invoice_number_normalized")
        .where("id", "=", bad)
        .executeTakeFirstOrThrow();
      const single = await registerAlone(ctx.chain.registrar, ctx.chain.contracts.registry, {
        receivableId: bad,
        terms: {
          seller: supplier.address,
          debtor: wallet.address,
          invoiceNumberHash: hashText(row.invoice_number_normalized),
          documentHash: read.body.documentHash,
          faceValue: BigInt(read.body.faceValue),
          dueDate: BigInt(Date.parse(read.body.dueDate) / 1000),
        },
        confirmation: { nonce: BigInt(expired.nonce), deadline: expired.deadline, signature: expired.signature },
      }).then(
        () => undefined,
        (error: unknown) => chainError(error),
      );
      expect(single).to.be.instanceOf(AppError);
      expect(single!.code).to.equal(refused.body.error.code);
      expect(single!.status).to.equal(refused.status);
      expect(single!.details!.deadline).to.equal(refused.body.error.details.deadline);
    });

    it("refuses a signature that is not the debtor's before anything is sent, as the contract would", async function () {
      const id = await submitted(selfCustodied);
      const blockBefore = await t.service.ctx.chain.provider.getBlockNumber();
      const refused = await api
        .as(selfCustodied.apiKey)
        .post(`/v1/receivables/${id}/confirm`, await signed(id, Wallet.createRandom()), ASYNC);
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal("CONFIRMATION_INVALID_SIGNATURE");
      expect(refused.body.error.details).to.deep.equal({
        contractError: "ConfirmationInvalidSignature",
        debtor: wallet.address,
      });
      expect(await t.service.ctx.chain.provider.getBlockNumber()).to.equal(blockBefore);
      const read = await api.as(supplier.apiKey).get(`/v1/receivables/${id}`);
      expect(read.body.status).to.equal("awaiting_confirmation");
    });

    it("accepts the debtor's own signature for the refused one afterwards", async function () {
      const again = await api.as(selfCustodied.apiKey).post(`/v1/receivables/${bad}/confirm`, await signed(bad));
      expect(again.status, JSON.stringify(again.body)).to.equal(200);
      expect(await statusOnChain(bad)).to.equal(RECEIVABLE_ACTIVE);
    });
  });

  describe("when the debtor prefers an asynchronous answer", function () {
    it("answers 202 at once with the pending registration and a Location that reaches registered", async function () {
      const id = await submitted(custodialDebtor);
      const accepted = await api.as(custodialDebtor.apiKey).post(`/v1/receivables/${id}/confirm`, {}, ASYNC);
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
      expect(accepted.headers.get("preference-applied")).to.equal("respond-async");
      const location = accepted.headers.get("location");
      expect(location).to.equal(`/v1/receivables/${id}/registration`);
      // The 400 ms window is still open: the answer did not wait for the chain.
      expect(accepted.body).to.deep.equal({
        registration: { receivableId: id, state: "pending", certificateId: null, transactions: [], refusal: null },
        transactions: [],
      });

      const settled = await followUntilSettled(location!, supplier.apiKey);
      expect(settled.body.state).to.equal("registered");
      const onChain = await t.service.ctx.chain.contracts.registry.receivableOf(id);
      expect(settled.body.certificateId).to.equal(String(onChain.rootCertificateId));
      expect(settled.body.transactions).to.have.length(1);
      expect(settled.body.transactions[0].kind).to.equal("register");
      const receivable = await api.as(supplier.apiKey).get(`/v1/receivables/${id}`);
      expect(receivable.body.status).to.equal("active");
      expect(receivable.body.txHashes.register).to.equal(settled.body.transactions[0].hash);

      // Confirming again, either way, answers from the chain and registers nothing more.
      const again = await api.as(custodialDebtor.apiKey).post(`/v1/receivables/${id}/confirm`, {}, ASYNC);
      expect(again.status).to.equal(202);
      expect(again.body.registration.state).to.equal("registered");
      expect(again.body.registration.certificateId).to.equal(settled.body.certificateId);
      expect(again.body.transactions).to.deep.equal(settled.body.transactions);
    });

    it("follows a refused registration to refused, with the error the synchronous answer would have carried", async function () {
      const id = await submitted(selfCustodied);
      const accepted = await api
        .as(selfCustodied.apiKey)
        .post(`/v1/receivables/${id}/confirm`, await signed(id, wallet, EXPIRED), ASYNC);
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
      expect(accepted.body.registration.state).to.equal("pending");
      const settled = await followUntilSettled(accepted.headers.get("location")!, selfCustodied.apiKey);
      expect(settled.body.state).to.equal("refused");
      expect(settled.body.refusal.code).to.equal("CONFIRMATION_EXPIRED");
      expect(settled.body.refusal.details.deadline).to.equal(String(EXPIRED));
      expect(settled.body.certificateId).to.equal(null);
      expect(await statusOnChain(id)).to.equal(0);
    });

    it("refuses before the chain exactly as the synchronous confirmation does (403 for someone else)", async function () {
      const id = await submitted(custodialDebtor);
      const refused = await api.as(supplier.apiKey).post(`/v1/receivables/${id}/confirm`, {}, ASYNC);
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal("FORBIDDEN");
      const state = await api.as(supplier.apiKey).get(`/v1/receivables/${id}/registration`);
      expect(state.body.state).to.equal("not_confirmed");
    });

    it("keeps the synchronous answer (200 after registration) without the header", async function () {
      const id = await submitted(custodialDebtor);
      const confirmed = await api.as(custodialDebtor.apiKey).post(`/v1/receivables/${id}/confirm`, {});
      expect(confirmed.status).to.equal(200);
      expect(confirmed.headers.get("location")).to.equal(null);
      expect(confirmed.body.receivable.status).to.equal("active");
    });
  });
});
