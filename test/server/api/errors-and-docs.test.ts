// The API's edges: unreadable and oversized bodies, unknown routes, error bodies without
// stack traces, request ids, security headers, the OpenAPI document, the docs page and
// the health check.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient, type ApiResponse } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import type { Server } from "node:http";
import { allRoutes, BODY_LIMIT, createApp } from "../../../server/api/app.js";
import { testDatabaseEngine } from "../../helpers/postgres.js";

describe("API: errors, request ids, headers, docs and health", function () {
  this.timeout(60_000);
  let t: TestService;
  let api: ApiClient;
  let supplier: TestParty;
  const errorBodies: Array<{ what: string; response: ApiResponse }> = [];
  const seen = (what: string, response: ApiResponse) => {
    errorBodies.push({ what, response });
    return response;
  };

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    supplier = await createTestParty(api.as(t.operatorKey), ["supplier"]);
  });
  after(async function () {
    await t?.close();
  });

  describe("when the body cannot be read", function () {
    it("answers malformed JSON with 400 MALFORMED_JSON", async function () {
      const response = seen("malformed", await api.as(supplier.apiKey).post("/v1/receivables", '{"debtorId": "x",'));
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("MALFORMED_JSON");
      expect(response.body.error.details).to.deep.equal({});
    });

    it("answers a JSON scalar where an object is expected with 400 (strict JSON)", async function () {
      const response = seen("scalar", await api.as(supplier.apiKey).post("/v1/receivables", '"just a string"'));
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("MALFORMED_JSON");
    });

    it("answers a body over 1 MB with 413 PAYLOAD_TOO_LARGE, before authentication", async function () {
      expect(BODY_LIMIT).to.equal("1mb");
      const documents = validSubmission(supplier.id) as Record<string, unknown>;
      const big = JSON.stringify({ ...documents, padding: "x".repeat(1024 * 1024) });
      for (const key of [supplier.apiKey, undefined]) {
        const response = seen("too large", await api.as(key).post("/v1/receivables", big));
        expect(response.status).to.equal(413);
        expect(response.body.error.code).to.equal("PAYLOAD_TOO_LARGE");
        expect(response.body.error.details.limit).to.equal(1024 * 1024);
      }
    });

    it("treats a body just under the limit as a normal request (here: a schema refusal, not 413)", async function () {
      const documents = validSubmission(supplier.id) as Record<string, unknown>;
      const body = JSON.stringify({ ...documents, padding: "x".repeat(1000 * 1000) });
      const response = seen("big but allowed", await api.as(supplier.apiKey).post("/v1/receivables", body));
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("VALIDATION_FAILED");
    });

    it("answers an unsupported charset with 415 UNSUPPORTED_ENCODING", async function () {
      const response = seen(
        "charset",
        await api
          .as(supplier.apiKey)
          .request("POST", "/v1/receivables", "{}", { "content-type": "application/json; charset=klingon" }),
      );
      expect(response.status).to.equal(415);
      expect(response.body.error.code).to.equal("UNSUPPORTED_ENCODING");
    });
  });

  describe("when a path parameter breaks its schema on a read", function () {
    it("answers 400 VALIDATION_FAILED naming params.id, a status the route documents", async function () {
      // The client checks the answer against the route spec: GET /v1/parties/:id used to document no 400.
      const response = await api.as(supplier.apiKey).get(`/v1/parties/${"x".repeat(81)}`);
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("VALIDATION_FAILED");
      expect(response.body.error.details.fields[0].path).to.equal("params.id");
    });
  });

  describe("when the route does not exist", function () {
    it("answers 404 ROUTE_NOT_FOUND naming the method and path, with or without a key", async function () {
      for (const [method, path, key] of [
        ["GET", "/v1/nothing-here", supplier.apiKey],
        ["POST", "/v1/receivables/0x00/cancel", supplier.apiKey],
        ["DELETE", "/v1/parties/pty_operator", undefined],
        ["GET", "/v2/receivables", undefined],
      ] as const) {
        const response = seen("no route", await api.as(key).request(method, path));
        expect(response.status, `${method} ${path}`).to.equal(404);
        expect(response.body.error.code).to.equal("ROUTE_NOT_FOUND");
        expect(response.body.error.message).to.include(`${method} ${path}`);
      }
    });
  });

  describe("when anything goes wrong", function () {
    it("never puts a stack trace, a file path or an internal error name in an error body", async function () {
      // A mix of refusals from every layer, on top of those collected above.
      seen("401", await api.get("/v1/parties/x"));
      seen("403", await api.as(supplier.apiKey).post("/v1/parties", {}));
      seen("404", await api.as(supplier.apiKey).get("/v1/parties/pty_nobody"));
      seen("400", await api.as(supplier.apiKey).get("/v1/receivables/zzz"));
      seen("422", await api.as(supplier.apiKey).post("/v1/receivables", validSubmission("pty_nobody")));
      seen(
        "split of an unknown certificate",
        await api
          .as(supplier.apiKey)
          .post("/v1/certificates/999/split", { parts: [{ toPartyId: supplier.id, amount: "1" }] }),
      );
      expect(errorBodies.length).to.be.greaterThan(10);
      for (const { what, response } of errorBodies) {
        expect(response.status, what).to.be.within(400, 499);
        expect(response.headers.get("content-type"), what).to.match(/^application\/json/);
        expect(Object.keys(response.body), what).to.deep.equal(["error"]);
        expect(Object.keys(response.body.error).sort(), what).to.deep.equal(["code", "details", "message"]);
        expect(response.body.error.code, what).to.match(/^[A-Z][A-Z0-9_]+$/);
        const text = JSON.stringify(response.body);
        expect(text, what).not.to.match(/\bat .+:\d+:\d+/);
        expect(text, what).not.to.match(/\.(ts|js):\d+/);
        expect(text, what).not.to.include("node_modules");
        expect(text, what).not.to.include("/work/");
        expect(text, what).not.to.match(/"stack"/);
        expect(text, what).not.to.match(/SqliteError|TypeError|ReferenceError|SyntaxError/);
      }
    });
  });

  describe("when a request carries or lacks an X-Request-Id", function () {
    it("echoes a well-formed request id", async function () {
      const response = await api
        .as(supplier.apiKey)
        .request("GET", `/v1/parties/${supplier.id}`, undefined, { "x-request-id": "client-req.42_a" });
      expect(response.status).to.equal(200);
      expect(response.headers.get("x-request-id")).to.equal("client-req.42_a");
      const error = await api.request("GET", "/v1/parties/x", undefined, { "x-request-id": "failing-req-7" });
      expect(error.status).to.equal(401);
      expect(error.headers.get("x-request-id")).to.equal("failing-req-7");
    });

    it("makes up a fresh id when there is none or it is not safe to log", async function () {
      const a = await api.get("/health");
      const b = await api.get("/health");
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      expect(a.headers.get("x-request-id")).to.match(uuid);
      expect(b.headers.get("x-request-id")).to.match(uuid);
      expect(a.headers.get("x-request-id")).not.to.equal(b.headers.get("x-request-id"));
      for (const unsafe of ["has spaces in it", "x".repeat(65), "semi;colon"]) {
        const response = await api.request("GET", "/health", undefined, { "x-request-id": unsafe });
        expect(response.headers.get("x-request-id"), unsafe).to.match(uuid);
      }
    });
  });

  describe("when a response goes out", function () {
    it("carries helmet's security headers and no X-Powered-By", async function () {
      for (const response of [await api.get("/health"), await api.get("/v1/parties/x"), await api.get("/nope")]) {
        expect(response.headers.get("x-content-type-options")).to.equal("nosniff");
        expect(response.headers.get("x-frame-options")).to.equal("SAMEORIGIN");
        expect(response.headers.get("strict-transport-security")).to.match(/max-age=\d+/);
        expect(response.headers.get("content-security-policy")).to.include("default-src 'self'");
        expect(response.headers.get("referrer-policy")).to.equal("no-referrer");
        expect(response.headers.get("x-powered-by")).to.equal(null);
      }
    });

    it("announces the rate limit", async function () {
      const response = await api.get("/health");
      expect(response.headers.get("ratelimit-policy")).to.match(/q=100000; ?w=60/);
    });
  });

  describe("when a client sends too many requests", function () {
    it("answers 429 RATE_LIMITED in the usual error shape once the limit is used up", async function () {
      // A second app on the same service, with a limit of 3 a minute.
      const ctx = t.service.ctx;
      const app = createApp({
        ...ctx,
        config: { ...ctx.config, TIERLINE_RATE_LIMIT_PER_MINUTE: 3, TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: 3 },
      });
      const server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, "127.0.0.1", () => resolve(s));
      });
      try {
        const limited = new ApiClient(() => `http://127.0.0.1:${(server.address() as { port: number }).port}`);
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push((await limited.get("/health")).status);
        expect(statuses).to.deep.equal([200, 200, 200]);
        // Issue 18: a key has its own budget; without one, the IP's budget is used up.
        const refused = await limited.get(`/v1/parties/${supplier.id}`);
        expect(refused.status).to.equal(429);
        expect(refused.body.error.code).to.equal("RATE_LIMITED");
        expect(Number(refused.headers.get("retry-after"))).to.be.within(1, 60);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe("when the OpenAPI document is read", function () {
    it("is OpenAPI 3.1.0 and lists every route the app serves, with its method, and no other", async function () {
      const response = await api.get("/openapi.json");
      expect(response.status).to.equal(200);
      const doc = response.body;
      expect(doc.openapi).to.equal("3.1.0");
      expect(doc.info.title).to.equal("Tierline API");
      const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`),
      );
      const served = allRoutes().map((route) => `${route.method} ${route.path.replace(/:([A-Za-z]+)/g, "{$1}")}`);
      expect(documented.sort()).to.deep.equal(served.sort());
    });

    it("documents authentication, the Idempotency-Key header, path parameters and error responses", async function () {
      const doc = (await api.get("/openapi.json")).body;
      expect(doc.components.securitySchemes.apiKey).to.deep.include({ type: "http", scheme: "bearer" });
      expect(doc.paths["/health"].get.security).to.deep.equal([]);
      const submit = doc.paths["/v1/receivables"].post;
      expect(submit.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).to.include(
        "header:Idempotency-Key",
      );
      expect(submit.requestBody.required).to.equal(true);
      expect(Object.keys(submit.responses)).to.include.members(["201", "200", "400", "401", "403", "409", "422"]);
      const read = doc.paths["/v1/receivables/{id}"].get;
      expect(read.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).to.include("path:id");
      expect(Object.keys(doc.components.schemas)).to.include.members([
        "Error",
        "Receivable",
        "SubmitReceivable",
        "Certificate",
        "CreateParty",
      ]);
    });
  });

  describe("when a client generator reads the operations", function () {
    it("finds a unique camelCase operationId on every operation", async function () {
      const doc = (await api.get("/openapi.json")).body;
      const operations = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap(
        ([path, methods]) =>
          Object.entries(methods).map(([method, op]) => ({ where: `${method} ${path}`, id: op.operationId })),
      );
      expect(operations.length).to.equal(allRoutes().length);
      for (const { where, id } of operations) expect(id, where).to.match(/^[a-z][A-Za-z0-9]*$/);
      const ids = operations.map((op) => op.id);
      expect(new Set(ids).size, ids.join(", ")).to.equal(ids.length);
      expect(doc.paths["/v1/certificates/{id}/split"].post.operationId).to.equal("splitCertificate");
    });
  });

  describe("when the docs page is opened", function () {
    it("serves the Swagger UI as HTML", async function () {
      const response = await fetch(`${t.baseUrl}/docs`);
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.match(/^text\/html/);
      const html = await response.text();
      expect(html).to.include("<title>Tierline API</title>");
      expect(html).to.include("swagger-ui");
    });
  });

  describe("when the health check is read", function () {
    it("reports chain id 31337, the contracts, the indexed block and a working database", async function () {
      const response = await api.get("/health");
      expect(response.status).to.equal(200);
      const health = response.body;
      expect(health.status).to.equal("ok");
      expect(health.chain.ok).to.equal(true);
      expect(health.chain.chainId).to.equal("31337");
      const head = await t.service.ctx.chain.provider.getBlockNumber();
      expect(health.chain.latestBlock).to.be.within(head - 1, head);
      expect(health.chain.indexedBlock).to.be.within(health.deploymentBlock, head);
      expect(health.contracts).to.deep.equal(t.service.ctx.chain.deployment.addresses);
      expect(Object.keys(health.contracts).sort()).to.deep.equal(
        [
          "certificateToken",
          "dilutionLedger", // disputes and credit notes (issue 16)
          "financingMarket",
          "partyRegistry",
          "receivableRegistry",
          "recourseLedger", // endorsements and recourse claims (issue 16)
          "settlementEscrow",
          "settlementToken",
          "timelock", // the admin of every contract (trust model)
        ].sort(),
      );
      for (const address of Object.values(health.contracts as Record<string, string>)) {
        expect(await t.service.ctx.chain.provider.getCode(address)).not.to.equal("0x");
      }
      // The engine is reported since there are two (the integration files run on both).
      expect(health.database).to.deep.equal({ ok: true, engine: testDatabaseEngine() });
    });
  });

  // Last: stops the chain for good.
  describe("when the chain stops answering", function () {
    let debtor: TestParty;
    let pendingId: string;

    before(async function () {
      debtor = await createTestParty(api.as(t.operatorKey), ["debtor"]);
      const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
      expect(submitted.status).to.equal(201);
      pendingId = submitted.body.id;
      await t.chain.stop();
    });

    it("reports the health as degraded with 503, the database still ok", async function () {
      const response = await api.get("/health");
      expect(response.status).to.equal(503);
      expect(response.body.status).to.equal("degraded");
      expect(response.body.chain.ok).to.equal(false);
      expect(response.body.chain.latestBlock).to.equal(null);
      expect(response.body.database).to.deep.equal({ ok: true, engine: testDatabaseEngine() });
    });

    it("still serves what the database knows", async function () {
      const response = await api.as(supplier.apiKey).get(`/v1/receivables/${pendingId}`);
      expect(response.status).to.equal(200);
      expect(response.body.status).to.equal("awaiting_confirmation");
    });

    it("answers a confirmation with 503 CHAIN_UNAVAILABLE and leaves the receivable awaiting confirmation", async function () {
      const response = await api.as(debtor.apiKey).post(`/v1/receivables/${pendingId}/confirm`);
      expect(response.status, JSON.stringify(response.body)).to.equal(503);
      expect(response.body.error.code).to.equal("CHAIN_UNAVAILABLE");
      const row = await t.service.ctx.db
        .selectFrom("receivables")
        .select("status")
        .where("id", "=", pendingId)
        .executeTakeFirstOrThrow();
      expect(row.status).to.equal("awaiting_confirmation");
    });

    it("answers a party registration with 503 CHAIN_UNAVAILABLE", async function () {
      const response = await api
        .as(t.operatorKey)
        .post("/v1/parties", { name: "Late Ltd", registryId: "LATE-0001", industry: "retail", roles: ["supplier"] });
      expect(response.status, JSON.stringify(response.body)).to.equal(503);
      expect(response.body.error.code).to.equal("CHAIN_UNAVAILABLE");
    });
  });
});
