// The API's limits and the headers on every answer. Issue 18: requests without a known API
// key count per IP address (TIERLINE_RATE_LIMIT_PER_MINUTE), requests with one count per
// party (TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE), so parties behind one proxy do not share a
// budget and one abusive key is limited on its own. With both at 20, the 21st request of the
// minute in a bucket is refused with 429 RATE_LIMITED; the RateLimit headers (IETF draft 8)
// name the bucket's policy ("per-ip" or "per-key"), how many are left and when it resets;
// helmet's security headers are on every API answer, refusals included.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { expectRefusal, rawRequest, type RawResponse } from "./refusals.js";

const LIMIT = 20;

/** `"name"; r=19; t=60` -> { r: 19, t: 60 } */
function rateLimitFields(header: string | string[] | undefined): Record<string, string> {
  const text = Array.isArray(header) ? header.join(", ") : (header ?? "");
  return Object.fromEntries([...text.matchAll(/;\s*(\w+)=([^;,]+)/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

function expectSecurityHeaders(response: RawResponse, what: string): void {
  expect(response.headers["x-content-type-options"], what).to.equal("nosniff");
  expect(response.headers["x-frame-options"], what).to.equal("SAMEORIGIN");
  expect(response.headers["strict-transport-security"], what).to.match(/max-age=\d+/);
  expect(response.headers["content-security-policy"], what).to.include("default-src 'self'");
  expect(response.headers["content-security-policy"], what).to.include("frame-ancestors 'self'");
  expect(response.headers["cross-origin-opener-policy"], what).to.equal("same-origin");
  expect(response.headers["cross-origin-resource-policy"], what).to.equal("same-origin");
  expect(response.headers["referrer-policy"], what).to.equal("no-referrer");
  expect(response.headers["x-dns-prefetch-control"], what).to.equal("off");
  expect(response.headers["x-powered-by"], what).to.equal(undefined);
}

describe(`API limits: ${LIMIT} requests a minute per IP before authentication and per API key, and security headers on every answer`, function () {
  this.timeout(60_000);
  let t: TestService;
  let otherKey: string;
  const responses: Array<{ what: string; response: RawResponse }> = [];
  const request = async (what: string, path: string, init: Parameters<typeof rawRequest>[2] = { method: "GET" }) => {
    const response = await rawRequest(t.baseUrl, path, init);
    responses.push({ what, response });
    return response;
  };
  const expectBudget = (response: RawResponse, what: string, policyName: string, remaining: number) => {
    expect(response.status, `${what}: ${response.text}`).not.to.equal(429);
    const policy = rateLimitFields(response.headers["ratelimit-policy"]);
    expect(policy.q, what).to.equal(String(LIMIT));
    expect(policy.w).to.equal("60");
    expect(String(response.headers["ratelimit-policy"]), what).to.match(new RegExp(`^"${policyName}"`));
    const state = rateLimitFields(response.headers["ratelimit"]);
    expect(state.r, what).to.equal(String(remaining));
    expect(Number(state.t)).to.be.within(1, 60);
  };

  before(async function () {
    t = await startTestService({
      TIERLINE_RATE_LIMIT_PER_MINUTE: String(LIMIT),
      TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: String(LIMIT),
      TIERLINE_KEEPER: "false",
    });
    expect(t.service.ctx.config.TIERLINE_RATE_LIMIT_PER_MINUTE).to.equal(LIMIT);
    const created = await rawRequest(t.baseUrl, "/v1/parties", {
      body: JSON.stringify({
        name: "Second Key Ltd",
        registryId: "RL-SECOND-1",
        industry: "none",
        roles: ["supplier"],
      }),
      headers: { "content-type": "application/json" },
      apiKey: t.operatorKey,
    });
    expect(created.status, created.text).to.equal(201);
    otherKey = JSON.parse(created.text).apiKey;
  });
  after(async function () {
    await t?.close();
  });

  describe("when one client without a key sends 20 requests in a minute", function () {
    it("answers them all, counting down the per-IP RateLimit header from 19 to 0", async function () {
      // What a client sends before it has a key: health, the docs, a request without a key, an unknown key.
      const mix = [
        () => request("health", "/health"),
        () => request("the OpenAPI document", "/openapi.json"),
        () => request("no key", "/v1/receivables", { body: "{}", headers: { "content-type": "application/json" } }),
        () => request("an unknown key", "/v1/parties/pty_nobody", { method: "GET", apiKey: "tl_not-a-real-key" }),
      ];
      // The operator's key was used once in before(): that is its own bucket, not this one.
      for (let i = 0; i < LIMIT; i++)
        expectBudget(await mix[i % mix.length]!(), `request ${i + 1}`, "per-ip", LIMIT - 1 - i);
    });

    it("refuses the 21st with 429 RATE_LIMITED in the error shape, RateLimit r=0 and a Retry-After", async function () {
      const response = await request("request 21", "/health");
      expectRefusal(response, "request 21", { status: 429, code: "RATE_LIMITED" });
      expect(rateLimitFields(response.headers["ratelimit"]).r).to.equal("0");
      expect(rateLimitFields(response.headers["ratelimit-policy"]).q).to.equal(String(LIMIT));
      expect(Number(response.headers["retry-after"])).to.be.within(1, 60);
    });

    it("refuses every unauthenticated request with 429 before it reads the body: no key, an oversized body, the docs", async function () {
      const cases: Array<[string, string, Parameters<typeof rawRequest>[2]]> = [
        ["no key", "/v1/receivables", { body: "{}", headers: { "content-type": "application/json" } }],
        [
          "an oversized body",
          "/v1/receivables",
          { body: "x".repeat(1024 * 1024 + 1), headers: { "content-type": "application/json" } },
        ],
        ["the OpenAPI document", "/openapi.json", { method: "GET" }],
      ];
      for (const [what, path, init] of cases) {
        const response = await request(what, path, init);
        expectRefusal(response, what, { status: 429, code: "RATE_LIMITED" });
      }
    });

    it("still answers a party with a valid key from the same address: its key has its own budget", async function () {
      const response = await request("a valid key", "/v1/me", { method: "GET", apiKey: otherKey });
      expect(response.status, response.text).to.equal(200);
      expectBudget(response, "a valid key", "per-key", LIMIT - 1);
    });
  });

  describe("when one API key sends more than 20 requests in a minute", function () {
    it("counts them on the key, refuses its 21st before it authenticates or reads the body, and leaves another key alone", async function () {
      // otherKey has spent one request above.
      for (let i = 1; i < LIMIT; i++) {
        const response = await request(`key request ${i + 1}`, "/v1/me", { method: "GET", apiKey: otherKey });
        expectBudget(response, `key request ${i + 1}`, "per-key", LIMIT - 1 - i);
      }
      for (const [what, init] of [
        ["a read", { method: "GET", apiKey: otherKey }],
        [
          "an oversized body",
          { body: "x".repeat(1024 * 1024 + 1), headers: { "content-type": "application/json" }, apiKey: otherKey },
        ],
      ] as Array<[string, Parameters<typeof rawRequest>[2]]>) {
        const refused = await request(`the key's ${what}`, "/v1/receivables", init);
        expectRefusal(refused, what, { status: 429, code: "RATE_LIMITED" });
      }
      const operator = await request("the operator's key", "/v1/me", { method: "GET", apiKey: t.operatorKey });
      expect(operator.status, operator.text).to.equal(200);
      expectBudget(operator, "the operator's key", "per-key", LIMIT - 2);
    });
  });

  describe("when any answer goes out", function () {
    it("carries helmet's headers, and no X-Powered-By, on 200s, 4xx refusals and 429s alike", async function () {
      const statuses = new Set(responses.map(({ response }) => response.status));
      expect([...statuses].sort()).to.include.members([200, 401, 429]);
      for (const { what, response } of responses) expectSecurityHeaders(response, `${what} (${response.status})`);
    });
  });
});
