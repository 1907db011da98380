// How a pledge ends, through HTTP: the holder repays it (the pledgee is paid what is still
// owed and the certificate unlocks), or, once the receivable has defaulted, the pledgee
// forecloses and takes the certificate. Every answer is checked against the chain.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { advanceChainTime, chainTime, senderOf } from "../repayment-scenario.js";
import { CertificateState, ReceivableStatus, RequestStatus } from "../../../server/model/contract-enums.js";

const PRICE = 80_000_000n;
const REPAY = 88_000_000n;
const LIVE = CertificateState.live;
const LOCKED = CertificateState.locked;
const PLEDGED = RequestStatus.pledged;
const RELEASED = RequestStatus.released;
const FORECLOSED = RequestStatus.foreclosed;
const ACTIVE = ReceivableStatus.active; // ReceivableStatus: None, Active, Overdue, Defaulted, Repaid
const DEFAULTED = ReceivableStatus.defaulted;

interface Pledge {
  requestId: string;
  certificateId: string;
  receivableId: string;
}

describe("API: pledge endings (repay-pledge and foreclose)", function () {
  this.timeout(180_000);
  let t: TestService;
  let api: ApiClient;
  let supplier: TestParty;
  let otherSupplier: TestParty;
  let debtors: TestParty[];
  let financier: TestParty;
  let financier2: TestParty;
  let issued = 0;

  const ctx = () => t.service.ctx;
  const chain = () => ctx().chain.contracts;
  const market = () => ctx().chain.deployment.addresses.financingMarket;
  const balanceOf = async (address: string): Promise<bigint> => chain().token.getFunction("balanceOf")(address);
  const allowanceOf = async (address: string): Promise<bigint> =>
    chain().token.getFunction("allowance")(address, market());
  const stateOf = async (certificateId: string): Promise<bigint> =>
    (await chain().certificates.getFunction("certificateOf")(certificateId)).state;
  const ownerOf = async (certificateId: string): Promise<string> =>
    chain().certificates.getFunction("ownerOf")(certificateId);
  const requestOnChain = async (requestId: string) => chain().financing.getFunction("requestOf")(requestId);
  const indexRow = (requestId: string) =>
    ctx().db.selectFrom("onchain_financing_requests").selectAll().where("id", "=", requestId).executeTakeFirstOrThrow();
  const repay = (party: TestParty, requestId: string) =>
    api.as(party.apiKey).post(`/v1/financing-requests/${requestId}/repay-pledge`);
  const foreclose = (party: TestParty, requestId: string) =>
    api.as(party.apiKey).post(`/v1/financing-requests/${requestId}/foreclose`);

  async function mint(address: string, amount: bigint): Promise<void> {
    const tx = await chain().token.getFunction("mint").populateTransaction(address, amount);
    await ctx().chain.registrar.send(tx, { kind: "mint", ref: "test" });
  }

  /** A pledge request opened by `holder` on a fresh root certificate; funded by `pledgee` unless null. */
  async function pledge(holder: TestParty, pledgee: TestParty | null = financier): Promise<Pledge> {
    const debtor = debtors[issued++ % debtors.length]!;
    const submitted = await api.as(holder.apiKey).post("/v1/receivables", validSubmission(debtor.id));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const certificateId: string = confirmed.body.certificateId;
    const opened = await api.as(holder.apiKey).post("/v1/financing-requests", {
      certificateId,
      kind: "pledge",
      price: PRICE.toString(),
      repayAmount: REPAY.toString(),
    });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    if (pledgee) {
      const funded = await api.as(pledgee.apiKey).post(`/v1/financing-requests/${opened.body.id}/fund`);
      expect(funded.status, JSON.stringify(funded.body)).to.equal(200);
      expect(funded.body.request.status).to.equal("pledged");
    }
    return { requestId: opened.body.id, certificateId, receivableId: submitted.body.id };
  }

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    otherSupplier = await createTestParty(operator, ["supplier"]);
    debtors = [
      await createTestParty(operator, ["debtor"]),
      await createTestParty(operator, ["debtor"]),
      await createTestParty(operator, ["debtor"]),
    ];
    financier = await createTestParty(operator, ["financier"]);
    financier2 = await createTestParty(operator, ["financier"]);
    await mint(financier.address, 1_000_000_000n);
    await mint(financier2.address, 1_000_000_000n);
  });
  after(async function () {
    await t?.close();
  });

  describe("when the holder repays a pledge", function () {
    let repaid: Pledge;

    it("pays the pledgee exactly what is outstanding, unlocks the certificate and releases the request", async function () {
      repaid = await pledge(supplier);
      expect(await stateOf(repaid.certificateId)).to.equal(LOCKED);
      await mint(supplier.address, REPAY - PRICE); // the advance plus the pledge's margin
      const before = { holder: await balanceOf(supplier.address), pledgee: await balanceOf(financier.address) };

      const response = await repay(supplier, repaid.requestId);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.request).to.include({
        id: repaid.requestId,
        status: "released",
        outstanding: "0",
        shortfall: "0",
        financierPartyId: financier.id,
      });
      expect(response.body.txHashes.approve).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.txHashes.repay).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.txHashes.repay).not.to.equal(response.body.txHashes.approve);
      expect(response.body.transactions).to.deep.equal([
        { kind: "approvePledgeRepayment", hash: response.body.txHashes.approve },
        { kind: "repayPledge", hash: response.body.txHashes.repay },
      ]);

      expect(await balanceOf(financier.address)).to.equal(before.pledgee + REPAY);
      expect(await balanceOf(supplier.address)).to.equal(before.holder - REPAY);
      expect(await allowanceOf(supplier.address)).to.equal(0n);
      expect(await stateOf(repaid.certificateId)).to.equal(LIVE);
      expect(await ownerOf(repaid.certificateId)).to.equal(supplier.address);
      const onChain = await requestOnChain(repaid.requestId);
      expect(onChain.status).to.equal(RELEASED);
      expect(onChain.outstanding).to.equal(0n);
      expect(await chain().financing.getFunction("activeRequestOf")(repaid.certificateId)).to.equal(0n);
      expect(await indexRow(repaid.requestId)).to.include({ status: "released", outstanding: "0" });
      const certificate = await api.as(supplier.apiKey).get(`/v1/certificates/${repaid.certificateId}`);
      expect(certificate.body.state).to.equal("live");
    });

    it("refuses to repay it a second time with 409 FINANCING_WRONG_STATUS, moving no money", async function () {
      const before = await balanceOf(financier.address);
      const response = await repay(supplier, repaid.requestId);
      expect(response.status, JSON.stringify(response.body)).to.equal(409);
      expect(response.body.error.code).to.equal("FINANCING_WRONG_STATUS");
      expect(response.body.error.details).to.deep.equal({ requestId: repaid.requestId, status: "released" });
      expect(await balanceOf(financier.address)).to.equal(before);
    });

    it("refuses the pledgee, another supplier and the operator with 403 FORBIDDEN, and the pledge stays", async function () {
      const { requestId, certificateId } = await pledge(supplier);
      await mint(otherSupplier.address, REPAY);
      for (const key of [financier.apiKey, otherSupplier.apiKey, t.operatorKey]) {
        const response = await api.as(key).post(`/v1/financing-requests/${requestId}/repay-pledge`);
        expect(response.status, JSON.stringify(response.body)).to.equal(403);
        expect(response.body.error.code).to.equal("FORBIDDEN");
        // The refusal names no one: not the holder that pledged it.
        expect(response.body.error.details).not.to.have.any.keys("holder", "pledgee");
      }
      expect((await requestOnChain(requestId)).status).to.equal(PLEDGED);
      expect(await stateOf(certificateId)).to.equal(LOCKED);
      expect(await allowanceOf(otherSupplier.address)).to.equal(0n);
    });

    it("refuses an open request nobody funded with 409 FINANCING_WRONG_STATUS", async function () {
      const { requestId, certificateId } = await pledge(supplier, null);
      const response = await repay(supplier, requestId);
      expect(response.status, JSON.stringify(response.body)).to.equal(409);
      expect(response.body.error.code).to.equal("FINANCING_WRONG_STATUS");
      expect(response.body.error.details).to.deep.equal({ requestId, status: "open" });
      expect((await requestOnChain(requestId)).status).to.equal(1n); // Open
      expect(await stateOf(certificateId)).to.equal(LOCKED);
    });

    it("refuses an unknown request with 404", async function () {
      const response = await repay(supplier, "999999");
      expect(response.status, JSON.stringify(response.body)).to.equal(404);
      expect(response.body.error.code).to.equal("NOT_FOUND");
    });
  });

  describe("when the holder holds less than is owed", function () {
    it("refuses with 409 INSUFFICIENT_BALANCE, approving nothing", async function () {
      const { requestId, certificateId } = await pledge(otherSupplier, financier2);
      const balance = await balanceOf(otherSupplier.address);
      // It holds what earlier tests minted it plus the advance; take it below what is owed.
      const excess = balance - (REPAY - 1n);
      if (excess > 0n) {
        const moveAway = await chain().token.getFunction("transfer").populateTransaction(financier2.address, excess);
        await (await senderOf(t, otherSupplier)).send(moveAway, { kind: "test.transfer", ref: requestId });
      }
      expect(await balanceOf(otherSupplier.address)).to.equal(REPAY - 1n);
      const blockBefore = await ctx().chain.provider.getBlockNumber();

      const response = await repay(otherSupplier, requestId);
      expect(response.status, JSON.stringify(response.body)).to.equal(409);
      expect(response.body.error.code).to.equal("INSUFFICIENT_BALANCE");
      expect(response.body.error.details).to.deep.equal({ balance: (REPAY - 1n).toString(), needed: REPAY.toString() });
      expect(await ctx().chain.provider.getBlockNumber()).to.equal(blockBefore);
      expect(await allowanceOf(otherSupplier.address)).to.equal(0n);
      expect((await requestOnChain(requestId)).status).to.equal(PLEDGED);
      expect(await stateOf(certificateId)).to.equal(LOCKED);
    });
  });

  describe("when the pledgee forecloses", function () {
    let defaulting: Pledge;

    before(async function () {
      defaulting = await pledge(supplier, financier2);
    });

    it("refuses before the receivable has defaulted with the contract's 409 RECEIVABLE_WRONG_STATUS", async function () {
      const response = await foreclose(financier2, defaulting.requestId);
      expect(response.status, JSON.stringify(response.body)).to.equal(409);
      expect(response.body.error.code).to.equal("RECEIVABLE_WRONG_STATUS");
      expect(response.body.error.details).to.include({
        contractError: "ReceivableWrongStatus",
        receivableId: defaulting.receivableId,
        status: ACTIVE.toString(),
      });
      expect((await requestOnChain(defaulting.requestId)).status).to.equal(PLEDGED);
      expect(await ownerOf(defaulting.certificateId)).to.equal(supplier.address);
    });

    it("refuses a released pledge with 409 FINANCING_WRONG_STATUS", async function () {
      const released = (
        await ctx()
          .db.selectFrom("onchain_financing_requests")
          .select("id")
          .where("status", "=", "released")
          .executeTakeFirstOrThrow()
      ).id;
      const response = await foreclose(financier, released);
      expect(response.status, JSON.stringify(response.body)).to.equal(409);
      expect(response.body.error.code).to.equal("FINANCING_WRONG_STATUS");
      expect(response.body.error.details).to.deep.equal({ requestId: released, status: "released" });
    });

    it("delivers the certificate to the pledgee once the receivable is defaulted, refusing everyone else", async function () {
      const { registry } = chain();
      const gracePeriod = Number(await registry.getFunction("gracePeriod")());
      const row = await ctx()
        .db.selectFrom("onchain_receivables")
        .select("due_date")
        .where("id", "=", defaulting.receivableId)
        .executeTakeFirstOrThrow();
      await advanceChainTime(t, row.due_date + gracePeriod + 1 - (await chainTime(t)) + 1);
      const mark = await registry.getFunction("markDefaulted").populateTransaction(defaulting.receivableId);
      const marked = await ctx().chain.registrar.send(mark, { kind: "markDefaulted", ref: defaulting.receivableId });
      await ctx().indexer.sync(marked.blockNumber);
      expect(await registry.getFunction("statusOf")(defaulting.receivableId)).to.equal(DEFAULTED);

      for (const party of [financier, supplier, otherSupplier]) {
        const refused = await foreclose(party, defaulting.requestId);
        expect(refused.status, JSON.stringify(refused.body)).to.equal(403);
        expect(refused.body.error.code).to.equal("FORBIDDEN");
        expect(refused.body.error.details).not.to.have.any.keys("holder", "pledgee");
      }
      expect((await requestOnChain(defaulting.requestId)).status).to.equal(PLEDGED);

      const response = await foreclose(financier2, defaulting.requestId);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.request).to.include({
        id: defaulting.requestId,
        status: "foreclosed",
        financierPartyId: financier2.id,
      });
      expect(response.body.certificate).to.deep.equal({
        id: defaulting.certificateId,
        holderAddress: financier2.address,
        holderPartyId: financier2.id,
        holder: {
          address: financier2.address,
          partyId: financier2.id,
          name: (await api.as(financier2.apiKey).get("/v1/me")).body.name,
        },
      });
      expect(response.body.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.transactions).to.deep.equal([{ kind: "foreclosePledge", hash: response.body.txHash }]);
      expect(await ownerOf(defaulting.certificateId)).to.equal(financier2.address);
      expect(await stateOf(defaulting.certificateId)).to.equal(LIVE);
      expect((await requestOnChain(defaulting.requestId)).status).to.equal(FORECLOSED);
      expect(await indexRow(defaulting.requestId)).to.include({ status: "foreclosed" });

      const again = await foreclose(financier2, defaulting.requestId);
      expect(again.status, JSON.stringify(again.body)).to.equal(409);
      expect(again.body.error.code).to.equal("FINANCING_WRONG_STATUS");
    });
  });
});
