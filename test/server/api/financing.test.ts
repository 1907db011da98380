// /v1/financing-requests through HTTP: a holder opens (and cancels) a discount or pledge
// request, the certificate locks on-chain, every party browses the market, a custodial
// financier funds it delivery versus payment. Refusals are checked against the chain.
import { expect } from "chai";
import { Wallet } from "ethers";
import { decodeRevert } from "../../../server/chain/revert-errors.js";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { CertificateState, RequestStatus } from "../../../server/model/contract-enums.js";
import { readAllPages } from "../pages.js";

const FACE = 100_000_000n; // validSubmission: 100 x 1.000000
const LIVE = CertificateState.live;
const LOCKED = CertificateState.locked;
const SOLD = RequestStatus.sold;
const PLEDGED = RequestStatus.pledged;
const fieldPaths = (body: any): string[] => body.error.details.fields.map((f: { path: string }) => f.path);

describe("API: financing requests", function () {
  this.timeout(180_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let supplier: TestParty;
  let otherSupplier: TestParty;
  let debtors: TestParty[];
  let financier: TestParty;
  let financier2: TestParty;
  let brokeFinancier: TestParty;
  let auditor: TestParty;
  let supplierFinancier: TestParty;
  let nonCustodial: TestParty;
  let issued = 0;

  const ctx = () => t.service.ctx;
  const chain = () => ctx().chain.contracts;
  const balanceOf = async (address: string): Promise<bigint> => chain().token.getFunction("balanceOf")(address);
  const stateOf = async (certificateId: string): Promise<bigint> =>
    (await chain().certificates.getFunction("certificateOf")(certificateId)).state;
  const ownerOf = async (certificateId: string): Promise<string> =>
    chain().certificates.getFunction("ownerOf")(certificateId);
  const requestOnChain = async (requestId: string) => chain().financing.getFunction("requestOf")(requestId);
  const requestCount = async (): Promise<bigint> => chain().financing.getFunction("requestCount")();
  const indexRow = (requestId: string) =>
    ctx().db.selectFrom("onchain_financing_requests").selectAll().where("id", "=", requestId).executeTakeFirstOrThrow();

  async function mint(address: string, amount: bigint): Promise<void> {
    const tx = await chain().token.getFunction("mint").populateTransaction(address, amount);
    await ctx().chain.registrar.send(tx, { kind: "mint", ref: "test" });
  }

  /** A fresh root certificate held by `holder` (debtors rotate: the brushing rule holds >10 a day per pair). */
  async function issueCertificate(
    holder: TestParty = supplier,
  ): Promise<{ certificateId: string; receivableId: string; debtor: TestParty }> {
    const debtor = debtors[issued++ % debtors.length]!;
    const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const certificateId: string = confirmed.body.certificateId;
    if (holder.id !== supplier.id) {
      const moved = await api
        .as(supplier.apiKey)
        .post(`/v1/certificates/${certificateId}/transfer`, { toPartyId: holder.id });
      expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    }
    return { certificateId, receivableId: submitted.body.id, debtor };
  }

  const open = (party: TestParty, body: Record<string, unknown>, headers?: Record<string, string>) =>
    api.as(party.apiKey).post("/v1/financing-requests", body, headers);

  async function openDiscount(price = "95000000", holder: TestParty = supplier) {
    const { certificateId, receivableId, debtor } = await issueCertificate(holder);
    const response = await open(holder, { certificateId, kind: "discount", price });
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    return { certificateId, receivableId, debtor, request: response.body };
  }

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    otherSupplier = await createTestParty(operator, ["supplier"]);
    debtors = [
      await createTestParty(operator, ["debtor"]),
      await createTestParty(operator, ["debtor"]),
      await createTestParty(operator, ["debtor"]),
    ];
    financier = await createTestParty(operator, ["financier"]);
    financier2 = await createTestParty(operator, ["financier"]);
    brokeFinancier = await createTestParty(operator, ["financier"]);
    auditor = await createTestParty(operator, ["auditor"]);
    supplierFinancier = await createTestParty(operator, ["supplier", "financier"]);
    nonCustodial = await createTestParty(operator, ["supplier"], { address: Wallet.createRandom().address });
    await mint(financier.address, 1_000_000_000n);
    await mint(financier2.address, 1_000_000_000n);
    await mint(supplierFinancier.address, 1_000_000_000n);
  });
  after(async function () {
    await t?.close();
  });

  describe("when a holder opens a discount request", function () {
    it("answers 201 with the request, locks the certificate on-chain and indexes the request", async function () {
      const { certificateId, receivableId, debtor } = await issueCertificate();
      // Tenors count from the chain's clock (the latest block), not the server's.
      const chainMs = async () => (await ctx().chain.provider.getBlock("latest"))!.timestamp * 1000;
      const before = await chainMs();
      const response = await open(supplier, { certificateId, kind: "discount", price: "95000000" });
      const after = await chainMs();
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      const view = response.body;
      expect(view.id).to.match(/^[1-9][0-9]*$/);
      expect(view).to.include({
        certificateId,
        receivableId,
        kind: "discount",
        price: "95000000",
        repayAmount: "0",
        outstanding: "0",
        status: "open",
        holderPartyId: supplier.id,
        holderAddress: supplier.address,
        financierPartyId: null,
        financierAddress: null,
        faceValue: FACE.toString(),
        tier: 1,
      });
      const debtorRow = await ctx()
        .db.selectFrom("parties")
        .select(["name", "address"])
        .where("id", "=", debtor.id)
        .executeTakeFirstOrThrow();
      // A PartyRef, with the older `id` beside it (deprecated).
      expect(view.debtor).to.deep.equal({
        partyId: debtor.id,
        id: debtor.id,
        name: debtorRow.name,
        address: debtorRow.address,
      });
      const due = Date.parse(view.dueDate);
      expect([Math.floor((due - before) / 86_400_000), Math.floor((due - after) / 86_400_000)]).to.include(
        view.tenorDays,
      );
      const receivable = await api.as(supplier.apiKey).get(`/v1/receivables/${receivableId}`);
      expect(view.dueDate).to.equal(receivable.body.dueDate);
      expect(view.verification).to.deep.equal({ outcome: "passed", checkedAt: receivable.body.verification.checkedAt });

      const onChain = await requestOnChain(view.id);
      expect(onChain.status).to.equal(1n); // Open
      expect(onChain.holder).to.equal(supplier.address);
      expect(onChain.price).to.equal(95_000_000n);
      expect(await stateOf(certificateId)).to.equal(LOCKED);
      expect(await chain().financing.getFunction("activeRequestOf")(certificateId)).to.equal(BigInt(view.id));

      const row = await indexRow(view.id);
      expect(row).to.include({
        certificate_id: certificateId,
        holder: supplier.address,
        kind: "discount",
        price: "95000000",
        repay_amount: "0",
        status: "open",
        financier: null,
      });
      expect(row.opened_tx_hash).to.equal(view.txHashes.open);
      // The envelope: the request under `request` (the same as the deprecated top-level copy)
      // and the opening, then the service's risk attestation, in the order they were sent.
      const { request: enveloped, transactions, ...topLevel } = view;
      expect(enveloped).to.deep.equal(topLevel);
      expect(transactions.map((sent: { kind: string }) => sent.kind)).to.deep.equal([
        "openFinancing",
        "attestFinancing",
      ]);
      expect(transactions[0].hash).to.equal(row.opened_tx_hash);
      expect((await ctx().chain.provider.getTransactionReceipt(transactions[1].hash))!.status).to.equal(1);
      const certificate = await api.as(supplier.apiKey).get(`/v1/certificates/${certificateId}`);
      expect(certificate.body.state).to.equal("locked");
    });

    it("refuses a second request on the same certificate with 409 CERTIFICATE_LOCKED (no double pledge)", async function () {
      const { certificateId } = await openDiscount();
      const count = await requestCount();
      const again = await open(supplier, { certificateId, kind: "pledge", price: "50000000", repayAmount: "60000000" });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("CERTIFICATE_LOCKED");
      expect(again.body.error.details.certificateId).to.equal(certificateId);
      expect(await requestCount()).to.equal(count);
    });

    it("answers a retry with the same Idempotency-Key once, without a second request on-chain", async function () {
      const { certificateId } = await issueCertificate();
      const body = { certificateId, kind: "discount", price: "90000000" };
      const headers = { "idempotency-key": `open-${certificateId}` };
      const first = await open(supplier, body, headers);
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      const count = await requestCount();
      const replay = await open(supplier, body, headers);
      expect(replay.status).to.equal(201);
      expect(replay.headers.get("idempotent-replayed")).to.equal("true");
      expect(replay.body.id).to.equal(first.body.id);
      expect(await requestCount()).to.equal(count);
    });
  });

  describe("when the service opens a request after its credit checks (trust model)", function () {
    async function custodialWallet(party: TestParty): Promise<Wallet> {
      const row = await ctx()
        .db.selectFrom("parties")
        .select("encrypted_key")
        .where("id", "=", party.id)
        .executeTakeFirstOrThrow();
      return new Wallet(ctx().vault.decrypt(row.encrypted_key!), ctx().chain.provider);
    }

    it("attests it on-chain and shows face value, paid out so far and remaining claim", async function () {
      const { request } = await openDiscount("95000000");
      expect(request).to.include({ faceValue: FACE.toString(), paidOut: "0", remainingClaim: FACE.toString() });
      expect(request.attestation).to.include({ attested: true, advanceRateBps: 9_500 });
      expect(await chain().financing.getFunction("isAttested")(request.id)).to.equal(true);
      const onChain = await requestOnChain(request.id);
      expect(new Date(Number(onChain.attestedUntil) * 1000).toISOString()).to.equal(request.attestation.expiresAt);
      const listed = await api.as(financier.apiKey).get(`/v1/financing-requests/${request.id}`);
      expect(listed.body.attestation).to.deep.equal(request.attestation);
    });

    it("lists a request opened directly on the contract at 100% of face as unattested, and attested-only funding refuses it", async function () {
      const { certificateId } = await issueCertificate(supplier);
      const wallet = await custodialWallet(supplier);
      // Straight to the contract with the holder's key, past the API and its credit checks (sent
      // through the key's queue so the service's nonce tracking for this key stays right).
      const direct = await chain().financing.getFunction("openRequest").populateTransaction(certificateId, 0, FACE, 0n);
      const opened = await ctx().chain.senderFor(wallet).send(direct, { kind: "test.openDirect", ref: certificateId });
      await ctx().indexer.sync(opened.blockNumber);
      const requestId = (await requestCount()).toString();

      const shown = await api.as(financier.apiKey).get(`/v1/financing-requests/${requestId}`);
      expect(shown.status).to.equal(200);
      expect(shown.body).to.include({ price: FACE.toString(), remainingClaim: FACE.toString(), attestation: null });
      expect(await chain().financing.getFunction("isAttested")(requestId)).to.equal(false);

      const financierWallet = await custodialWallet(financier);
      const refused = await chain()
        .financing.connect(financierWallet)
        .fundAttested.staticCall(requestId, FACE, 0n, FACE)
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(decodeRevert(refused)?.code).to.equal("FINANCING_NOT_ATTESTED");
    });
  });

  describe("when the caller may not open a request", function () {
    it("refuses a financier that does not hold the certificate with 403", async function () {
      const { certificateId } = await issueCertificate();
      const response = await open(financier, { certificateId, kind: "discount", price: "90000000" });
      expect(response.status).to.equal(403);
      expect(response.body.error.code).to.equal("FORBIDDEN");
      // The refusal names no one: a party that may not read the certificate learns nothing of its holder.
      expect(response.body.error.details).to.deep.equal({});
      expect(response.body.error.message).to.equal(`party ${financier.id} does not hold certificate ${certificateId}`);
      expect(await stateOf(certificateId)).to.equal(LIVE);
    });

    it("answers 404 for a certificate that does not exist", async function () {
      const response = await open(supplier, { certificateId: "999999", kind: "discount", price: "1" });
      expect(response.status).to.equal(404);
      expect(response.body.error.code).to.equal("NOT_FOUND");
    });

    it("refuses a retired (split) certificate with 409 CERTIFICATE_RETIRED", async function () {
      const { certificateId } = await issueCertificate();
      const split = await api.as(supplier.apiKey).post(`/v1/certificates/${certificateId}/split`, {
        parts: [
          { toPartyId: otherSupplier.id, amount: "30000000" },
          { toPartyId: supplier.id, amount: "70000000" },
        ],
      });
      expect(split.status, JSON.stringify(split.body)).to.equal(200);
      const response = await open(supplier, { certificateId, kind: "discount", price: "50000000" });
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("CERTIFICATE_RETIRED");
      const child = split.body.children.find((c: { holderPartyId: string }) => c.holderPartyId === otherSupplier.id);
      const onChild = await open(otherSupplier, { certificateId: child.id, kind: "discount", price: "29000000" });
      expect(onChild.status, JSON.stringify(onChild.body)).to.equal(201);
      expect(onChild.body.tier).to.equal(2);
      expect(onChild.body.faceValue).to.equal("30000000");
    });

    it("tells a non-custodial holder to call the contract itself (409 NON_CUSTODIAL_PARTY)", async function () {
      const { certificateId } = await issueCertificate(nonCustodial);
      const response = await open(nonCustodial, { certificateId, kind: "discount", price: "90000000" });
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("NON_CUSTODIAL_PARTY");
      expect(response.body.error.details.financingMarket).to.equal(ctx().chain.deployment.addresses.financingMarket);
      expect(await stateOf(certificateId)).to.equal(LIVE);
    });
  });

  describe("when the terms are inconsistent", function () {
    let certificateId: string;
    before(async function () {
      ({ certificateId } = await issueCertificate());
    });
    const refused = async (body: Record<string, unknown>, fields: string[]) => {
      const count = await requestCount();
      const response = await open(supplier, { certificateId, ...body });
      expect(response.status, JSON.stringify(response.body)).to.equal(422);
      expect(response.body.error.code).to.equal("FINANCING_TERMS_INVALID");
      expect(response.body.error.details.fields).to.deep.equal(fields);
      expect(response.body.error.details.faceValue).to.equal(FACE.toString());
      expect(await requestCount()).to.equal(count);
      expect(await stateOf(certificateId)).to.equal(LIVE);
    };

    it("refuses a price above the face value", async function () {
      await refused({ kind: "discount", price: (FACE + 1n).toString() }, ["price"]);
    });
    it("refuses a repay amount on a discount", async function () {
      await refused({ kind: "discount", price: "90000000", repayAmount: "95000000" }, ["repayAmount"]);
    });
    it("refuses a pledge whose repay amount is below the price", async function () {
      await refused({ kind: "pledge", price: "90000000", repayAmount: "89999999" }, ["repayAmount"]);
    });
    it("refuses a pledge whose repay amount is above the face value", async function () {
      await refused({ kind: "pledge", price: "90000000", repayAmount: (FACE + 1n).toString() }, ["repayAmount"]);
    });
    it("refuses a pledge without a repay amount", async function () {
      await refused({ kind: "pledge", price: "90000000" }, ["repayAmount"]);
    });
    it("refuses malformed bodies with 400 naming each field", async function () {
      const zero = await open(supplier, { certificateId, kind: "discount", price: "0" });
      expect(zero.status).to.equal(400);
      expect(fieldPaths(zero.body)).to.deep.equal(["body.price"]);
      const strange = await open(supplier, { certificateId, kind: "loan", price: "1.5", status: "sold" });
      expect(strange.status).to.equal(400);
      expect(fieldPaths(strange.body)).to.have.members(["body.kind", "body.price", "body"]);
    });
  });

  describe("when parties browse the market", function () {
    let openRequest: any;
    let cancelledRequest: any;
    let soldRequest: any;
    before(async function () {
      openRequest = (await openDiscount("91000000")).request;
      cancelledRequest = (await openDiscount("92000000")).request;
      expect(
        (await api.as(supplier.apiKey).post(`/v1/financing-requests/${cancelledRequest.id}/cancel`)).status,
      ).to.equal(200);
      soldRequest = (await openDiscount("93000000")).request;
      expect((await api.as(financier.apiKey).post(`/v1/financing-requests/${soldRequest.id}/fund`)).status).to.equal(
        200,
      );
    });
    const ids = (body: any): string[] => body.requests.map((r: { id: string }) => r.id);

    it("lists only open requests for ?status=open, with their terms", async function () {
      const response = await api.as(financier2.apiKey).get("/v1/financing-requests?status=open");
      expect(response.status).to.equal(200);
      expect(response.body.requests.every((r: { status: string }) => r.status === "open")).to.equal(true);
      expect(ids(response.body)).to.include(openRequest.id);
      expect(ids(response.body)).not.to.include(cancelledRequest.id);
      expect(ids(response.body)).not.to.include(soldRequest.id);
      const listed = response.body.requests.find((r: { id: string }) => r.id === openRequest.id);
      expect(listed).to.deep.equal({ ...openRequest.request, tenorDays: listed.tenorDays });
      const numeric = ids(response.body).map(Number);
      expect(numeric).to.deep.equal([...numeric].sort((a, b) => a - b));
    });

    // Issue 18: a financier sees the open market and the requests it funded, not other financiers' deals.
    it("shows auditors every request, in every status; a financier the open ones and those it funded", async function () {
      const all = await api.as(auditor.apiKey).get("/v1/financing-requests");
      expect(ids(all.body)).to.include.members([openRequest.id, cancelledRequest.id, soldRequest.id]);
      const other = await api.as(financier2.apiKey).get("/v1/financing-requests");
      expect(ids(other.body)).to.include(openRequest.id);
      expect(ids(other.body)).not.to.include.members([cancelledRequest.id]);
      expect(ids(other.body)).not.to.include(soldRequest.id);
      const funder = await api.as(financier.apiKey).get("/v1/financing-requests");
      expect(ids(funder.body)).to.include.members([openRequest.id, soldRequest.id]);
      const sold = await api.as(auditor.apiKey).get("/v1/financing-requests?status=sold");
      expect(ids(sold.body)).to.include(soldRequest.id);
      expect(sold.body.requests.every((r: { status: string }) => r.status === "sold")).to.equal(true);
    });

    it("pages the book with a cursor: every request once, in the order they were opened", async function () {
      const all = (await api.as(auditor.apiKey).get("/v1/financing-requests")).body;
      expect(all.items).to.deep.equal(all.requests);
      expect(all.nextCursor).to.equal(null);
      const paged = await readAllPages<{ id: string }>(api.as(auditor.apiKey), "/v1/financing-requests", 2);
      expect(paged.items.map((r) => r.id)).to.deep.equal(ids(all));
      expect(paged.pages).to.equal(Math.max(1, Math.ceil(all.items.length / 2)));
      const open = await readAllPages<{ id: string; status: string }>(
        api.as(financier.apiKey),
        "/v1/financing-requests?status=open",
        1,
      );
      expect(open.items.map((r) => r.id)).to.include(openRequest.id);
      expect(open.items.every((r) => r.status === "open")).to.equal(true);
    });

    // Issue 18: a supplier's asks are for financiers, not for its competitors.
    it("shows another supplier none of the holder's requests, open or closed", async function () {
      const response = await api.as(otherSupplier.apiKey).get("/v1/financing-requests");
      expect(ids(response.body)).not.to.include(openRequest.id);
      expect(ids(response.body)).not.to.include(cancelledRequest.id);
      expect(ids(response.body)).not.to.include(soldRequest.id);
      for (const request of [soldRequest, openRequest]) {
        const one = await api.as(otherSupplier.apiKey).get(`/v1/financing-requests/${request.id}`);
        expect(one.status).to.equal(403);
        expect(one.body.error.code).to.equal("FORBIDDEN");
      }
    });

    it("shows the holder its own closed requests", async function () {
      const response = await api.as(supplier.apiKey).get("/v1/financing-requests");
      expect(ids(response.body)).to.include.members([openRequest.id, cancelledRequest.id, soldRequest.id]);
      const one = await api.as(supplier.apiKey).get(`/v1/financing-requests/${soldRequest.id}`);
      expect(one.status).to.equal(200);
      expect(one.body).to.include({
        status: "sold",
        financierPartyId: financier.id,
        financierAddress: financier.address,
      });
    });

    it("refuses an unknown status filter with 400", async function () {
      const response = await api.as(financier.apiKey).get("/v1/financing-requests?status=bogus");
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("VALIDATION_FAILED");
      expect(fieldPaths(response.body)).to.deep.equal(["query.status"]);
    });

    it("answers 404 for an unknown request and 400 for a malformed id", async function () {
      expect((await api.as(financier.apiKey).get("/v1/financing-requests/999999")).status).to.equal(404);
      const malformed = await api.as(financier.apiKey).get("/v1/financing-requests/abc");
      expect(malformed.status).to.equal(400);
      expect(fieldPaths(malformed.body)).to.deep.equal(["params.id"]);
    });

    it("refuses callers without an API key with 401", async function () {
      expect((await api.get("/v1/financing-requests")).status).to.equal(401);
    });
  });

  describe("when the holder cancels a request", function () {
    it("refuses anyone but the holder with 403 and leaves the request open", async function () {
      const { request, certificateId } = await openDiscount();
      const response = await api.as(financier.apiKey).post(`/v1/financing-requests/${request.id}/cancel`);
      expect(response.status).to.equal(403);
      expect(response.body.error.code).to.equal("FORBIDDEN");
      expect(response.body.error.details).to.deep.equal({});
      expect((await requestOnChain(request.id)).status).to.equal(1n);
      expect(await stateOf(certificateId)).to.equal(LOCKED);
    });

    it("cancels on-chain and unlocks the certificate; a second cancel or a funding is refused with 409", async function () {
      const { request, certificateId } = await openDiscount();
      const response = await api.as(supplier.apiKey).post(`/v1/financing-requests/${request.id}/cancel`);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.request.status).to.equal("cancelled");
      expect(response.body.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.transactions).to.deep.equal([{ kind: "cancelFinancing", hash: response.body.txHash }]);
      expect((await requestOnChain(request.id)).status).to.equal(2n); // Cancelled
      expect(await stateOf(certificateId)).to.equal(LIVE);
      expect((await indexRow(request.id)).status).to.equal("cancelled");
      expect((await api.as(supplier.apiKey).get(`/v1/certificates/${certificateId}`)).body.state).to.equal("live");

      const again = await api.as(supplier.apiKey).post(`/v1/financing-requests/${request.id}/cancel`);
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("FINANCING_WRONG_STATUS");
      expect(again.body.error.details).to.deep.equal({ requestId: request.id, status: "cancelled" });

      const before = await balanceOf(financier.address);
      const fund = await api.as(financier.apiKey).post(`/v1/financing-requests/${request.id}/fund`);
      expect(fund.status).to.equal(409);
      expect(fund.body.error.code).to.equal("FINANCING_WRONG_STATUS");
      expect(await balanceOf(financier.address)).to.equal(before);

      const reopened = await open(supplier, { certificateId, kind: "discount", price: "90000000" });
      expect(reopened.status, JSON.stringify(reopened.body)).to.equal(201);
      expect(reopened.body.id).not.to.equal(request.id);
    });
  });

  describe("when a financier funds a discount request", function () {
    it("pays the holder exactly the price and takes the certificate, in one transaction", async function () {
      const { request, certificateId } = await openDiscount("95500000");
      const holderBefore = await balanceOf(supplier.address);
      const financierBefore = await balanceOf(financier.address);
      const response = await api.as(financier.apiKey).post(`/v1/financing-requests/${request.id}/fund`);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.txHashes.approve).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.txHashes.fund).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.request).to.include({
        status: "sold",
        financierPartyId: financier.id,
        financierAddress: financier.address,
      });
      expect(response.body.request.txHashes.fund).to.equal(response.body.txHashes.fund);
      const financierName = (await api.as(financier.apiKey).get("/v1/me")).body.name;
      expect(response.body.request.financier).to.deep.equal({
        address: financier.address,
        partyId: financier.id,
        name: financierName,
      });
      expect(response.body.request.holder).to.include({ address: supplier.address, partyId: supplier.id });
      expect(response.body.transactions).to.deep.equal([
        { kind: "approveFinancing", hash: response.body.txHashes.approve },
        { kind: "fundFinancing", hash: response.body.txHashes.fund },
      ]);

      expect(await balanceOf(supplier.address)).to.equal(holderBefore + 95_500_000n);
      expect(await balanceOf(financier.address)).to.equal(financierBefore - 95_500_000n);
      expect(await ownerOf(certificateId)).to.equal(financier.address);
      expect(await stateOf(certificateId)).to.equal(LIVE);
      const market = ctx().chain.deployment.addresses.financingMarket;
      expect(await chain().token.getFunction("allowance")(financier.address, market)).to.equal(0n);
      const onChain = await requestOnChain(request.id);
      expect(onChain.status).to.equal(SOLD);
      expect(onChain.financier).to.equal(financier.address);

      const row = await indexRow(request.id);
      expect(row).to.include({
        status: "sold",
        financier: financier.address,
        funded_tx_hash: response.body.txHashes.fund,
      });
      const certificate = await api.as(financier.apiKey).get(`/v1/certificates/${certificateId}`);
      expect(certificate.body).to.include({ holderPartyId: financier.id, state: "live" });
    });

    it("funds two requests at once for one financier, each approval spent by its own funding", async function () {
      const [a, b] = [await openDiscount("96000000"), await openDiscount("97000000")];
      const before = await balanceOf(financier.address);
      const [ra, rb] = await Promise.all([
        api.as(financier.apiKey).post(`/v1/financing-requests/${a.request.id}/fund`),
        api.as(financier.apiKey).post(`/v1/financing-requests/${b.request.id}/fund`),
      ]);
      expect([ra.status, rb.status], JSON.stringify([ra.body, rb.body])).to.deep.equal([200, 200]);
      expect(await balanceOf(financier.address)).to.equal(before - 96_000_000n - 97_000_000n);
      expect([await ownerOf(a.certificateId), await ownerOf(b.certificateId)]).to.deep.equal([
        financier.address,
        financier.address,
      ]);
    });

    it("answers a retry with the same Idempotency-Key with the first answer, paying once", async function () {
      const { request } = await openDiscount("94000000");
      const headers = { "idempotency-key": `fund-${request.id}` };
      const first = await api.as(financier2.apiKey).post(`/v1/financing-requests/${request.id}/fund`, {}, headers);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      const balance = await balanceOf(financier2.address);
      const replay = await api.as(financier2.apiKey).post(`/v1/financing-requests/${request.id}/fund`, {}, headers);
      expect(replay.status).to.equal(200);
      expect(replay.headers.get("idempotent-replayed")).to.equal("true");
      expect(replay.body.txHashes).to.deep.equal(first.body.txHashes);
      expect(await balanceOf(financier2.address)).to.equal(balance);

      const fresh = await api.as(financier2.apiKey).post(`/v1/financing-requests/${request.id}/fund`);
      expect(fresh.status).to.equal(409);
      expect(fresh.body.error.code).to.equal("FINANCING_WRONG_STATUS");
      expect(fresh.body.error.details.status).to.equal("sold");
    });
  });

  describe("when a financier funds a pledge request", function () {
    it("pays the holder the price, records the pledge and keeps the certificate with the holder, locked", async function () {
      const { certificateId } = await issueCertificate();
      const opened = await open(supplier, {
        certificateId,
        kind: "pledge",
        price: "80000000",
        repayAmount: "88000000",
      });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
      expect(opened.body).to.include({ kind: "pledge", price: "80000000", repayAmount: "88000000" });
      const holderBefore = await balanceOf(supplier.address);

      const response = await api.as(financier2.apiKey).post(`/v1/financing-requests/${opened.body.id}/fund`);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.request).to.include({
        status: "pledged",
        outstanding: "88000000",
        financierPartyId: financier2.id,
      });

      expect(await balanceOf(supplier.address)).to.equal(holderBefore + 80_000_000n);
      expect(await ownerOf(certificateId)).to.equal(supplier.address);
      expect(await stateOf(certificateId)).to.equal(LOCKED);
      const [pledgeRequest, pledgee, outstanding] = await chain().financing.getFunction("pledgeOf")(certificateId);
      expect([pledgeRequest, pledgee, outstanding]).to.deep.equal([
        BigInt(opened.body.id),
        financier2.address,
        88_000_000n,
      ]);
      expect((await requestOnChain(opened.body.id)).status).to.equal(PLEDGED);
      const row = await indexRow(opened.body.id);
      expect(row).to.include({
        status: "pledged",
        financier: financier2.address,
        outstanding: "88000000",
        kind: "pledge",
      });
      const certificate = await api.as(supplier.apiKey).get(`/v1/certificates/${certificateId}`);
      expect(certificate.body).to.include({ holderPartyId: supplier.id, state: "locked" });

      const again = await open(supplier, { certificateId, kind: "discount", price: "10000000" });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("CERTIFICATE_LOCKED");
    });
  });

  describe("when the caller may not fund", function () {
    it("refuses a supplier with 403", async function () {
      const { request } = await openDiscount();
      const response = await api.as(otherSupplier.apiKey).post(`/v1/financing-requests/${request.id}/fund`);
      expect(response.status).to.equal(403);
      expect(response.body.error.code).to.equal("FORBIDDEN");
      expect(response.body.error.details.required).to.deep.equal(["financier"]);
      expect((await requestOnChain(request.id)).status).to.equal(1n);
    });

    it("refuses the holder funding its own request with 409 FINANCING_SELF_FUNDING", async function () {
      const { request, certificateId } = await openDiscount("90000000", supplierFinancier);
      const before = await balanceOf(supplierFinancier.address);
      const response = await api.as(supplierFinancier.apiKey).post(`/v1/financing-requests/${request.id}/fund`);
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("FINANCING_SELF_FUNDING");
      expect(response.body.error.details.requestId).to.equal(request.id);
      expect(await balanceOf(supplierFinancier.address)).to.equal(before);
      expect(await ownerOf(certificateId)).to.equal(supplierFinancier.address);

      // The service's early refusal is the contract's own: FinancingSelfFunding maps to the same code.
      const row = await ctx()
        .db.selectFrom("parties")
        .select("encrypted_key")
        .where("id", "=", supplierFinancier.id)
        .executeTakeFirstOrThrow();
      const wallet = new Wallet(ctx().vault.decrypt(row.encrypted_key!), ctx().chain.provider);
      const reverted = await chain()
        .financing.connect(wallet)
        .fund.staticCall(request.id, 90_000_000n, 0n, BigInt(request.remainingClaim))
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      const mapped = decodeRevert(reverted);
      expect(mapped?.code).to.equal("FINANCING_SELF_FUNDING");
      expect(mapped?.status).to.equal(409);
      expect(mapped?.details).to.deep.equal({ contractError: "FinancingSelfFunding", requestId: request.id });
    });

    it("refuses a financier without enough of the settlement token with 409, sending nothing", async function () {
      const { request } = await openDiscount();
      const nonce = await ctx().chain.provider.getTransactionCount(brokeFinancier.address);
      const response = await api.as(brokeFinancier.apiKey).post(`/v1/financing-requests/${request.id}/fund`);
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("ERC20_INSUFFICIENT_BALANCE");
      expect(response.body.error.details).to.deep.equal({ balance: "0", needed: "95000000" });
      expect(await ctx().chain.provider.getTransactionCount(brokeFinancier.address)).to.equal(nonce);
    });

    it("answers 404 for a request that does not exist", async function () {
      const response = await api.as(financier.apiKey).post("/v1/financing-requests/999999/fund");
      expect(response.status).to.equal(404);
    });
  });
});
