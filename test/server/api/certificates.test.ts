// GET /v1/certificates/:id, POST /v1/certificates/:id/split and /transfer, and
// GET /v1/parties/:id/certificates through HTTP: who may see and move a certificate,
// and every refusal with its stable code.
import { expect } from "chai";
import { Wallet } from "ethers";
import { asGovernor, startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { readAllPages } from "../pages.js";

describe("API: reading, splitting and transferring certificates", function () {
  this.timeout(60_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let supplier: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;
  let selfCustodied: TestParty;
  let auditor: TestParty;
  let outsider: TestParty;

  // The tree built in before(): root (supplier, 100) split into child60 (tier2) and child40 (supplier).
  let receivableId: string;
  let rootId: string;
  let child60: string;
  let child40: string;

  const ownerOf = async (id: string): Promise<string> =>
    t.service.ctx.chain.contracts.certificates.getFunction("ownerOf")(id);
  const holdingsOf = async (party: TestParty, key = party.apiKey) => {
    const response = await api.as(key).get(`/v1/parties/${party.id}/certificates`);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body.certificates as Array<{ id: string; faceValue: string; state: string; holderPartyId: string }>;
  };
  const register = async (seller: TestParty): Promise<{ receivableId: string; certificateId: string }> => {
    const submitted = await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    return { receivableId: submitted.body.id, certificateId: confirmed.body.certificateId };
  };
  const split = (party: TestParty, id: string, parts: Array<{ toPartyId: string; amount: string }>) =>
    api.as(party.apiKey).post(`/v1/certificates/${id}/split`, { parts });
  const transfer = (party: TestParty, id: string, toPartyId: string) =>
    api.as(party.apiKey).post(`/v1/certificates/${id}/transfer`, { toPartyId });
  const expectError = (response: { status: number; body: any }, status: number, code: string) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(status);
    expect(response.body.error.code).to.equal(code);
  };

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    selfCustodied = await createTestParty(operator, ["supplier"], { address: Wallet.createRandom().address });
    auditor = await createTestParty(operator, ["auditor"]);
    outsider = await createTestParty(operator, ["supplier"]);

    ({ receivableId, certificateId: rootId } = await register(supplier));
    const response = await split(supplier, rootId, [
      { toPartyId: tier2.id, amount: "60000000" },
      { toPartyId: supplier.id, amount: "40000000" },
    ]);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    [child60, child40] = response.body.children.map((c: { id: string }) => c.id);
    // The envelope names the one split transaction, the one that issued both children.
    expect(response.body.transactions).to.deep.equal([{ kind: "split", hash: response.body.txHash }]);
    expect(response.body.children.map((c: { issuedTxHash: string }) => c.issuedTxHash)).to.deep.equal([
      response.body.txHash,
      response.body.txHash,
    ]);
  });
  after(async function () {
    await t?.close();
  });

  describe("when a certificate is read", function () {
    it("shows the holder its certificate as the index and the chain know it", async function () {
      const response = await api.as(tier2.apiKey).get(`/v1/certificates/${child60}`);
      expect(response.status).to.equal(200);
      expect(response.body).to.include({
        id: child60,
        receivableId,
        parentId: rootId,
        holderAddress: tier2.address,
        holderPartyId: tier2.id,
        faceValue: "60000000",
        tier: 2,
        state: "live",
      });
      expect(response.body.issuedTxHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.dueDate).to.be.a("string");
      expect(await ownerOf(child60)).to.equal(tier2.address);
    });

    it("shows it to the seller and the debtor of its receivable, the operator and an auditor", async function () {
      for (const key of [supplier.apiKey, debtor.apiKey, t.operatorKey, auditor.apiKey]) {
        const response = await api.as(key).get(`/v1/certificates/${child60}`);
        expect(response.status).to.equal(200);
        expect(response.body.id).to.equal(child60);
      }
      const root = await api.as(debtor.apiKey).get(`/v1/certificates/${rootId}`);
      expect(root.body).to.include({ state: "retired", tier: 1, faceValue: "100000000", parentId: null });
    });

    it("refuses an unrelated party with FORBIDDEN", async function () {
      expectError(await api.as(outsider.apiKey).get(`/v1/certificates/${child60}`), 403, "FORBIDDEN");
      // A holder of one branch sees its own piece, not its sibling.
      expectError(await api.as(tier2.apiKey).get(`/v1/certificates/${child40}`), 403, "FORBIDDEN");
    });

    it("answers 404 NOT_FOUND for an unknown id and 400 VALIDATION_FAILED for a malformed one", async function () {
      const unknown = await api.as(supplier.apiKey).get("/v1/certificates/999999");
      expectError(unknown, 404, "NOT_FOUND");
      expect(unknown.body.error.details.certificate).to.equal("999999");
      for (const id of ["abc", "0", "-1", "1.5", "0x10", "1".repeat(22)]) {
        const response = await api.as(supplier.apiKey).get(`/v1/certificates/${id}`);
        expectError(response, 400, "VALIDATION_FAILED");
        expect(response.body.error.details.fields[0].path).to.equal("params.id");
      }
    });
  });

  describe("when a certificate is split", function () {
    it("refuses parts that do not add up to the face value with SPLIT_AMOUNT_MISMATCH", async function () {
      const response = await split(supplier, child40, [
        { toPartyId: tier2.id, amount: "10000000" },
        { toPartyId: supplier.id, amount: "20000000" },
      ]);
      expectError(response, 422, "SPLIT_AMOUNT_MISMATCH");
      expect(response.body.error.details).to.include({ faceValue: "40000000", sum: "30000000" });
      expect(await ownerOf(child40)).to.equal(supplier.address);
    });

    it("refuses an unknown recipient with UNKNOWN_PARTY naming the part", async function () {
      const response = await split(supplier, child40, [
        { toPartyId: tier2.id, amount: "10000000" },
        { toPartyId: "pty_nobody", amount: "30000000" },
      ]);
      expectError(response, 422, "UNKNOWN_PARTY");
      expect(response.body.error.details.fields).to.deep.equal(["parts[1].toPartyId"]);
    });

    it("refuses a party that does not hold the certificate with FORBIDDEN", async function () {
      for (const party of [tier2, outsider, debtor]) {
        const response = await split(party, child40, [{ toPartyId: party.id, amount: "40000000" }]);
        expectError(response, 403, "FORBIDDEN");
      }
      expect(await ownerOf(child40)).to.equal(supplier.address);
    });

    it("names neither the holder nor the certificate's state to a party that does not hold it", async function () {
      // An outsider may not read these certificates: a refused split or transfer must not tell it
      // who holds them (the live child40) or that they were split (the retired root).
      for (const id of [child40, rootId]) {
        const responses = [
          await split(outsider, id, [{ toPartyId: outsider.id, amount: "100000000" }]),
          await transfer(outsider, id, outsider.id),
        ];
        for (const response of responses) {
          expectError(response, 403, "FORBIDDEN");
          expect(response.body.error.details).to.deep.equal({});
          expect(response.body.error.message).to.equal(`party ${outsider.id} does not hold certificate ${id}`);
        }
      }
    });

    it("refuses a retired certificate with CERTIFICATE_RETIRED", async function () {
      expectError(
        await split(supplier, rootId, [{ toPartyId: tier2.id, amount: "100000000" }]),
        409,
        "CERTIFICATE_RETIRED",
      );
      expectError(await transfer(supplier, rootId, tier2.id), 409, "CERTIFICATE_RETIRED");
    });

    it("refuses malformed parts with VALIDATION_FAILED", async function () {
      const cases: Array<[unknown, string]> = [
        [{ parts: [] }, "body.parts"],
        [{ parts: [{ toPartyId: tier2.id, amount: "0" }] }, "body.parts.0.amount"],
        [{ parts: [{ toPartyId: tier2.id, amount: "-40000000" }] }, "body.parts.0.amount"],
        [{ parts: [{ toPartyId: tier2.id, amount: 40000000 }] }, "body.parts.0.amount"],
        [{ parts: [{ toPartyId: tier2.id, amount: "40000000", tier: 1 }] }, "body.parts.0"],
      ];
      for (const [body, path] of cases) {
        const response = await api.as(supplier.apiKey).post(`/v1/certificates/${child40}/split`, body);
        expectError(response, 400, "VALIDATION_FAILED");
        expect(response.body.error.details.fields.map((f: { path: string }) => f.path)).to.include(path);
      }
    });

    it("maps the contract's tier policy refusal to SPLIT_PIECE_TOO_SMALL when the operator raises the minimum piece", async function () {
      const { certificates } = t.service.ctx.chain.contracts;
      const [maxTier, minPiece, maxParts] = await certificates.getFunction("tierPolicy")();
      // An admin action: the governor goes through the timelock (the service holds no admin key).
      await asGovernor(t, certificates, "setTierPolicy", [maxTier, 20_000_000n, maxParts]);
      try {
        const response = await split(supplier, child40, [
          { toPartyId: tier2.id, amount: "10000000" },
          { toPartyId: supplier.id, amount: "30000000" },
        ]);
        expectError(response, 422, "SPLIT_PIECE_TOO_SMALL");
        expect(response.body.error.details).to.include({
          contractError: "SplitPieceTooSmall",
          amount: "10000000",
          minPieceSize: "20000000",
        });
      } finally {
        await asGovernor(t, certificates, "setTierPolicy", [maxTier, minPiece, maxParts]);
      }
      expect(await ownerOf(child40)).to.equal(supplier.address);
    });
  });

  describe("when a certificate is transferred", function () {
    it("moves it to the other party on-chain and in both parties' holdings", async function () {
      const { certificateId } = await register(supplier);
      expect((await holdingsOf(supplier)).map((c) => c.id)).to.include(certificateId);
      const response = await transfer(supplier, certificateId, tier2.id);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.certificate).to.include({
        id: certificateId,
        holderPartyId: tier2.id,
        holderAddress: tier2.address,
        state: "live",
        tier: 1,
      });
      expect(response.body.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.transactions).to.deep.equal([{ kind: "transfer", hash: response.body.txHash }]);
      expect(response.body.certificate.holder).to.deep.equal({
        address: tier2.address,
        partyId: tier2.id,
        name: (await api.as(tier2.apiKey).get("/v1/me")).body.name,
      });
      expect(await ownerOf(certificateId)).to.equal(tier2.address);
      expect((await holdingsOf(supplier)).map((c) => c.id)).not.to.include(certificateId);
      expect((await holdingsOf(tier2)).map((c) => c.id)).to.include(certificateId);
      // The former holder, the seller, still sees it as party to the receivable.
      expect((await api.as(supplier.apiKey).get(`/v1/certificates/${certificateId}`)).status).to.equal(200);
    });

    it("refuses a transfer to the holder itself with TRANSFER_TO_SELF", async function () {
      const response = await transfer(tier2, child60, tier2.id);
      expectError(response, 422, "TRANSFER_TO_SELF");
      expect(response.body.error.details.fields).to.deep.equal(["toPartyId"]);
    });

    it("refuses a party that does not hold it with FORBIDDEN, and an unknown recipient with UNKNOWN_PARTY", async function () {
      expectError(await transfer(supplier, child60, outsider.id), 403, "FORBIDDEN");
      expectError(await transfer(outsider, child60, outsider.id), 403, "FORBIDDEN");
      expectError(await transfer(tier2, child60, "pty_nobody"), 422, "UNKNOWN_PARTY");
      expect(await ownerOf(child60)).to.equal(tier2.address);
    });

    it("refuses a non-custodial holder with NON_CUSTODIAL_PARTY, naming the contract to call", async function () {
      const { certificateId } = await register(supplier);
      expect((await transfer(supplier, certificateId, selfCustodied.id)).status).to.equal(200);
      expect(await ownerOf(certificateId)).to.equal(selfCustodied.address);
      const moved = await transfer(selfCustodied, certificateId, supplier.id);
      expectError(moved, 409, "NON_CUSTODIAL_PARTY");
      expect(moved.body.error.details.certificateToken).to.equal(
        t.service.ctx.chain.deployment.addresses.certificateToken,
      );
      expectError(
        await split(selfCustodied, certificateId, [{ toPartyId: supplier.id, amount: "100000000" }]),
        409,
        "NON_CUSTODIAL_PARTY",
      );
      expect(await ownerOf(certificateId)).to.equal(selfCustodied.address);
    });
  });

  describe("when the certificate is locked in a financing request", function () {
    let lockedId: string;

    before(async function () {
      ({ certificateId: lockedId } = await register(supplier));
      // The holder opens a discount request itself (its custodial key, through the service's queue for it).
      const row = await t.service.ctx.db
        .selectFrom("parties")
        .select("encrypted_key")
        .where("id", "=", supplier.id)
        .executeTakeFirstOrThrow();
      const wallet = new Wallet(t.service.ctx.vault.decrypt(row.encrypted_key!));
      const { financing } = t.service.ctx.chain.contracts;
      const request = await financing.getFunction("openRequest").populateTransaction(lockedId, 0, 90_000_000n, 0n);
      await t.service.ctx.chain.senderFor(wallet).send(request, { kind: "test", ref: lockedId });
      await t.service.ctx.indexer.sync();
    });

    it("shows it as locked, still among the holder's certificates", async function () {
      const response = await api.as(supplier.apiKey).get(`/v1/certificates/${lockedId}`);
      expect(response.body.state).to.equal("locked");
      const held = (await holdingsOf(supplier)).find((c) => c.id === lockedId);
      expect(held?.state).to.equal("locked");
    });

    it("refuses to split or transfer it with CERTIFICATE_LOCKED and sends nothing", async function () {
      const block = await t.service.ctx.chain.provider.getBlockNumber();
      expectError(
        await split(supplier, lockedId, [{ toPartyId: tier2.id, amount: "100000000" }]),
        409,
        "CERTIFICATE_LOCKED",
      );
      expectError(await transfer(supplier, lockedId, tier2.id), 409, "CERTIFICATE_LOCKED");
      // Anyone else hears only that it does not hold the certificate, not that it is locked.
      expectError(await transfer(outsider, lockedId, outsider.id), 403, "FORBIDDEN");
      expect(await t.service.ctx.chain.provider.getBlockNumber()).to.equal(block);
      expect(await ownerOf(lockedId)).to.equal(supplier.address);
      const state = (await t.service.ctx.chain.contracts.certificates.getFunction("certificateOf")(lockedId)).state;
      expect(Number(state)).to.equal(2); // CertificateState.Locked, on the chain too
    });

    it("answers CERTIFICATE_LOCKED from the contract's revert when the index has not seen the lock yet", async function () {
      const db = t.service.ctx.db;
      // An index that lags behind the chain: it still believes the certificate is live.
      await db.updateTable("onchain_certificates").set({ state: "live" }).where("id", "=", lockedId).execute();
      try {
        const splitResponse = await split(supplier, lockedId, [{ toPartyId: tier2.id, amount: "100000000" }]);
        expectError(splitResponse, 409, "CERTIFICATE_LOCKED");
        expect(splitResponse.body.error.details).to.deep.equal({
          contractError: "CertificateLocked",
          certificateId: lockedId,
        });
        const transferResponse = await transfer(supplier, lockedId, tier2.id);
        expectError(transferResponse, 409, "CERTIFICATE_LOCKED");
        expect(transferResponse.body.error.details.contractError).to.equal("CertificateLocked");
      } finally {
        await db.updateTable("onchain_certificates").set({ state: "locked" }).where("id", "=", lockedId).execute();
      }
      expect(await ownerOf(lockedId)).to.equal(supplier.address);
    });
  });

  describe("when a party's holdings are listed", function () {
    it("lists the party's own live and locked certificates, not retired ones", async function () {
      const mine = await holdingsOf(supplier);
      const ids = mine.map((c) => c.id);
      expect(ids).to.include(child40);
      expect(ids).not.to.include(rootId);
      expect(
        mine.every((c) => c.holderPartyId === supplier.id && (c.state === "live" || c.state === "locked")),
      ).to.equal(true);
    });

    it("lists them for the operator and an auditor too", async function () {
      const own = await holdingsOf(tier2);
      expect(await holdingsOf(tier2, t.operatorKey)).to.deep.equal(own);
      expect(await holdingsOf(tier2, auditor.apiKey)).to.deep.equal(own);
      expect(own.map((c) => c.id)).to.include(child60);
    });

    it("pages them with a cursor: one at a time, the same certificates in the same order", async function () {
      const all = await holdingsOf(supplier);
      expect(all.length).to.be.at.least(2);
      const paged = await readAllPages<{ id: string }>(
        api.as(supplier.apiKey),
        `/v1/parties/${supplier.id}/certificates`,
        1,
      );
      expect(paged.items.map((c) => c.id)).to.deep.equal(all.map((c) => c.id));
      expect(paged.pages).to.equal(all.length);
      expectError(
        await api.as(supplier.apiKey).get(`/v1/parties/${supplier.id}/certificates?cursor=WyJub3QiXQ`),
        400,
        "INVALID_CURSOR",
      );
    });

    it("refuses another party with FORBIDDEN and answers 404 for an unknown party", async function () {
      expectError(await api.as(outsider.apiKey).get(`/v1/parties/${tier2.id}/certificates`), 403, "FORBIDDEN");
      expectError(await api.as(debtor.apiKey).get(`/v1/parties/${supplier.id}/certificates`), 403, "FORBIDDEN");
      expectError(await operator.get("/v1/parties/pty_nobody/certificates"), 404, "NOT_FOUND");
    });
  });
});
