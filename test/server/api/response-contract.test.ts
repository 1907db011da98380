// The response check every integration test runs through (test/server/client.ts): an answer
// is held against the route spec it came from — its declared statuses, the schema of each
// and the error envelope. These cases show the check fails when it must; the integration
// tests show the service passes it.
import { expect } from "chai";
import { contractViolations, routeFor, type ApiResponse } from "../client.js";
import { allRoutes } from "../../../server/api/app.js";
import { buildOpenApiDocument } from "../../../server/api/openapi.js";
import { errorStatusesOf } from "../../../server/api/route-spec.js";

const JSON_TYPE = "application/json; charset=utf-8";
const answer = (status: number, body: unknown): ApiResponse => ({ status, body, headers: new Headers() });

const party = {
  id: "p_1",
  name: "Acme",
  registryId: "REG-1",
  industry: "manufacturing",
  roles: ["supplier"],
  address: "0x0000000000000000000000000000000000000001",
  custodial: true,
  status: "active",
  relatedPartyIds: [],
  createdAt: "2026-11-26T00:00:00.000Z",
};
const refusal = (code: string) => ({ error: { code, message: "no", details: {} } });

describe("API: every answer is checked against its route's declared contract", function () {
  it("finds the route an answer came from by method and path pattern, ignoring the query", function () {
    expect(routeFor("GET", "/v1/parties/p_1")?.path).to.equal("/v1/parties/:id");
    expect(routeFor("GET", "/v1/parties/p_1/certificates")?.path).to.equal("/v1/parties/:id/certificates");
    expect(routeFor("GET", "/v1/risk/alerts?limit=5")?.path).to.equal("/v1/risk/alerts");
    expect(routeFor("POST", "/v1/parties/p_1")).to.equal(undefined);
  });

  it("passes a body that matches the schema declared for its status", function () {
    expect(contractViolations("GET", "/v1/parties/p_1", answer(200, party), JSON_TYPE)).to.deep.equal([]);
    expect(contractViolations("GET", "/v1/parties/p_1", answer(404, refusal("NOT_FOUND")), JSON_TYPE)).to.deep.equal(
      [],
    );
  });

  it("fails a field of the wrong type, a missing field and a field the schema does not document", function () {
    expect(contractViolations("GET", "/v1/parties/p_1", answer(200, { ...party, custodial: "yes" }), JSON_TYPE))
      .to.have.length(1)
      .and.to.match(/^custodial: /);
    const { createdAt: _dropped, ...missing } = party;
    expect(contractViolations("GET", "/v1/parties/p_1", answer(200, missing), JSON_TYPE)[0]).to.match(/^createdAt: /);
    expect(
      contractViolations("GET", "/v1/parties/p_1", answer(200, { ...party, apiKeyHash: "leak" }), JSON_TYPE),
    ).to.deep.equal(["apiKeyHash: sent but not in the schema"]);
  });

  it("fails a status the route does not declare, and a refusal that is not the error envelope", function () {
    expect(contractViolations("GET", "/v1/parties/p_1", answer(201, party), JSON_TYPE)[0]).to.match(
      /answered 201, which its route spec does not declare/,
    );
    expect(contractViolations("GET", "/v1/parties/p_1", answer(409, refusal("X")), JSON_TYPE)[0]).to.match(
      /answered 409, which its route spec does not declare/,
    );
    expect(
      contractViolations("GET", "/v1/parties/p_1", answer(404, { code: "NOT_FOUND", message: "no" }), JSON_TYPE),
    ).to.not.deep.equal([]);
    const notAnObject = { error: { code: "NOT_FOUND", message: "no", details: "party p_1" } };
    expect(contractViolations("GET", "/v1/parties/p_1", answer(404, notAnObject), JSON_TYPE)[0]).to.match(
      /^error\.details: /,
    );
  });

  it("accepts a text answer only in a content type the route declares", function () {
    const trace = `/v1/audit/receivables/0x${"ab".repeat(32)}/trace?format=dot`;
    expect(
      contractViolations("GET", trace, answer(200, "digraph {}"), "text/vnd.graphviz; charset=utf-8"),
    ).to.deep.equal([]);
    expect(contractViolations("GET", trace, answer(200, "<html>"), "text/html")[0]).to.match(/as text\/html/);
    expect(contractViolations("GET", "/v1/parties/p_1", answer(200, "ok"), "text/plain")[0]).to.match(/as text\/plain/);
  });

  it("answers a path no route serves only with 404 and the envelope", function () {
    expect(contractViolations("GET", "/v1/nowhere", answer(404, refusal("ROUTE_NOT_FOUND")), JSON_TYPE)).to.deep.equal(
      [],
    );
    expect(contractViolations("GET", "/v1/nowhere", answer(200, {}), JSON_TYPE)[0]).to.match(/no route answers/);
  });
});

describe("API: the OpenAPI document lists every refusal a route can give", function () {
  const doc = JSON.parse(JSON.stringify(buildOpenApiDocument(allRoutes(), "http://127.0.0.1:0"))) as {
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  };
  const responsesOf = (method: string, path: string) =>
    Object.keys(doc.paths[path.replace(/:([A-Za-z]+)/g, "{$1}")]![method]!.responses);

  it("documents 401 and 403 (suspended party) on every route that needs a key", function () {
    for (const route of allRoutes().filter((r) => r.auth)) {
      expect(responsesOf(route.method, route.path), `${route.method} ${route.path}`).to.include.members(["401", "403"]);
    }
  });

  it("documents the Idempotency-Key refusals (400, 409, 422) on every idempotent route", function () {
    const idempotent = allRoutes().filter((r) => r.idempotent);
    expect(idempotent.length).to.be.greaterThanOrEqual(10);
    for (const route of idempotent) {
      expect(responsesOf(route.method, route.path), `${route.method} ${route.path}`).to.include.members([
        "400",
        "409",
        "422",
      ]);
    }
    // POST /v1/parties answers a reused key with 422 IDEMPOTENCY_KEY_REUSED; it used to document no 422.
    expect(errorStatusesOf(routeFor("POST", "/v1/parties")!)).to.include(422);
  });

  it("documents 400 on every route that parses params, a query or a body", function () {
    for (const route of allRoutes().filter((r) => r.params || r.query || r.method === "post")) {
      expect(responsesOf(route.method, route.path), `${route.method} ${route.path}`).to.include("400");
    }
    // GET /v1/parties/:id refuses an id over 80 characters with 400; it used to document no 400.
    expect(responsesOf("get", "/v1/parties/:id")).to.include("400");
  });

  it("documents a JSON schema for every success answer", function () {
    for (const route of allRoutes()) {
      for (const [status, response] of Object.entries(route.responses)) {
        expect(response.schema, `${route.method} ${route.path} ${status}`).to.not.equal(undefined);
      }
    }
  });
});
