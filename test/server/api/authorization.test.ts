// Who may call what. Every route the app serves (allRoutes(), so a new route is covered
// the day it is added) is called without a key, with a wrong key and with a suspended
// party's key; the routes of parties, receivables and certificates are also called by each
// party that must not use them (a role matrix checked against those route groups).
// Nothing a refused request touches changes.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient, type ApiResponse } from "../client.js";
import { createMatrixCast, createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { allRoutes } from "../../../server/api/app.js";
import type { RouteSpec } from "../../../server/api/route-spec.js";
import { certificateRoutes } from "../../../server/api/routes/certificates.js";
import { healthRoutes } from "../../../server/api/routes/health.js";
import { partyRoutes } from "../../../server/api/routes/parties.js";
import { receivableRoutes } from "../../../server/api/routes/receivables.js";

type Caller = "operator" | "seller" | "debtor" | "financier" | "auditor" | "tier2Holder" | "outsider";
const CALLERS: Caller[] = ["operator", "seller", "debtor", "financier", "auditor", "tier2Holder", "outsider"];

interface World {
  keys: Record<Caller, string>;
  parties: Record<Exclude<Caller, "operator">, TestParty>;
  activeReceivable: string; // registered; root split into a piece for tier2Holder and one for the seller
  pendingReceivable: string; // awaiting the debtor's confirmation
  heldReceivable: string; // held for review
  tier2Certificate: string; // held by tier2Holder
}

interface RouteCase {
  url: (w: World) => string;
  body?: (w: World) => unknown;
  /** Callers refused with 403 FORBIDDEN. */
  forbidden: Caller[];
  /** Callers a read route answers with 200 (write routes are exercised by their own files). */
  reads?: Caller[];
}

const routeKey = (route: RouteSpec) => `${route.method} ${route.path}`;
/** Any value will do: the key is checked before the path parameters. */
const anyUrl = (route: RouteSpec) => route.path.replace(/:([A-Za-z]+)/g, "x");

const newParty = () => ({
  name: "Should Not Exist",
  registryId: "NEVER-CREATED-1",
  industry: "none",
  roles: ["supplier"],
});

const MATRIX: Record<string, RouteCase> = {
  "get /health": { url: () => "/health", forbidden: [], reads: CALLERS },
  "post /v1/parties": {
    url: () => "/v1/parties",
    body: newParty,
    forbidden: ["seller", "debtor", "financier", "auditor", "tier2Holder", "outsider"],
  },
  "get /v1/me": { url: () => "/v1/me", forbidden: [], reads: CALLERS },
  "get /v1/parties/:id": { url: (w) => `/v1/parties/${w.parties.seller.id}`, forbidden: [], reads: CALLERS },
  "get /v1/parties/:id/certificates": {
    url: (w) => `/v1/parties/${w.parties.seller.id}/certificates`,
    forbidden: ["debtor", "financier", "tier2Holder", "outsider"],
    reads: ["seller", "operator", "auditor"],
  },
  "post /v1/receivables": {
    url: () => "/v1/receivables",
    body: (w) => validSubmission(w.parties.debtor.id),
    forbidden: ["operator", "debtor", "financier", "auditor"],
  },
  "get /v1/receivables": {
    url: (w) => `/v1/receivables?partyId=${w.parties.seller.id}`,
    forbidden: ["debtor", "financier", "tier2Holder", "outsider"],
    reads: ["seller", "operator", "auditor"],
  },
  "get /v1/receivables/:id": {
    url: (w) => `/v1/receivables/${w.activeReceivable}`,
    forbidden: ["financier", "outsider"],
    reads: ["seller", "debtor", "operator", "auditor", "tier2Holder"],
  },
  "get /v1/receivables/:id/confirmation": {
    url: (w) => `/v1/receivables/${w.pendingReceivable}/confirmation`,
    forbidden: ["operator", "seller", "financier", "auditor", "tier2Holder", "outsider"],
    reads: ["debtor"],
  },
  "post /v1/receivables/:id/confirm": {
    url: (w) => `/v1/receivables/${w.pendingReceivable}/confirm`,
    body: () => ({}),
    forbidden: ["operator", "seller", "financier", "auditor", "tier2Holder", "outsider"],
  },
  "post /v1/receivables/:id/review": {
    url: (w) => `/v1/receivables/${w.heldReceivable}/review`,
    body: () => ({ decision: "approve", note: "not mine to decide" }),
    forbidden: ["seller", "debtor", "financier", "auditor", "tier2Holder", "outsider"],
  },
  "post /v1/receivables/:id/decline": {
    url: (w) => `/v1/receivables/${w.pendingReceivable}/decline`,
    body: () => ({ reason: "not mine to decline" }),
    forbidden: ["operator", "seller", "financier", "auditor", "tier2Holder", "outsider"],
  },
  "post /v1/receivables/:id/withdraw": {
    url: (w) => `/v1/receivables/${w.pendingReceivable}/withdraw`,
    body: () => ({ reason: "not mine to withdraw" }),
    forbidden: ["operator", "debtor", "financier", "auditor", "tier2Holder", "outsider"],
  },
  "get /v1/certificates/:id": {
    url: (w) => `/v1/certificates/${w.tier2Certificate}`,
    forbidden: ["financier", "outsider"],
    reads: ["tier2Holder", "seller", "debtor", "operator", "auditor"],
  },
  "post /v1/certificates/:id/split": {
    url: (w) => `/v1/certificates/${w.tier2Certificate}/split`,
    body: (w) => ({ parts: [{ toPartyId: w.parties.outsider.id, amount: "60000000" }] }),
    forbidden: ["operator", "seller", "debtor", "financier", "auditor", "outsider"],
  },
  "post /v1/certificates/:id/transfer": {
    url: (w) => `/v1/certificates/${w.tier2Certificate}/transfer`,
    body: (w) => ({ toPartyId: w.parties.outsider.id }),
    forbidden: ["operator", "seller", "debtor", "financier", "auditor", "outsider"],
  },
};

describe("API: authentication and authorization on every route", function () {
  this.timeout(60_000);
  let t: TestService;
  let api: ApiClient;
  const w = {} as World;
  let snapshotBefore: unknown;

  const snapshot = async () => {
    const db = t.service.ctx.db;
    return {
      parties: await db.selectFrom("parties").select(["id", "status", "roles"]).orderBy("id").execute(),
      receivables: await db
        .selectFrom("receivables")
        .select(["id", "status", "verification", "confirmation"])
        .orderBy("id")
        .execute(),
      certificates: await db.selectFrom("onchain_certificates").selectAll().orderBy("id").execute(),
      transactions: (await db.selectFrom("tx_journal").select("id").execute()).length,
      block: await t.service.ctx.chain.provider.getBlockNumber(),
    };
  };

  const call = (route: string, key: string | undefined, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const [method] = route.split(" ");
    const spec = MATRIX[route]!;
    const client = api.as(key);
    return method === "get"
      ? client.request("GET", spec.url(w), undefined, headers)
      : client.request("POST", spec.url(w), spec.body?.(w) ?? {}, headers);
  };
  const callAny = (route: RouteSpec, headers: Record<string, string>): Promise<ApiResponse> =>
    api.request(route.method.toUpperCase(), anyUrl(route), route.method === "get" ? undefined : {}, headers);

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    ({ parties: w.parties, keys: w.keys } = await createMatrixCast(operator, t.operatorKey));
    const seller = api.as(w.parties.seller.apiKey);
    const debtor = api.as(w.parties.debtor.apiKey);

    w.activeReceivable = (await seller.post("/v1/receivables", validSubmission(w.parties.debtor.id))).body.id;
    const confirmed = await debtor.post(`/v1/receivables/${w.activeReceivable}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const split = await seller.post(`/v1/certificates/${confirmed.body.certificateId}/split`, {
      parts: [
        { toPartyId: w.parties.tier2Holder.id, amount: "60000000" },
        { toPartyId: w.parties.seller.id, amount: "40000000" },
      ],
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    w.tier2Certificate = split.body.children[0].id;

    w.pendingReceivable = (await seller.post("/v1/receivables", validSubmission(w.parties.debtor.id))).body.id;
    const related = await createTestParty(operator, ["debtor"], { relatedPartyIds: [w.parties.seller.id] });
    const held = await seller.post("/v1/receivables", validSubmission(related.id));
    expect(held.body.status).to.equal("held_for_review");
    w.heldReceivable = held.body.id;
    snapshotBefore = await snapshot();
  });
  after(async function () {
    await t?.close();
  });

  it("has a role row for every route of health, parties, receivables and certificates, and no other", function () {
    const routes = [...healthRoutes, ...partyRoutes, ...receivableRoutes, ...certificateRoutes].map(routeKey);
    expect(Object.keys(MATRIX).sort()).to.deep.equal([...routes].sort());
    const served = allRoutes().map(routeKey);
    for (const route of routes) expect(served).to.include(route);
  });

  it("leaves only /health open", function () {
    expect(
      allRoutes()
        .filter((route) => !route.auth)
        .map((route) => route.path),
    ).to.deep.equal(["/health"]);
  });

  describe("on every route the app serves", function () {
    const guarded = () => allRoutes().filter((route) => route.auth);
    const expectAll = async (headers: (route: RouteSpec) => Record<string, string>, status: number, code: string) => {
      const routes = guarded();
      expect(routes.length).to.be.greaterThanOrEqual(11);
      for (const route of routes) {
        const response = await callAny(route, headers(route));
        expect(response.status, `${routeKey(route)}: ${JSON.stringify(response.body)}`).to.equal(status);
        expect(response.body.error.code, routeKey(route)).to.equal(code);
      }
    };

    it("refuses a request without an API key with UNAUTHENTICATED", async function () {
      await expectAll(() => ({}), 401, "UNAUTHENTICATED");
    });

    it("refuses an unknown API key and malformed Authorization headers with UNAUTHENTICATED", async function () {
      for (const header of [
        "Bearer tl_not-a-real-key",
        `Basic ${w.keys.operator}`,
        "Bearer",
        `Bearer ${w.keys.operator}x`,
        `Token ${w.keys.operator}`,
      ]) {
        await expectAll(() => ({ authorization: header }), 401, "UNAUTHENTICATED");
      }
    });

    it("refuses a suspended party's key with PARTY_SUSPENDED", async function () {
      const db = t.service.ctx.db;
      const suspended = w.parties.outsider;
      await db.updateTable("parties").set({ status: "suspended" }).where("id", "=", suspended.id).execute();
      try {
        await expectAll(() => ({ authorization: `Bearer ${suspended.apiKey}` }), 403, "PARTY_SUSPENDED");
      } finally {
        await db.updateTable("parties").set({ status: "active" }).where("id", "=", suspended.id).execute();
      }
    });
  });

  for (const [route, spec] of Object.entries(MATRIX)) {
    const [method, path] = route.split(" ");
    describe(`${method!.toUpperCase()} ${path}`, function () {
      if (route === "get /health") {
        it("answers without an API key", async function () {
          const response = await call(route, undefined);
          expect(response.status).to.equal(200);
          expect(response.body.status).to.equal("ok");
        });
        return;
      }

      for (const caller of spec.forbidden) {
        it(`refuses the ${caller} with FORBIDDEN`, async function () {
          const response = await call(route, w.keys[caller]);
          expect(response.status, JSON.stringify(response.body)).to.equal(403);
          expect(response.body.error.code).to.equal("FORBIDDEN");
        });
      }

      for (const caller of spec.reads ?? []) {
        it(`answers the ${caller}`, async function () {
          const response = await call(route, w.keys[caller]);
          expect(response.status, JSON.stringify(response.body)).to.equal(200);
        });
      }
    });
  }

  describe("after every refused request", function () {
    it("has changed nothing: parties, receivables, certificates, transactions and the chain are as before", async function () {
      expect(await snapshot()).to.deep.equal(snapshotBefore);
      const statuses = await t.service.ctx.db.selectFrom("receivables").select(["id", "status"]).execute();
      const byId = Object.fromEntries(statuses.map((r) => [r.id, r.status]));
      expect(byId[w.pendingReceivable]).to.equal("awaiting_confirmation");
      expect(byId[w.heldReceivable]).to.equal("held_for_review");
      expect(await t.service.ctx.chain.contracts.certificates.getFunction("ownerOf")(w.tier2Certificate)).to.equal(
        w.parties.tier2Holder.address,
      );
    });
  });
});
