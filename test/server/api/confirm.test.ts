// POST /v1/receivables/:id/confirm and GET /v1/receivables/:id/confirmation through HTTP:
// only the debtor confirms; a custodial debtor's consent is signed by the service, a
// non-custodial debtor signs the EIP-712 typed data itself; confirming twice registers once.
import { expect } from "chai";
import { Wallet } from "ethers";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

const RECEIVABLE_ACTIVE = 1;

describe("API: the debtor confirms a receivable", function () {
  this.timeout(60_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let supplier: TestParty;
  let debtor: TestParty;
  let otherDebtor: TestParty;
  let auditor: TestParty;

  const statusOnChain = async (id: string) =>
    Number(await t.service.ctx.chain.contracts.registry.getFunction("statusOf")(id));
  const registrationsOf = async (id: string) => {
    const events = await t.service.ctx.db
      .selectFrom("chain_events")
      .select("args")
      .where("name", "=", "ReceivableRegistered")
      .execute();
    return events.filter((e) => JSON.parse(e.args).receivableId === id).length;
  };
  const submitted = async (debtorParty: TestParty, seller: TestParty = supplier): Promise<string> => {
    const response = await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtorParty.id));
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    return response.body.id;
  };

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    otherDebtor = await createTestParty(operator, ["debtor"]);
    auditor = await createTestParty(operator, ["auditor"]);
  });
  after(async function () {
    await t?.close();
  });

  describe("when a custodial debtor confirms", function () {
    it("registers the receivable on-chain and issues the root certificate to the seller", async function () {
      const id = await submitted(debtor);
      const response = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.receivable.id).to.equal(id);
      expect(response.body.receivable.status).to.equal("active");
      expect(response.body.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.certificateId).to.match(/^[1-9][0-9]*$/);
      expect(response.body.receivable.rootCertificateId).to.equal(response.body.certificateId);
      expect(response.body.receivable.txHashes.register).to.equal(response.body.txHash);
      expect(response.body.transactions).to.deep.equal([{ kind: "register", hash: response.body.txHash }]);

      const { registry, certificates } = t.service.ctx.chain.contracts;
      expect(await statusOnChain(id)).to.equal(RECEIVABLE_ACTIVE);
      expect(await certificates.getFunction("ownerOf")(response.body.certificateId)).to.equal(supplier.address);
      const receipt = await t.service.ctx.chain.provider.getTransactionReceipt(response.body.txHash);
      expect(receipt!.status).to.equal(1);
      expect(receipt!.to).to.equal(await registry.getAddress());
      expect(await registrationsOf(id)).to.equal(1);

      const read = await api.as(supplier.apiKey).get(`/v1/receivables/${id}`);
      expect(read.body.status).to.equal("active");
      expect(read.body.rootCertificateId).to.equal(response.body.certificateId);
      const certificate = await api.as(supplier.apiKey).get(`/v1/certificates/${response.body.certificateId}`);
      expect(certificate.body).to.include({
        receivableId: id,
        holderPartyId: supplier.id,
        faceValue: "100000000",
        tier: 1,
        state: "live",
        parentId: null,
      });
    });

    it("answers a second confirmation with the same certificate and transaction, without registering again", async function () {
      const id = await submitted(debtor);
      const first = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`);
      expect(first.status).to.equal(200);
      const blockBefore = await t.service.ctx.chain.provider.getBlockNumber();
      const second = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`);
      expect(second.status).to.equal(200);
      expect(second.body.certificateId).to.equal(first.body.certificateId);
      expect(second.body.txHash).to.equal(first.body.txHash);
      expect(await t.service.ctx.chain.provider.getBlockNumber()).to.equal(blockBefore);
      expect(await registrationsOf(id)).to.equal(1);
    });

    it("registers once when the debtor confirms twice at the same time", async function () {
      const id = await submitted(debtor);
      const responses = await Promise.all([
        api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`),
        api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`),
      ]);
      expect(
        responses.map((r) => r.status),
        JSON.stringify(responses.map((r) => r.body)),
      ).to.deep.equal([200, 200]);
      expect(responses[1]!.body.certificateId).to.equal(responses[0]!.body.certificateId);
      expect(responses[1]!.body.txHash).to.equal(responses[0]!.body.txHash);
      expect(await registrationsOf(id)).to.equal(1);
    });

    it("answers a retry with the same Idempotency-Key from the stored response", async function () {
      const id = await submitted(debtor);
      const first = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${id}/confirm`, {}, { "idempotency-key": `confirm-${id}` });
      const retry = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${id}/confirm`, {}, { "idempotency-key": `confirm-${id}` });
      expect(first.status).to.equal(200);
      expect(retry.status).to.equal(200);
      expect(retry.headers.get("idempotent-replayed")).to.equal("true");
      expect(retry.body).to.deep.equal(first.body);
    });
  });

  describe("when someone other than the debtor confirms", function () {
    it("refuses the seller, another debtor, the operator and an auditor with FORBIDDEN and registers nothing", async function () {
      const id = await submitted(debtor);
      for (const key of [supplier.apiKey, otherDebtor.apiKey, t.operatorKey, auditor.apiKey]) {
        const response = await api.as(key).post(`/v1/receivables/${id}/confirm`);
        expect(response.status).to.equal(403);
        expect(response.body.error.code).to.equal("FORBIDDEN");
        // Another debtor is told whose receivable it is; a caller without the debtor role, only that.
        if (key === otherDebtor.apiKey) expect(response.body.error.details.debtorId).to.equal(debtor.id);
        else expect(response.body.error.details.required).to.deep.equal(["debtor"]);
        const typed = await api.as(key).get(`/v1/receivables/${id}/confirmation`);
        expect(typed.status).to.equal(403);
        expect(typed.body.error.code).to.equal("FORBIDDEN");
      }
      expect(await statusOnChain(id)).to.equal(0);
      const read = await api.as(supplier.apiKey).get(`/v1/receivables/${id}`);
      expect(read.body.status).to.equal("awaiting_confirmation");
    });

    it("answers 404 for an unknown receivable and 400 for a malformed id", async function () {
      const unknown = await api.as(debtor.apiKey).post(`/v1/receivables/0x${"ef".repeat(32)}/confirm`);
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error.code).to.equal("NOT_FOUND");
      const malformed = await api.as(debtor.apiKey).post(`/v1/receivables/42/confirm`);
      expect(malformed.status).to.equal(400);
      expect(malformed.body.error.code).to.equal("VALIDATION_FAILED");
    });

    it("refuses an unknown field in the body with VALIDATION_FAILED", async function () {
      const id = await submitted(debtor);
      const response = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`, { approve: true });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("VALIDATION_FAILED");
      expect(await statusOnChain(id)).to.equal(0);
    });
  });

  describe("when the receivable is held for review", function () {
    it("refuses the confirmation with RECEIVABLE_HELD_FOR_REVIEW until the operator approves", async function () {
      const relatedDebtor = await createTestParty(operator, ["debtor"], { relatedPartyIds: [supplier.id] });
      const id = await submitted(relatedDebtor);
      const held = await api.as(relatedDebtor.apiKey).post(`/v1/receivables/${id}/confirm`);
      expect(held.status).to.equal(409);
      expect(held.body.error.code).to.equal("RECEIVABLE_HELD_FOR_REVIEW");
      expect(held.body.error.details.receivableId).to.equal(id);
      expect(await statusOnChain(id)).to.equal(0);

      expect(
        (await operator.post(`/v1/receivables/${id}/review`, { decision: "approve", note: "checked" })).status,
      ).to.equal(200);
      const confirmed = await api.as(relatedDebtor.apiKey).post(`/v1/receivables/${id}/confirm`);
      expect(confirmed.status).to.equal(200);
      expect(await statusOnChain(id)).to.equal(RECEIVABLE_ACTIVE);
    });
  });

  describe("when the debtor keeps its own key", function () {
    let wallet: ReturnType<typeof Wallet.createRandom>;
    let selfCustodied: TestParty;

    before(async function () {
      wallet = Wallet.createRandom();
      selfCustodied = await createTestParty(operator, ["debtor"], { address: wallet.address });
      expect(selfCustodied.address).to.equal(wallet.address);
    });

    it("refuses a confirmation without a signature with CONFIRMATION_SIGNATURE_REQUIRED and the typed data to sign", async function () {
      const id = await submitted(selfCustodied);
      const response = await api.as(selfCustodied.apiKey).post(`/v1/receivables/${id}/confirm`);
      expect(response.status).to.equal(422);
      expect(response.body.error.code).to.equal("CONFIRMATION_SIGNATURE_REQUIRED");
      const typed = response.body.error.details.typedData;
      expect(typed.primaryType).to.equal("ReceivableConfirmation");
      expect(typed.domain).to.deep.equal({
        name: "Tierline ReceivableRegistry",
        version: "1",
        chainId: "31337",
        verifyingContract: t.service.ctx.chain.deployment.addresses.receivableRegistry,
      });
      expect(typed.message).to.include({
        receivableId: id,
        seller: supplier.address,
        debtor: wallet.address,
        faceValue: "100000000",
        nonce: BigInt(id).toString(),
      });
      expect(await statusOnChain(id)).to.equal(0);
    });

    it("registers with the debtor's own EIP-712 signature over the typed data the service hands out", async function () {
      const id = await submitted(selfCustodied);
      const typedResponse = await api.as(selfCustodied.apiKey).get(`/v1/receivables/${id}/confirmation`);
      expect(typedResponse.status).to.equal(200);
      const { domain, types, message } = typedResponse.body;
      expect(message.settlementToken).to.equal(t.service.ctx.chain.deployment.addresses.settlementToken);
      expect(Number(message.deadline)).to.be.greaterThan(Math.floor(Date.now() / 1000));
      const signature = await wallet.signTypedData(domain, types, message);

      const confirmed = await api.as(selfCustodied.apiKey).post(`/v1/receivables/${id}/confirm`, {
        nonce: message.nonce,
        deadline: Number(message.deadline),
        signature,
      });
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      expect(confirmed.body.receivable.status).to.equal("active");
      expect(await statusOnChain(id)).to.equal(RECEIVABLE_ACTIVE);
      expect(
        await t.service.ctx.chain.contracts.certificates.getFunction("ownerOf")(confirmed.body.certificateId),
      ).to.equal(supplier.address);
      expect(await registrationsOf(id)).to.equal(1);
    });

    it("refuses a signature by another key with CONFIRMATION_INVALID_SIGNATURE, and accepts the debtor's afterwards", async function () {
      const id = await submitted(selfCustodied);
      const { domain, types, message } = (await api.as(selfCustodied.apiKey).get(`/v1/receivables/${id}/confirmation`))
        .body;
      const forged = await Wallet.createRandom().signTypedData(domain, types, message);
      const refused = await api.as(selfCustodied.apiKey).post(`/v1/receivables/${id}/confirm`, {
        nonce: message.nonce,
        deadline: Number(message.deadline),
        signature: forged,
      });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal("CONFIRMATION_INVALID_SIGNATURE");
      expect(refused.body.error.details.debtor).to.equal(wallet.address);
      expect(await statusOnChain(id)).to.equal(0);
      const read = await api.as(supplier.apiKey).get(`/v1/receivables/${id}`);
      expect(read.body.status).to.equal("awaiting_confirmation");

      // The debtor's signature over different terms (a later deadline than the one signed) is refused too.
      const signature = await wallet.signTypedData(domain, types, message);
      const tampered = await api.as(selfCustodied.apiKey).post(`/v1/receivables/${id}/confirm`, {
        nonce: message.nonce,
        deadline: Number(message.deadline) + 1,
        signature,
      });
      expect(tampered.status).to.equal(422);
      expect(tampered.body.error.code).to.equal("CONFIRMATION_INVALID_SIGNATURE");

      const accepted = await api.as(selfCustodied.apiKey).post(`/v1/receivables/${id}/confirm`, {
        nonce: message.nonce,
        deadline: Number(message.deadline),
        signature,
      });
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(200);
      expect(await statusOnChain(id)).to.equal(RECEIVABLE_ACTIVE);
    });

    it("refuses a malformed signature with VALIDATION_FAILED naming body.signature", async function () {
      const id = await submitted(selfCustodied);
      const response = await api
        .as(selfCustodied.apiKey)
        .post(`/v1/receivables/${id}/confirm`, { nonce: "1", deadline: 1, signature: "not-hex" });
      expect(response.status).to.equal(400);
      expect(response.body.error.details.fields.map((f: { path: string }) => f.path)).to.deep.equal(["body.signature"]);
    });
  });
});
