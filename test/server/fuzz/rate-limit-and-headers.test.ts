// The API's limits on one client and the headers on every answer: with
// TIERLINE_RATE_LIMIT_PER_MINUTE=20, the 21st request of the minute is refused with 429
// RATE_LIMITED and the RateLimit headers (IETF draft 8) say how many are left and when the
// window resets; helmet's security headers are on every API answer, refusals included.
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

describe(`API limits: ${LIMIT} requests a minute, and security headers on every answer`, function () {
  this.timeout(60_000);
  let t: TestService;
  const responses: Array<{ what: string; response: RawResponse }> = [];
  const request = async (what: string, path: string, init: Parameters<typeof rawRequest>[2] = { method: "GET" }) => {
    const response = await rawRequest(t.baseUrl, path, init);
    responses.push({ what, response });
    return response;
  };

  before(async function () {
    t = await startTestService({ TIERLINE_RATE_LIMIT_PER_MINUTE: String(LIMIT), TIERLINE_KEEPER: "false" });
    expect(t.service.ctx.config.TIERLINE_RATE_LIMIT_PER_MINUTE).to.equal(LIMIT);
  });
  after(async function () {
    await t?.close();
  });

  describe("when one client sends 20 requests in a minute", function () {
    it("answers them all, counting down the RateLimit header from 19 to 0 under a 20-a-minute policy", async function () {
      // A mix of what a client sends: health, a read with the operator's key, refusals (no key, a bad body).
      const mix = [
        () => request("health", "/health"),
        () => request("a read", "/v1/parties/pty_nobody", { method: "GET", apiKey: t.operatorKey }),
        () => request("no key", "/v1/receivables", { body: "{}", headers: { "content-type": "application/json" } }),
        () =>
          request("a bad body", "/v1/parties", {
            body: '{"name":',
            headers: { "content-type": "application/json" },
            apiKey: t.operatorKey,
          }),
      ];
      for (let i = 0; i < LIMIT; i++) {
        const response = await mix[i % mix.length]!();
        expect(response.status, `request ${i + 1}: ${response.text}`).not.to.equal(429);
        const policy = rateLimitFields(response.headers["ratelimit-policy"]);
        expect(policy.q, `request ${i + 1}`).to.equal(String(LIMIT));
        expect(policy.w).to.equal("60");
        const state = rateLimitFields(response.headers["ratelimit"]);
        expect(state.r, `request ${i + 1}`).to.equal(String(LIMIT - 1 - i));
        expect(Number(state.t)).to.be.within(1, 60);
      }
    });

    it("refuses the 21st with 429 RATE_LIMITED in the error shape, RateLimit r=0 and a Retry-After", async function () {
      const response = await request("request 21", "/health");
      expectRefusal(response, "request 21", { status: 429, code: "RATE_LIMITED" });
      expect(rateLimitFields(response.headers["ratelimit"]).r).to.equal("0");
      expect(rateLimitFields(response.headers["ratelimit-policy"]).q).to.equal(String(LIMIT));
      expect(Number(response.headers["retry-after"])).to.be.within(1, 60);
    });

    it("refuses every route with 429 before it authenticates or reads the body: a valid key, no key, an oversized body", async function () {
      const cases: Array<[string, string, Parameters<typeof rawRequest>[2]]> = [
        ["a valid key", "/v1/parties/pty_nobody", { method: "GET", apiKey: t.operatorKey }],
        ["no key", "/v1/receivables", { body: "{}", headers: { "content-type": "application/json" } }],
        [
          "an oversized body",
          "/v1/receivables",
          { body: "x".repeat(1024 * 1024 + 1), headers: { "content-type": "application/json" }, apiKey: t.operatorKey },
        ],
        ["the OpenAPI document", "/openapi.json", { method: "GET" }],
      ];
      for (const [what, path, init] of cases) {
        const response = await request(what, path, init);
        expectRefusal(response, what, { status: 429, code: "RATE_LIMITED" });
      }
    });
  });

  describe("when any answer goes out", function () {
    it("carries helmet's headers, and no X-Powered-By, on 200s, 4xx refusals and 429s alike", async function () {
      const statuses = new Set(responses.map(({ response }) => response.status));
      expect([...statuses].sort()).to.include.members([200, 400, 401, 404, 429]);
      for (const { what, response } of responses) expectSecurityHeaders(response, `${what} (${response.status})`);
    });
  });
});
