// POST /v1/parties and GET /v1/parties/:id through HTTP: who may register a party, what
// is refused and why, what is written on-chain, and what a profile never shows.
import { expect } from "chai";
import { Wallet, getAddress } from "ethers";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import { normaliseRegistryId } from "../../../server/model/parties-schema.js";
import { hashText } from "../../../server/model/receivable-schema.js";

let seq = 0;
const uniq = () => `${Date.now().toString(36)}${(++seq).toString(36)}`.toUpperCase();
const newPartyBody = (extra: Record<string, unknown> = {}) => ({
  name: `Acme ${uniq()}`,
  registryId: `REG${uniq()}`,
  industry: "manufacturing",
  roles: ["supplier"],
  ...extra,
});
const fieldPaths = (body: any): string[] => body.error.details.fields.map((f: { path: string }) => f.path);

describe("API: registering and reading parties", function () {
  this.timeout(60_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let supplier: TestParty;
  let auditor: TestParty;

  const partyRows = async () => (await t.service.ctx.db.selectFrom("parties").select("id").execute()).length;
  const isActiveOnChain = async (address: string): Promise<boolean> =>
    t.service.ctx.chain.contracts.parties.getFunction("isActive")(address);

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    auditor = await createTestParty(operator, ["auditor"]);
  });
  after(async function () {
    await t?.close();
  });

  describe("when the operator registers a party without an address", function () {
    it("creates a custodial party, returns its API key once and registers it on-chain", async function () {
      const body = newPartyBody({ roles: ["supplier", "debtor"] });
      const created = await operator.post("/v1/parties", body);
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.id).to.match(/^pty_/);
      expect(created.body.name).to.equal(body.name);
      expect(created.body.registryId).to.equal(body.registryId);
      expect(created.body.roles).to.deep.equal(["supplier", "debtor"]);
      expect(created.body.custodial).to.equal(true);
      expect(created.body.status).to.equal("active");
      expect(created.body.relatedPartyIds).to.deep.equal([]);
      expect(created.body.address).to.equal(getAddress(created.body.address));
      expect(created.body.apiKey).to.match(/^tl_/);
      expect(await isActiveOnChain(created.body.address)).to.equal(true);

      const row = await t.service.ctx.db
        .selectFrom("parties")
        .selectAll()
        .where("id", "=", created.body.id)
        .executeTakeFirstOrThrow();
      expect(row.custodial).to.equal(1);
      expect(row.encrypted_key).to.be.a("string");
      // The stored key is encrypted, and it is the key of the party's address.
      expect(row.encrypted_key).not.to.match(/^0x[0-9a-f]{64}$/);
      expect(new Wallet(t.service.ctx.vault.decrypt(row.encrypted_key!)).address).to.equal(created.body.address);
      // Only a hash of the API key is kept.
      expect(row.api_key_hash).not.to.equal(created.body.apiKey);

      // The key works, and the profile read with it shows no key material.
      const read = await api.as(created.body.apiKey).get(`/v1/parties/${created.body.id}`);
      expect(read.status).to.equal(200);
      expect(read.body.id).to.equal(created.body.id);
      expect(read.body).not.to.have.property("apiKey");
    });
  });

  describe("when the operator registers a party with its own address", function () {
    it("creates a non-custodial party at that address, registered on-chain, with no stored key", async function () {
      const wallet = Wallet.createRandom();
      const created = await operator.post(
        "/v1/parties",
        newPartyBody({ roles: ["debtor"], address: wallet.address.toLowerCase() }),
      );
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.address).to.equal(wallet.address);
      expect(created.body.custodial).to.equal(false);
      expect(await isActiveOnChain(wallet.address)).to.equal(true);
      const row = await t.service.ctx.db
        .selectFrom("parties")
        .selectAll()
        .where("id", "=", created.body.id)
        .executeTakeFirstOrThrow();
      expect(row.encrypted_key).to.equal(null);
    });

    it("refuses an address another party uses, in any letter case, with ADDRESS_IN_USE", async function () {
      const wallet = Wallet.createRandom();
      const first = await operator.post("/v1/parties", newPartyBody({ address: wallet.address }));
      expect(first.status).to.equal(201);
      const before = await partyRows();
      const again = await operator.post("/v1/parties", newPartyBody({ address: wallet.address.toLowerCase() }));
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("ADDRESS_IN_USE");
      expect(again.body.error.details.partyId).to.equal(first.body.id);
      // A custodial party's generated address is taken too.
      const taken = await operator.post("/v1/parties", newPartyBody({ address: supplier.address }));
      expect(taken.status).to.equal(409);
      expect(taken.body.error.code).to.equal("ADDRESS_IN_USE");
      expect(taken.body.error.details.partyId).to.equal(supplier.id);
      expect(await partyRows()).to.equal(before);
    });
  });

  describe("when the registry id is taken", function () {
    it("refuses the same registry id, and its variants in case, spaces and punctuation, with PARTY_ALREADY_EXISTS", async function () {
      const registryId = `ab-${uniq()} 77`.toLowerCase();
      const first = await operator.post("/v1/parties", newPartyBody({ registryId }));
      expect(first.status).to.equal(201);
      const before = await partyRows();
      for (const variant of [
        registryId,
        registryId.toUpperCase(),
        registryId.replace(/[-\s]/g, "").toUpperCase(),
        registryId.replace("-", ".").replace(" ", "/"),
      ]) {
        const again = await operator.post("/v1/parties", newPartyBody({ registryId: variant }));
        expect(again.status, variant).to.equal(409);
        expect(again.body.error.code).to.equal("PARTY_ALREADY_EXISTS");
        expect(again.body.error.details.partyId).to.equal(first.body.id);
      }
      expect(await partyRows()).to.equal(before);
    });
  });

  describe("when the company already has an address on the shared party registry", function () {
    it("refuses with PARTY_ALIAS_CONSENT_REQUIRED before storing anything, and adds no address on-chain", async function () {
      // Another platform sharing the registry onboarded the company first (its party manager is
      // played here by this service's key): a second address now needs that address's consent.
      const registryId = `OTHER${uniq()}`;
      const legalIdHash = hashText(normaliseRegistryId(registryId));
      const { parties } = t.service.ctx.chain.contracts;
      const theirs = Wallet.createRandom().address;
      await t.service.ctx.chain.partyManager.send(
        await parties.registerParty.populateTransaction(theirs, legalIdHash, true),
        {
          kind: "registerParty",
          ref: "another platform",
        },
      );
      const before = await partyRows();

      for (const body of [
        newPartyBody({ registryId }),
        newPartyBody({ registryId, address: Wallet.createRandom().address }),
      ]) {
        const refused = await operator.post("/v1/parties", body);
        expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
        expect(refused.body.error.code).to.equal("PARTY_ALIAS_CONSENT_REQUIRED");
        expect(refused.body.error.details).to.deep.equal({ legalIdHash, addressesOnChain: "1" });
      }
      expect(await partyRows()).to.equal(before);
      expect(await parties.addressCountOf(legalIdHash)).to.equal(1n);
    });
  });

  describe("when two registrations of one company arrive at the same time", function () {
    it("registers one party and refuses the other with PARTY_ALREADY_EXISTS", async function () {
      const registryId = `RACE${uniq()}`;
      const before = await partyRows();
      const responses = await Promise.all([
        operator.post("/v1/parties", newPartyBody({ registryId })),
        operator.post("/v1/parties", newPartyBody({ registryId })),
      ]);
      expect(responses.map((r) => r.status).sort(), JSON.stringify(responses.map((r) => r.body))).to.deep.equal([
        201, 409,
      ]);
      expect(responses.find((r) => r.status === 409)!.body.error.code).to.equal("PARTY_ALREADY_EXISTS");
      expect(await partyRows()).to.equal(before + 1);
    });

    it("gives one address to one party only", async function () {
      const wallet = Wallet.createRandom();
      const responses = await Promise.all([
        operator.post("/v1/parties", newPartyBody({ address: wallet.address })),
        operator.post("/v1/parties", newPartyBody({ address: wallet.address })),
      ]);
      expect(responses.map((r) => r.status).sort(), JSON.stringify(responses.map((r) => r.body))).to.deep.equal([
        201, 409,
      ]);
      expect(responses.find((r) => r.status === 409)!.body.error.code).to.equal("ADDRESS_IN_USE");
    });
  });

  describe("when the body is not valid", function () {
    const cases: Array<[string, (b: Record<string, unknown>) => Record<string, unknown>, string]> = [
      ["an unknown role", (b) => ({ ...b, roles: ["banker"] }), "body.roles.0"],
      ["the operator role", (b) => ({ ...b, roles: ["supplier", "operator"] }), "body.roles.1"],
      ["no roles", (b) => ({ ...b, roles: [] }), "body.roles"],
      ["no name", ({ name: _n, ...rest }) => rest, "body.name"],
      ["a blank name", (b) => ({ ...b, name: "   " }), "body.name"],
      ["a registry id with symbols", (b) => ({ ...b, registryId: "REG<script>" }), "body.registryId"],
      ["a malformed address", (b) => ({ ...b, address: "0x1234" }), "body.address"],
    ];
    for (const [what, mutate, path] of cases) {
      it(`refuses ${what} with VALIDATION_FAILED naming ${path}`, async function () {
        const before = await partyRows();
        const response = await operator.post("/v1/parties", mutate(newPartyBody()));
        expect(response.status).to.equal(400);
        expect(response.body.error.code).to.equal("VALIDATION_FAILED");
        expect(fieldPaths(response.body)).to.include(path);
        expect(await partyRows()).to.equal(before);
      });
    }

    it("refuses an extra field (a client cannot set status) and names it", async function () {
      const response = await operator.post("/v1/parties", newPartyBody({ status: "active" }));
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("VALIDATION_FAILED");
      const problem = response.body.error.details.fields.find((f: { code: string }) => f.code === "unrecognized_keys");
      expect(problem.path).to.equal("body");
      expect(problem.message).to.include("status");
    });
  });

  describe("when related parties are named", function () {
    it("records known related parties", async function () {
      const created = await operator.post(
        "/v1/parties",
        newPartyBody({ roles: ["debtor"], relatedPartyIds: [supplier.id] }),
      );
      expect(created.status).to.equal(201);
      expect(created.body.relatedPartyIds).to.deep.equal([supplier.id]);
    });

    it("refuses an unknown related party with RELATED_PARTY_UNKNOWN and stores nothing", async function () {
      const before = await partyRows();
      const response = await operator.post(
        "/v1/parties",
        newPartyBody({ relatedPartyIds: [supplier.id, "pty_nobody"] }),
      );
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("RELATED_PARTY_UNKNOWN");
      expect(response.body.error.details.relatedPartyId).to.equal("pty_nobody");
      expect(await partyRows()).to.equal(before);
    });
  });

  describe("when someone other than the operator registers a party", function () {
    it("refuses a supplier and an auditor with FORBIDDEN and registers nothing on-chain", async function () {
      const wallet = Wallet.createRandom();
      const before = await partyRows();
      for (const key of [supplier.apiKey, auditor.apiKey]) {
        const response = await api.as(key).post("/v1/parties", newPartyBody({ address: wallet.address }));
        expect(response.status).to.equal(403);
        expect(response.body.error.code).to.equal("FORBIDDEN");
      }
      expect(await partyRows()).to.equal(before);
      expect(await isActiveOnChain(wallet.address)).to.equal(false);
    });
  });

  describe("when a party is registered with an Idempotency-Key", function () {
    it("answers a retry with the first answer (API key included) and registers the party once", async function () {
      const before = await partyRows();
      const idempotencyKey = `party-${uniq()}`;
      const body = newPartyBody();
      const first = await operator.post("/v1/parties", body, { "idempotency-key": idempotencyKey });
      expect(first.status).to.equal(201);
      expect(first.headers.get("idempotent-replayed")).to.equal(null);
      const retry = await operator.post("/v1/parties", body, { "idempotency-key": idempotencyKey });
      expect(retry.status).to.equal(201);
      expect(retry.headers.get("idempotent-replayed")).to.equal("true");
      expect(retry.body).to.deep.equal(first.body);
      expect(await partyRows()).to.equal(before + 1);

      const reused = await operator.post("/v1/parties", newPartyBody(), { "idempotency-key": idempotencyKey });
      expect(reused.status).to.equal(422);
      expect(reused.body.error.code).to.equal("IDEMPOTENCY_KEY_REUSED");
      expect(await partyRows()).to.equal(before + 1);
    });
  });

  describe("when a profile is read", function () {
    it("shows the public profile to any authenticated party and never key material", async function () {
      const response = await api.as(auditor.apiKey).get(`/v1/parties/${supplier.id}`);
      expect(response.status).to.equal(200);
      expect(response.body.id).to.equal(supplier.id);
      expect(response.body.address).to.equal(supplier.address);
      expect(response.body.roles).to.deep.equal(["supplier"]);
      expect(Object.keys(response.body).sort()).to.deep.equal(
        [
          "address",
          "createdAt",
          "custodial",
          "id",
          "industry",
          "name",
          "registryId",
          "relatedPartyIds",
          "roles",
          "status",
        ].sort(),
      );
      const text = JSON.stringify(response.body);
      for (const secret of ["encryptedKey", "encrypted_key", "legalIdHash", "apiKey", "api_key_hash"])
        expect(text).not.to.include(secret);
    });

    it("answers 404 NOT_FOUND for an unknown party", async function () {
      const response = await api.as(supplier.apiKey).get("/v1/parties/pty_doesnotexist");
      expect(response.status).to.equal(404);
      expect(response.body.error.code).to.equal("NOT_FOUND");
      expect(response.body.error.details.party).to.equal("pty_doesnotexist");
    });
  });
});
