// Who may call the risk routes. Each route is called by every role that must not use it
// (403 FORBIDDEN, and nothing changes) and by those that may; bad input is a 400 and an
// unknown party a 404.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import { registered, T } from "./risk-scenario.js";
import { riskRoutes } from "../../../server/api/routes/risk.js";

type Caller = "operator" | "seller" | "debtor" | "financier" | "auditor" | "outsider";

describe("Risk: who may call the risk routes", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  let keys: Record<Caller, string>;
  let parties: Record<Exclude<Caller, "operator">, TestParty>;
  let soldRequest: string;
  let certificateId: string;

  const call = (caller: Caller, method: "GET" | "POST", path: string, body?: unknown) =>
    api.as(keys[caller]).request(method, path, body);
  const expectForbidden = async (
    callers: Caller[],
    method: "GET" | "POST",
    path: (c: Caller) => string,
    body?: unknown,
  ) => {
    for (const caller of callers) {
      const response = await call(caller, method, path(caller), body);
      expect(response.status, `${caller}: ${JSON.stringify(response.body)}`).to.equal(403);
      expect(response.body.error.code, caller).to.equal("FORBIDDEN");
    }
  };
  const expectOk = async (callers: Caller[], method: "GET" | "POST", path: (c: Caller) => string, body?: unknown) => {
    for (const caller of callers) {
      const response = await call(caller, method, path(caller), body);
      expect(response.status, `${caller}: ${JSON.stringify(response.body)}`).to.equal(200);
    }
  };

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    parties = {
      seller: await createTestParty(operator, ["supplier"]),
      debtor: await createTestParty(operator, ["debtor"]),
      financier: await createTestParty(operator, ["financier"]),
      auditor: await createTestParty(operator, ["auditor"]),
      outsider: await createTestParty(operator, ["supplier"]),
    };
    keys = {
      operator: t.operatorKey,
      ...Object.fromEntries(Object.entries(parties).map(([k, p]) => [k, p.apiKey])),
    } as Record<Caller, string>;
    const mintTx = await t.service.ctx.chain.contracts.token
      .getFunction("mint")
      .populateTransaction(parties.financier.address, T(1_000));
    await t.service.ctx.chain.registrar.send(mintTx, { kind: "mint", ref: "test" });

    // A sold request (only its parties, financiers and the platform may read it) and a live certificate.
    const sold = await registered(api, parties.seller, parties.debtor);
    const opened = await api
      .as(parties.seller.apiKey)
      .post("/v1/financing-requests", { certificateId: sold.certificateId, kind: "discount", price: T(95).toString() });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    soldRequest = opened.body.id;
    const funded = await api.as(parties.financier.apiKey).post(`/v1/financing-requests/${soldRequest}/fund`);
    expect(funded.status, JSON.stringify(funded.body)).to.equal(200);
    certificateId = (await registered(api, parties.seller, parties.debtor)).certificateId;
  });
  after(async function () {
    await t?.close();
  });

  it("serves seven risk routes, all behind an API key", function () {
    expect(riskRoutes.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      "get /v1/risk/parties/:id",
      "get /v1/risk/alerts",
      "get /v1/risk/industries",
      "post /v1/risk/industries/:industry",
      "post /v1/risk/limits/:partyId",
      "get /v1/financing-requests/:id/quote",
      "get /v1/certificates/:id/quote",
    ]);
    expect(riskRoutes.every((r) => r.auth)).to.equal(true);
  });

  describe("GET /v1/risk/parties/:id", function () {
    it("refuses a party reading another party's risk", async function () {
      await expectForbidden(
        ["seller", "debtor", "outsider"],
        "GET",
        (c) => `/v1/risk/parties/${c === "seller" ? parties.debtor.id : parties.seller.id}`,
      );
    });

    it("answers the operator, auditors, financiers and the party itself", async function () {
      await expectOk(["operator", "auditor", "financier"], "GET", () => `/v1/risk/parties/${parties.seller.id}`);
      await expectOk(["seller", "debtor"], "GET", (c) => `/v1/risk/parties/${parties[c as "seller" | "debtor"].id}`);
    });

    it("answers 404 for an unknown party", async function () {
      const response = await call("auditor", "GET", "/v1/risk/parties/pty_nobody");
      expect(response.status).to.equal(404);
      expect(response.body.error.code).to.equal("NOT_FOUND");
    });
  });

  describe("GET /v1/risk/alerts and GET /v1/risk/industries", function () {
    it("refuses suppliers and debtors", async function () {
      await expectForbidden(["seller", "debtor", "outsider"], "GET", () => "/v1/risk/alerts");
      await expectForbidden(["seller", "debtor", "outsider"], "GET", () => "/v1/risk/industries");
    });

    it("answers the operator, auditors and financiers", async function () {
      await expectOk(["operator", "auditor", "financier"], "GET", () => "/v1/risk/alerts");
      await expectOk(["operator", "auditor", "financier"], "GET", () => "/v1/risk/industries");
    });

    it("refuses an unknown alert kind with 400", async function () {
      const response = await call("auditor", "GET", "/v1/risk/alerts?kind=EVERYTHING");
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("VALIDATION_FAILED");
    });
  });

  describe("POST /v1/risk/industries/:industry", function () {
    const industries = () => t.service.ctx.db.selectFrom("industry_risk").selectAll().execute();

    it("refuses everyone but the operator, and records nothing", async function () {
      await expectForbidden(
        ["seller", "debtor", "financier", "auditor"],
        "POST",
        () => "/v1/risk/industries/textiles",
        { index: 900, threshold: 100 },
      );
      expect(await industries()).to.deep.equal([]);
    });

    it("refuses an index out of 0..1000 with 400", async function () {
      const response = await call("operator", "POST", "/v1/risk/industries/textiles", { index: 1_001, threshold: 100 });
      expect(response.status).to.equal(400);
      expect(response.body.error.details.fields.map((f: { path: string }) => f.path)).to.deep.equal(["body.index"]);
      expect(await industries()).to.deep.equal([]);
    });
  });

  describe("POST /v1/risk/limits/:partyId", function () {
    const limits = () => t.service.ctx.db.selectFrom("credit_limits").selectAll().execute();

    it("refuses everyone but the operator, and records nothing", async function () {
      await expectForbidden(
        ["seller", "debtor", "financier", "auditor"],
        "POST",
        () => `/v1/risk/limits/${parties.seller.id}`,
        { kind: "supplier", limit: "1" },
      );
      expect(await limits()).to.deep.equal([]);
    });

    it("refuses a fractional limit with 400 and an unknown party with 404", async function () {
      const fractional = await call("operator", "POST", `/v1/risk/limits/${parties.seller.id}`, {
        kind: "supplier",
        limit: "1.5",
      });
      expect(fractional.status).to.equal(400);
      expect(fractional.body.error.details.fields.map((f: { path: string }) => f.path)).to.deep.equal(["body.limit"]);
      const unknown = await call("operator", "POST", "/v1/risk/limits/pty_nobody", { kind: "supplier", limit: "1" });
      expect(unknown.status).to.equal(404);
      expect(await limits()).to.deep.equal([]);
    });
  });

  describe("GET /v1/financing-requests/:id/quote", function () {
    it("refuses a party that may not read the sold request", async function () {
      await expectForbidden(["debtor", "outsider"], "GET", () => `/v1/financing-requests/${soldRequest}/quote`);
    });

    it("answers its seller, financiers, the operator and auditors", async function () {
      await expectOk(
        ["seller", "financier", "operator", "auditor"],
        "GET",
        () => `/v1/financing-requests/${soldRequest}/quote`,
      );
    });
  });

  describe("GET /v1/certificates/:id/quote", function () {
    it("refuses parties that neither hold the certificate nor finance", async function () {
      await expectForbidden(["debtor", "outsider"], "GET", () => `/v1/certificates/${certificateId}/quote`);
    });

    it("answers its holder, financiers, the operator and auditors, and 404 for an unknown certificate", async function () {
      await expectOk(
        ["seller", "financier", "operator", "auditor"],
        "GET",
        () => `/v1/certificates/${certificateId}/quote`,
      );
      const unknown = await call("financier", "GET", "/v1/certificates/999999/quote");
      expect(unknown.status).to.equal(404);
    });
  });
});
