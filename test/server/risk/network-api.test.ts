// GET /v1/risk/network/hubs and POST /v1/risk/stress through HTTP, on a small chain built
// with real receivables and splits: who is the hub, who loses what when the core
// enterprise defaults, and who may ask.
import { expect } from "chai";
import { expectClose } from "./approx.js";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient, type ApiResponse } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

const M = 1_000_000n; // one tUSD

describe("API: the credit network's hubs and stress runs", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let core: TestParty;
  let tier1: TestParty;
  let tier2: TestParty;
  let tier3: TestParty;
  let financier: TestParty;
  let auditor: TestParty;
  let supplier: TestParty;
  let hubsBeforeSecondReceivable: ApiResponse;
  const certificates = { tier1OnCore: "", tier2OnCore: "", tier2OnTier1: "", tier3OnTier1: "" };

  const register = async (seller: TestParty, debtor: TestParty, amount: bigint): Promise<string> => {
    const submitted = await api
      .as(seller.apiKey)
      .post("/v1/receivables", validSubmission(debtor.id, { quantity: Number(amount / M), unitPrice: M.toString() }));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    return confirmed.body.certificateId;
  };
  const split = async (holder: TestParty, id: string, parts: Array<[TestParty, bigint]>): Promise<string[]> => {
    const response = await api.as(holder.apiKey).post(`/v1/certificates/${id}/split`, {
      parts: parts.map(([to, amount]) => ({ toPartyId: to.id, amount: amount.toString() })),
    });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body.children.map((c: { id: string }) => c.id);
  };
  const hubs = (key: string, query = "") => api.as(key).get(`/v1/risk/network/hubs${query}`);
  const stress = (key: string, body: unknown) => api.as(key).post("/v1/risk/stress", body);
  const expectError = (response: ApiResponse, status: number, code: string) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(status);
    expect(response.body.error.code).to.equal(code);
  };

  // The chain, holder -> debtor (tUSD):
  //   tier1 -> core 70 (tier 1)      tier2 -> core 30 (tier 2, a piece of tier1's receivable)
  //   tier2 -> tier1 30 (tier 1)     tier3 -> tier1 20 (tier 2, a piece of tier2's receivable; pledged to the financier)
  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    core = await createTestParty(operator, ["debtor"]);
    tier1 = await createTestParty(operator, ["supplier", "debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    tier3 = await createTestParty(operator, ["supplier"]);
    financier = await createTestParty(operator, ["financier"]);
    auditor = await createTestParty(operator, ["auditor"]);
    supplier = await createTestParty(operator, ["supplier"]);

    const root1 = await register(tier1, core, 100n * M);
    const pieces1 = await split(tier1, root1, [
      [tier2, 30n * M],
      [tier1, 70n * M],
    ]);
    certificates.tier2OnCore = pieces1[0]!;
    certificates.tier1OnCore = pieces1[1]!;
    hubsBeforeSecondReceivable = await hubs(t.operatorKey);
    const root2 = await register(tier2, tier1, 50n * M);
    const pieces2 = await split(tier2, root2, [
      [tier3, 20n * M],
      [tier2, 30n * M],
    ]);
    certificates.tier3OnTier1 = pieces2[0]!;
    certificates.tier2OnTier1 = pieces2[1]!;

    // tier3 pledges its piece to the financier: the certificate is locked, still tier3's, still owed.
    const mint = await t.service.ctx.chain.contracts.token
      .getFunction("mint")
      .populateTransaction(financier.address, 100n * M);
    await t.service.ctx.chain.registrar.send(mint, { kind: "mint", ref: "test" });
    const opened = await api.as(tier3.apiKey).post("/v1/financing-requests", {
      certificateId: certificates.tier3OnTier1,
      kind: "pledge",
      price: (8n * M).toString(),
      repayAmount: (9n * M).toString(),
    });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    const funded = await api.as(financier.apiKey).post(`/v1/financing-requests/${opened.body.id}/fund`);
    expect(funded.status, JSON.stringify(funded.body)).to.equal(200);
    const pledged = await t.service.ctx.db
      .selectFrom("onchain_certificates")
      .select("state")
      .where("id", "=", certificates.tier3OnTier1)
      .executeTakeFirstOrThrow();
    expect(pledged.state).to.equal("locked");
  });
  after(async function () {
    await t?.close();
  });

  describe("when the hubs are read", function () {
    it("finds tier 1 between its suppliers and the core enterprise, exactly", async function () {
      const response = await hubs(auditor.apiKey);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      const parties = await t.service.ctx.db.selectFrom("parties").select("id").execute();
      expect(response.body).to.include({ nodes: parties.length, edges: 4, method: "exact" });
      expect(response.body.samples).to.equal(undefined);
      // Only tier3 -> tier1 -> core passes through anyone: one ordered pair, through tier1.
      expect(response.body.byBetweenness).to.have.length(1);
      expect(response.body.byBetweenness[0]).to.include({ partyId: tier1.id, address: tier1.address });
      expect(response.body.byBetweenness[0].name).to.match(/^Party supplier\/debtor /);
      expectClose(response.body.byBetweenness[0].pairs, 1, 1e-9);
      const n = parties.length;
      expectClose(response.body.byBetweenness[0].betweenness, 1 / ((n - 1) * (n - 2)), 1e-15);
    });

    it("ranks by what each party owes", async function () {
      const response = await hubs(financier.apiKey, "?top=5");
      expect(response.status).to.equal(200);
      expect(
        response.body.byExposure.map((h: Record<string, unknown>) => [
          h.partyId,
          h.owes,
          h.owed,
          h.creditors,
          h.debtors,
        ]),
      ).to.deep.equal([
        [core.id, (100n * M).toString(), "0", 2, 0],
        [tier1.id, (50n * M).toString(), (70n * M).toString(), 2, 1],
      ]);
    });

    it("follows the index: before the second receivable nobody was in between", async function () {
      expect(hubsBeforeSecondReceivable.status).to.equal(200);
      expect(hubsBeforeSecondReceivable.body).to.include({ edges: 2 });
      expect(hubsBeforeSecondReceivable.body.byBetweenness).to.deep.equal([]);
      expect(
        hubsBeforeSecondReceivable.body.byExposure.map((h: { partyId: string; owes: string }) => [h.partyId, h.owes]),
      ).to.deep.equal([[core.id, (100n * M).toString()]]);
    });

    it("cuts the rankings at top and refuses a top out of range", async function () {
      const one = await hubs(t.operatorKey, "?top=1");
      expect(one.body.byExposure.map((h: { partyId: string }) => h.partyId)).to.deep.equal([core.id]);
      for (const query of ["?top=0", "?top=101", "?top=abc"]) {
        const response = await hubs(t.operatorKey, query);
        expectError(response, 400, "VALIDATION_FAILED");
        expect(response.body.error.details.fields[0].path).to.equal("query.top");
      }
    });
  });

  describe("when the core enterprise defaults in a stress run", function () {
    // 50% recovered. Round 1 (core): tier1's 70 loses 35, tier2's 30 loses 15.
    //   tier1: buffer 70 - 50 = 20 < 35: defaults.  tier2: buffer 60 >= 15.
    // Round 2 (tier1): tier2's 30 on tier1 loses 15 (tier2: 30 in all <= 60), tier3's 20 loses 10 (buffer 20).
    let response: ApiResponse;
    before(async function () {
      response = await stress(financier.apiKey, { defaulted: [core.id], recoveryRate: 0.5 });
    });

    it("answers two rounds: the core, then tier 1", function () {
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(
        response.body.rounds.map(
          (r: { round: number; defaulting: Array<{ partyId: string }>; certificates: number; loss: string }) => [
            r.round,
            r.defaulting.map((p) => p.partyId),
            r.certificates,
            r.loss,
          ],
        ),
      ).to.deep.equal([
        [1, [core.id], 2, (50n * M).toString()],
        [2, [tier1.id], 2, (25n * M).toString()],
      ]);
      expect(response.body.defaulted.map((p: { partyId: string }) => p.partyId)).to.deep.equal([core.id, tier1.id]);
      expect(response.body.totalLoss).to.equal((75n * M).toString());
    });

    it("lists which certificates lose how much, at which tier, held by whom (and pledged to whom)", async function () {
      const financierName = (
        await t.service.ctx.db
          .selectFrom("parties")
          .select("name")
          .where("id", "=", financier.id)
          .executeTakeFirstOrThrow()
      ).name;
      const rows = response.body.certificates.map(
        (c: {
          certificateId: string;
          tier: number;
          holder: { partyId: string };
          debtor: { partyId: string };
          outstanding: string;
          loss: string;
          round: number;
          pledgedTo: unknown;
        }) => [
          c.certificateId,
          c.tier,
          c.holder.partyId,
          c.debtor.partyId,
          c.outstanding,
          c.loss,
          c.round,
          c.pledgedTo,
        ],
      );
      expect(rows).to.have.deep.members([
        [certificates.tier1OnCore, 1, tier1.id, core.id, (70n * M).toString(), (35n * M).toString(), 1, null],
        [certificates.tier2OnCore, 2, tier2.id, core.id, (30n * M).toString(), (15n * M).toString(), 1, null],
        [certificates.tier2OnTier1, 1, tier2.id, tier1.id, (30n * M).toString(), (15n * M).toString(), 2, null],
        [
          certificates.tier3OnTier1,
          2,
          tier3.id,
          tier1.id,
          (20n * M).toString(),
          (10n * M).toString(),
          2,
          { address: financier.address, partyId: financier.id, name: financierName },
        ],
      ]);
      expect(response.body.certificates[0].receivableId).to.match(/^0x[0-9a-f]{64}$/);
      expect(response.body.byTier).to.deep.equal([
        { tier: 1, certificates: 2, outstanding: (100n * M).toString(), loss: (50n * M).toString() },
        { tier: 2, certificates: 2, outstanding: (50n * M).toString(), loss: (25n * M).toString() },
      ]);
    });

    it("shows each party's buffer and what is left of it", function () {
      const rows = response.body.parties.map((p: Record<string, unknown>) => [
        p.partyId,
        p.buffer,
        p.loss,
        p.remaining,
        p.defaultedInRound,
      ]);
      expect(rows).to.deep.equal([
        [core.id, (-100n * M).toString(), "0", (-100n * M).toString(), 1],
        [tier1.id, (20n * M).toString(), (35n * M).toString(), (-15n * M).toString(), 2],
        [tier2.id, (60n * M).toString(), (30n * M).toString(), (30n * M).toString(), null],
        [tier3.id, (20n * M).toString(), (10n * M).toString(), (10n * M).toString(), null],
      ]);
    });
  });

  describe("when the stress run is given outside capital", function () {
    // 50% recovered, as above, with tier1's capital 15: its buffer is 15 + 70 - 50 = 35, round 1 costs
    // it 35 and leaves 0, not below zero, so it survives; nobody defaults in round 2 and tier3 loses nothing.
    // One unit less (14.999999) leaves -0.000001: tier1 defaults in round 2 as without capital.
    const rowsOf = (response: ApiResponse) =>
      response.body.parties.map((p: Record<string, unknown>) => [
        p.partyId,
        p.capital,
        p.claims,
        p.payables,
        p.buffer,
        p.loss,
        p.remaining,
        p.defaultedInRound,
      ]);

    it("keeps a party that would fall with capital 0 standing, and the contagion stops", async function () {
      const response = await stress(financier.apiKey, {
        defaulted: [core.id],
        recoveryRate: 0.5,
        capital: { [tier1.id]: (15n * M).toString() },
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(
        response.body.rounds.map(
          (r: { round: number; defaulting: Array<{ partyId: string }>; certificates: number; loss: string }) => [
            r.round,
            r.defaulting.map((p) => p.partyId),
            r.certificates,
            r.loss,
          ],
        ),
      ).to.deep.equal([[1, [core.id], 2, (50n * M).toString()]]);
      expect(response.body.defaulted.map((p: { partyId: string }) => p.partyId)).to.deep.equal([core.id]);
      expect(response.body.certificates.map((c: { certificateId: string }) => c.certificateId)).to.have.members([
        certificates.tier1OnCore,
        certificates.tier2OnCore,
      ]);
      expect(response.body.totalLoss).to.equal((50n * M).toString());
      expect(rowsOf(response)).to.deep.equal([
        [core.id, "0", "0", (100n * M).toString(), (-100n * M).toString(), "0", (-100n * M).toString(), 1],
        [
          tier1.id,
          (15n * M).toString(),
          (70n * M).toString(),
          (50n * M).toString(),
          (35n * M).toString(),
          (35n * M).toString(),
          "0",
          null,
        ],
        [
          tier2.id,
          "0",
          (60n * M).toString(),
          "0",
          (60n * M).toString(),
          (15n * M).toString(),
          (45n * M).toString(),
          null,
        ],
      ]);
    });

    it("lets one unit too little capital fall as before", async function () {
      const response = await stress(t.operatorKey, {
        defaulted: [core.id],
        recoveryRate: 0.5,
        capital: { [tier1.id]: (15n * M - 1n).toString(), [supplier.id]: "0" },
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(
        response.body.rounds.map((r: { round: number; defaulting: Array<{ partyId: string }> }) => [
          r.round,
          r.defaulting.map((p) => p.partyId),
        ]),
      ).to.deep.equal([
        [1, [core.id]],
        [2, [tier1.id]],
      ]);
      expect(response.body.totalLoss).to.equal((75n * M).toString());
      const tier1Row = rowsOf(response).find((row: unknown[]) => row[0] === tier1.id);
      expect(tier1Row).to.deep.equal([
        tier1.id,
        (15n * M - 1n).toString(),
        (70n * M).toString(),
        (50n * M).toString(),
        (35n * M - 1n).toString(),
        (35n * M).toString(),
        "-1",
        2,
      ]);
    });

    it("refuses a negative, decimal, signed or non-string amount and too many parties, naming the field", async function () {
      const cases: Array<[unknown, string]> = [
        [{ [tier1.id]: "-1" }, `body.capital.${tier1.id}`],
        [{ [tier1.id]: "1.5" }, `body.capital.${tier1.id}`],
        [{ [tier1.id]: "+5" }, `body.capital.${tier1.id}`],
        [{ [tier1.id]: "" }, `body.capital.${tier1.id}`],
        [{ [tier1.id]: 15 }, `body.capital.${tier1.id}`],
        [[(15n * M).toString()], "body.capital"],
        ["10", "body.capital"],
        [Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`pty_x${i}`, "1"])), "body.capital"],
      ];
      for (const [capital, path] of cases) {
        const response = await stress(t.operatorKey, { defaulted: [core.id], recoveryRate: 0.5, capital });
        expectError(response, 400, "VALIDATION_FAILED");
        expect(response.body.error.details.fields[0].path, JSON.stringify(capital).slice(0, 80)).to.equal(path);
      }
    });

    it("answers 404 NOT_FOUND listing the capital's unknown parties with the defaulted ones", async function () {
      const response = await stress(auditor.apiKey, {
        defaulted: [core.id, "pty_nobody"],
        recoveryRate: 0.5,
        capital: { [tier1.id]: "1", pty_nocapital: "5" },
      });
      expectError(response, 404, "NOT_FOUND");
      expect(response.body.error.details.parties).to.deep.equal(["pty_nobody", "pty_nocapital"]);
    });
  });

  describe("when the stress request is malformed", function () {
    it("refuses an empty list, a rate outside 0..1, an unknown field, and names the field", async function () {
      const cases: Array<[unknown, string]> = [
        [{ defaulted: [], recoveryRate: 0.5 }, "body.defaulted"],
        [{ defaulted: [core.id], recoveryRate: 1.5 }, "body.recoveryRate"],
        [{ defaulted: [core.id], recoveryRate: -0.1 }, "body.recoveryRate"],
        [{ defaulted: [core.id] }, "body.recoveryRate"],
        [{ defaulted: [core.id], recoveryRate: 0.5, cap: "10" }, "body"],
      ];
      for (const [body, path] of cases) {
        const response = await stress(t.operatorKey, body);
        expectError(response, 400, "VALIDATION_FAILED");
        expect(response.body.error.details.fields[0].path, JSON.stringify(body)).to.equal(path);
      }
    });

    it("answers 404 NOT_FOUND for a party that does not exist", async function () {
      const response = await stress(auditor.apiKey, { defaulted: [core.id, "pty_nobody"], recoveryRate: 0.2 });
      expectError(response, 404, "NOT_FOUND");
      expect(response.body.error.details.parties).to.deep.equal(["pty_nobody"]);
    });
  });

  describe("when the caller is neither operator, auditor nor financier", function () {
    it("refuses a supplier and a debtor with FORBIDDEN", async function () {
      for (const party of [supplier, core, tier1]) {
        expectError(await hubs(party.apiKey), 403, "FORBIDDEN");
        expectError(await stress(party.apiKey, { defaulted: [core.id], recoveryRate: 0.5 }), 403, "FORBIDDEN");
      }
    });

    it("refuses a caller without a key with UNAUTHENTICATED", async function () {
      expectError(await api.as(undefined).get("/v1/risk/network/hubs"), 401, "UNAUTHENTICATED");
      expectError(
        await api.as(undefined).post("/v1/risk/stress", { defaulted: [core.id], recoveryRate: 0.5 }),
        401,
        "UNAUTHENTICATED",
      );
    });
  });
});
