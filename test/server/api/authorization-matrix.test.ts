// Who may call what, as one table: a row for every route the app serves (allRoutes(), so a
// new route fails the first test until it has its row). Each row names a real target and a
// real body, the callers refused with 403 FORBIDDEN and the callers a read answers with 200.
// Every guarded route is also called without a key, with wrong keys and with a suspended
// party's key. Nothing a refused request touches changes, off-chain or on-chain. A supplier
// never reads another supplier's documents; the debtor and the auditor do.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient, type ApiResponse } from "../client.js";
import { createMatrixCast, createTestParty, MATRIX_CAST, validSubmission, type TestParty } from "../scenario.js";
import { allRoutes } from "../../../server/api/app.js";
import type { RouteSpec } from "../../../server/api/route-spec.js";
import { expectSameState, stateOf, type StateSnapshot } from "../fuzz/refusals.js";

type Caller = "operator" | "seller" | "debtor" | "financier" | "auditor" | "tier2Holder" | "outsider";
const CALLERS: Caller[] = ["operator", "seller", "debtor", "financier", "auditor", "tier2Holder", "outsider"];
const allBut = (...allowed: Caller[]): Caller[] => CALLERS.filter((caller) => !allowed.includes(caller));

interface World {
  keys: Record<Caller, string>;
  parties: Record<Exclude<Caller, "operator">, TestParty>;
  /** seller -> debtor, registered; the root split: tier2Holder 60M, seller 30M (live), seller 10M (in an open request). */
  receivable: string;
  submission: ReturnType<typeof validSubmission>;
  sellerPiece: string;
  /** Held by tier2Holder. */
  tier2Piece: string;
  openRequest: string;
  /** Opened on sellerPiece and withdrawn: only its holder and those who see the whole book may read it. */
  cancelledRequest: string;
  /** seller -> debtor, awaiting the debtor's confirmation. */
  pendingReceivable: string;
  /** seller -> a debtor related to the seller: held for review. */
  heldReceivable: string;
  /** outsider -> debtor, awaiting confirmation. */
  outsiderReceivable: string;
}

interface RouteCase {
  url: (w: World) => string;
  body?: (w: World) => unknown;
  /** Callers refused with 403 FORBIDDEN. */
  forbidden: Caller[];
  /** Callers answered with 200: read routes, and POST routes that only read (the stress run). Write routes are exercised by their own files. */
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
  // Health
  "get /health": { url: () => "/health", forbidden: [], reads: CALLERS },
  "get /health/live": { url: () => "/health/live", forbidden: [], reads: CALLERS },
  "get /health/ready": { url: () => "/health/ready", forbidden: [], reads: CALLERS },
  "get /metrics": { url: () => "/metrics", forbidden: [], reads: CALLERS },
  "get /v1/platform": { url: () => "/v1/platform", forbidden: [], reads: CALLERS },
  // Parties
  "post /v1/parties": { url: () => "/v1/parties", body: newParty, forbidden: allBut("operator") },
  "post /v1/operator/chain/advance-time": {
    url: () => "/v1/operator/chain/advance-time",
    body: () => ({ seconds: 1 }),
    forbidden: allBut("operator"),
  },
  "get /v1/parties": {
    url: () => "/v1/parties?limit=2",
    forbidden: allBut("operator", "auditor"),
    reads: ["operator", "auditor"],
  },
  "get /v1/me": { url: () => "/v1/me", forbidden: [], reads: CALLERS },
  // Aimed at the outsider (suspending it would be a change; these rows only check who is refused).
  "post /v1/parties/:id/suspend": {
    url: (w) => `/v1/parties/${w.parties.outsider.id}/suspend`,
    forbidden: allBut("operator"),
  },
  "post /v1/parties/:id/reactivate": {
    url: (w) => `/v1/parties/${w.parties.outsider.id}/reactivate`,
    forbidden: allBut("operator"),
  },
  "post /v1/parties/:id/test-funds": {
    url: (w) => `/v1/parties/${w.parties.debtor.id}/test-funds`,
    body: () => ({ amount: "1000000" }),
    forbidden: allBut("operator"),
  },
  "get /v1/me/held-payments": { url: () => "/v1/me/held-payments", forbidden: [], reads: CALLERS },
  "post /v1/me/held-payments/withdraw": { url: () => "/v1/me/held-payments/withdraw", body: () => ({}), forbidden: [] },
  "get /v1/parties/:id": { url: (w) => `/v1/parties/${w.parties.seller.id}`, forbidden: [], reads: CALLERS },
  "get /v1/parties/:id/certificates": {
    url: (w) => `/v1/parties/${w.parties.seller.id}/certificates`,
    forbidden: ["debtor", "financier", "tier2Holder", "outsider"],
    reads: ["seller", "operator", "auditor"],
  },
  // Receivables
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
  // Issue 18: a financier weighing the open request on it reads the receivable.
  "get /v1/receivables/:id": {
    url: (w) => `/v1/receivables/${w.receivable}`,
    forbidden: ["outsider"],
    reads: ["seller", "debtor", "operator", "auditor", "tier2Holder", "financier"],
  },
  // The registration's state: whoever may read the receivable.
  "get /v1/receivables/:id/registration": {
    url: (w) => `/v1/receivables/${w.receivable}/registration`,
    forbidden: ["outsider"],
    reads: ["seller", "debtor", "operator", "auditor", "tier2Holder", "financier"],
  },
  "get /v1/receivables/:id/confirmation": {
    url: (w) => `/v1/receivables/${w.pendingReceivable}/confirmation`,
    forbidden: allBut("debtor"),
    reads: ["debtor"],
  },
  "post /v1/receivables/:id/confirm": {
    url: (w) => `/v1/receivables/${w.pendingReceivable}/confirm`,
    body: () => ({}),
    forbidden: allBut("debtor"),
  },
  "post /v1/receivables/:id/review": {
    url: (w) => `/v1/receivables/${w.heldReceivable}/review`,
    body: () => ({ decision: "approve", note: "not mine to decide" }),
    forbidden: allBut("operator"),
  },
  // Certificates
  "get /v1/certificates/:id": {
    url: (w) => `/v1/certificates/${w.tier2Piece}`,
    forbidden: ["financier", "outsider"],
    reads: ["tier2Holder", "seller", "debtor", "operator", "auditor"],
  },
  "post /v1/certificates/:id/split": {
    url: (w) => `/v1/certificates/${w.tier2Piece}/split`,
    body: (w) => ({ parts: [{ toPartyId: w.parties.outsider.id, amount: "60000000" }] }),
    forbidden: allBut("tier2Holder"),
  },
  "post /v1/certificates/:id/transfer": {
    url: (w) => `/v1/certificates/${w.tier2Piece}/transfer`,
    body: (w) => ({ toPartyId: w.parties.outsider.id }),
    forbidden: allBut("tier2Holder"),
  },
  // Financing requests
  "post /v1/financing-requests": {
    url: () => "/v1/financing-requests",
    body: (w) => ({ certificateId: w.tier2Piece, kind: "discount", price: "1000000" }),
    forbidden: allBut("tier2Holder"),
  },
  "get /v1/financing-requests": { url: () => "/v1/financing-requests", forbidden: [], reads: CALLERS },
  // Issue 18: a financier sees open requests and those it funded, not the whole book.
  "get /v1/financing-requests/:id": {
    url: (w) => `/v1/financing-requests/${w.cancelledRequest}`,
    forbidden: ["debtor", "tier2Holder", "outsider", "financier"],
    reads: ["seller", "operator", "auditor"],
  },
  "post /v1/financing-requests/:id/cancel": {
    url: (w) => `/v1/financing-requests/${w.openRequest}/cancel`,
    body: () => ({}),
    forbidden: allBut("seller"),
  },
  "post /v1/financing-requests/:id/fund": {
    url: (w) => `/v1/financing-requests/${w.openRequest}/fund`,
    body: () => ({}),
    forbidden: allBut("financier"),
  },
  "post /v1/financing-requests/:id/repay-pledge": {
    url: (w) => `/v1/financing-requests/${w.openRequest}/repay-pledge`,
    body: () => ({}),
    forbidden: allBut("seller"),
  },
  // The open request has no pledgee yet: nobody may foreclose it.
  "post /v1/financing-requests/:id/foreclose": {
    url: (w) => `/v1/financing-requests/${w.openRequest}/foreclose`,
    body: () => ({}),
    forbidden: CALLERS,
  },
  // Repayments
  "post /v1/receivables/:id/repayments": {
    url: (w) => `/v1/receivables/${w.receivable}/repayments`,
    body: () => ({ amount: "1000000" }),
    forbidden: allBut("debtor"),
  },
  "get /v1/receivables/:id/repayments": {
    url: (w) => `/v1/receivables/${w.receivable}/repayments`,
    forbidden: ["financier", "outsider"],
    reads: ["seller", "debtor", "operator", "auditor", "tier2Holder"],
  },
  // Dilution (issue 16): the debtor disputes and proposes, the seller consents; the reads as repayments.
  "post /v1/receivables/:id/disputes": {
    url: (w) => `/v1/receivables/${w.receivable}/disputes`,
    body: () => ({ reasonCode: "RETURN", documentHash: `0x${"ab".repeat(32)}` }),
    forbidden: allBut("debtor"),
  },
  "post /v1/receivables/:id/disputes/withdraw": {
    url: (w) => `/v1/receivables/${w.receivable}/disputes/withdraw`,
    body: () => ({}),
    forbidden: allBut("debtor"),
  },
  "post /v1/receivables/:id/credit-notes": {
    url: (w) => `/v1/receivables/${w.receivable}/credit-notes`,
    body: () => ({
      amount: "1000000",
      reasonCode: "RETURN",
      documentHash: `0x${"cd".repeat(32)}`,
      lines: [{ sku: "SKU-1", quantity: 1 }],
    }),
    forbidden: allBut("debtor"),
  },
  "get /v1/receivables/:id/credit-notes": {
    url: (w) => `/v1/receivables/${w.receivable}/credit-notes`,
    forbidden: ["financier", "outsider"],
    reads: ["seller", "debtor", "operator", "auditor", "tier2Holder"],
  },
  // No credit note exists in this world: the role check refuses before the lookup would answer 404.
  "post /v1/credit-notes/:id/withdraw": {
    url: () => "/v1/credit-notes/1/withdraw",
    body: () => ({}),
    forbidden: allBut("debtor"),
  },
  "post /v1/credit-notes/:id/consent": {
    url: () => "/v1/credit-notes/1/consent",
    body: () => ({}),
    forbidden: ["operator", "debtor", "financier", "auditor"],
  },
  // The arbiter path (issue 16): the operator's review queue (the auditor reads it too) and
  // its recommendation; no credit note exists here, so the role check answers first.
  "get /v1/credit-notes": {
    url: () => "/v1/credit-notes?awaiting=arbiter",
    forbidden: allBut("operator", "auditor"),
    reads: ["operator", "auditor"],
  },
  "post /v1/credit-notes/:id/arbitration": {
    url: () => "/v1/credit-notes/1/arbitration",
    body: () => ({ decision: "approve", reason: "the seller did not answer" }),
    forbidden: allBut("operator"),
  },
  // The dispute review queue: the operator's, and the auditor reads it too.
  "get /v1/disputes": {
    url: () => "/v1/disputes?status=open",
    forbidden: allBut("operator", "auditor"),
    reads: ["operator", "auditor"],
  },
  // The arbiter's dismissal of a dispute: only the operator recommends it (no dispute is open here).
  "post /v1/receivables/:id/disputes/dismissal": {
    url: (w) => `/v1/receivables/${w.receivable}/disputes/dismissal`,
    body: () => ({ reason: "the debtor never backed its dispute" }),
    forbidden: allBut("operator"),
  },
  // Recourse (issue 16): only the holder endorses or claims on its piece; only a supplier or a
  // financier pays or escalates (no claim exists here: the role check refuses before the lookup).
  "post /v1/certificates/:id/recourse": {
    url: (w) => `/v1/certificates/${w.tier2Piece}/recourse`,
    body: () => ({}),
    forbidden: allBut("tier2Holder"),
  },
  "post /v1/certificates/:id/recourse-claims": {
    url: (w) => `/v1/certificates/${w.tier2Piece}/recourse-claims`,
    body: () => ({ kind: "default" }),
    forbidden: allBut("tier2Holder"),
  },
  "post /v1/recourse-claims/:id/pay": {
    url: () => "/v1/recourse-claims/1/pay",
    body: () => ({}),
    forbidden: ["operator", "debtor", "auditor"],
  },
  "post /v1/recourse-claims/:id/escalate": {
    url: () => "/v1/recourse-claims/1/escalate",
    body: () => ({}),
    forbidden: ["operator", "debtor", "auditor"],
  },
  "get /v1/recourse-claims": {
    url: (w) => `/v1/recourse-claims?partyId=${w.parties.seller.id}`,
    forbidden: ["debtor", "financier", "tier2Holder", "outsider"],
    reads: ["seller", "operator", "auditor"],
  },
  "post /v1/parties/:id/early-payment-rate": {
    url: (w) => `/v1/parties/${w.parties.debtor.id}/early-payment-rate`,
    body: () => ({ rateBps: 500 }),
    forbidden: allBut("operator"),
  },
  // Audit
  // Issue 18: a holder and a financier weighing a request on it read their lineage path.
  "get /v1/audit/receivables/:id/trace": {
    url: (w) => `/v1/audit/receivables/${w.receivable}/trace`,
    forbidden: ["outsider"],
    reads: ["operator", "auditor", "seller", "debtor", "tier2Holder", "financier"],
  },
  "get /v1/audit/parties/:id/exposure": {
    url: (w) => `/v1/audit/parties/${w.parties.seller.id}/exposure`,
    forbidden: ["debtor", "financier", "tier2Holder", "outsider"],
    reads: ["seller", "operator", "auditor"],
  },
  // Its lists, page by page: the same callers as the report.
  ...Object.fromEntries(
    ["certificates", "receivables", "pledges", "purchases"].map((list) => [
      `get /v1/audit/parties/:id/exposure/${list}`,
      {
        url: (w: World) => `/v1/audit/parties/${w.parties.seller.id}/exposure/${list}?limit=1`,
        forbidden: ["debtor", "financier", "tier2Holder", "outsider"] as Caller[],
        reads: ["seller", "operator", "auditor"] as Caller[],
      },
    ]),
  ),
  "get /v1/audit/verify/:receivableId": {
    url: (w) => `/v1/audit/verify/${w.receivable}`,
    forbidden: allBut("operator", "auditor"),
    reads: ["operator", "auditor"],
  },
  // Webhooks: every party manages its own endpoints; another party's endpoint is 404 to it.
  "post /v1/webhooks/endpoints": { url: () => "/v1/webhooks/endpoints", body: () => ({ url: "nope" }), forbidden: [] },
  "get /v1/webhooks/endpoints": { url: () => "/v1/webhooks/endpoints", forbidden: [], reads: CALLERS },
  "delete /v1/webhooks/endpoints/:id": { url: () => "/v1/webhooks/endpoints/whe_none", forbidden: [] },
  "get /v1/webhooks/endpoints/:id/deliveries": {
    url: () => "/v1/webhooks/endpoints/whe_none/deliveries",
    forbidden: [],
  },
  "post /v1/webhooks/endpoints/:id/deliveries/:deliveryId/replay": {
    url: () => "/v1/webhooks/endpoints/whe_none/deliveries/1/replay",
    forbidden: [],
  },
  // Risk
  "get /v1/risk/parties/:id": {
    url: (w) => `/v1/risk/parties/${w.parties.seller.id}`,
    forbidden: ["debtor", "tier2Holder", "outsider"],
    reads: ["seller", "operator", "auditor", "financier"],
  },
  "get /v1/risk/alerts": {
    url: () => "/v1/risk/alerts",
    forbidden: allBut("operator", "auditor", "financier"),
    reads: ["operator", "auditor", "financier"],
  },
  "get /v1/risk/industries": {
    url: () => "/v1/risk/industries",
    forbidden: allBut("operator", "auditor", "financier"),
    reads: ["operator", "auditor", "financier"],
  },
  "post /v1/risk/industries/:industry": {
    url: () => "/v1/risk/industries/manufacturing",
    body: () => ({ index: 900, threshold: 100 }),
    forbidden: allBut("operator"),
  },
  "post /v1/risk/limits/:partyId": {
    url: (w) => `/v1/risk/limits/${w.parties.debtor.id}`,
    body: () => ({ kind: "debtor", limit: "1" }),
    forbidden: allBut("operator"),
  },
  "get /v1/financing-requests/:id/quote": {
    url: (w) => `/v1/financing-requests/${w.cancelledRequest}/quote`,
    forbidden: ["debtor", "tier2Holder", "outsider", "financier"],
    reads: ["seller", "operator", "auditor"],
  },
  "get /v1/certificates/:id/quote": {
    url: (w) => `/v1/certificates/${w.sellerPiece}/quote`,
    forbidden: ["debtor", "tier2Holder", "outsider"],
    reads: ["seller", "financier", "operator", "auditor"],
  },
  "get /v1/risk/network/hubs": {
    url: () => "/v1/risk/network/hubs",
    forbidden: allBut("operator", "auditor", "financier"),
    reads: ["operator", "auditor", "financier"],
  },
  "post /v1/risk/stress": {
    url: () => "/v1/risk/stress",
    body: (w) => ({ defaulted: [w.parties.debtor.id], recoveryRate: 0.5 }),
    forbidden: allBut("operator", "auditor", "financier"),
    reads: ["operator", "auditor", "financier"],
  },
};

describe("API: authentication and authorization on every route", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  const w = {} as World;
  let snapshotBefore: StateSnapshot;

  const call = (route: string, key: string | undefined, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const [method] = route.split(" ");
    const spec = MATRIX[route]!;
    const client = api.as(key);
    return method === "post"
      ? client.request("POST", spec.url(w), spec.body?.(w) ?? {}, headers)
      : client.request(method!.toUpperCase(), spec.url(w), undefined, headers);
  };
  const callAny = (route: RouteSpec, headers: Record<string, string>): Promise<ApiResponse> =>
    api.request(route.method.toUpperCase(), anyUrl(route), route.method === "post" ? {} : undefined, headers);

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    ({ parties: w.parties, keys: w.keys } = await createMatrixCast(operator, t.operatorKey));
    const seller = api.as(w.parties.seller.apiKey);

    w.submission = validSubmission(w.parties.debtor.id);
    w.receivable = (await seller.post("/v1/receivables", w.submission)).body.id;
    const confirmed = await api.as(w.parties.debtor.apiKey).post(`/v1/receivables/${w.receivable}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const split = await seller.post(`/v1/certificates/${confirmed.body.certificateId}/split`, {
      parts: [
        { toPartyId: w.parties.tier2Holder.id, amount: "60000000" },
        { toPartyId: w.parties.seller.id, amount: "30000000" },
        { toPartyId: w.parties.seller.id, amount: "10000000" },
      ],
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    const piece = (face: string) =>
      split.body.children.find((c: { faceValue: string }) => c.faceValue === face).id as string;
    w.tier2Piece = piece("60000000");
    w.sellerPiece = piece("30000000");

    const toCancel = await seller.post("/v1/financing-requests", {
      certificateId: w.sellerPiece,
      kind: "discount",
      price: "29000000",
    });
    expect(toCancel.status, JSON.stringify(toCancel.body)).to.equal(201);
    w.cancelledRequest = toCancel.body.id;
    expect((await seller.post(`/v1/financing-requests/${w.cancelledRequest}/cancel`)).status).to.equal(200);
    const open = await seller.post("/v1/financing-requests", {
      certificateId: piece("10000000"),
      kind: "discount",
      price: "9000000",
    });
    expect(open.status, JSON.stringify(open.body)).to.equal(201);
    w.openRequest = open.body.id;

    w.pendingReceivable = (await seller.post("/v1/receivables", validSubmission(w.parties.debtor.id))).body.id;
    const related = await createTestParty(operator, ["debtor"], { relatedPartyIds: [w.parties.seller.id] });
    const held = await seller.post("/v1/receivables", validSubmission(related.id));
    expect(held.body.status).to.equal("held_for_review");
    w.heldReceivable = held.body.id;

    const theirs = await api
      .as(w.parties.outsider.apiKey)
      .post("/v1/receivables", validSubmission(w.parties.debtor.id));
    expect(theirs.status, JSON.stringify(theirs.body)).to.equal(201);
    w.outsiderReceivable = theirs.body.id;
    snapshotBefore = await stateOf(t);
  });
  after(async function () {
    await t?.close();
  });

  it("has a row for every route the app serves, and no other", function () {
    const served = allRoutes().map(routeKey);
    expect(served.length).to.be.greaterThanOrEqual(22);
    expect(Object.keys(MATRIX).sort()).to.deep.equal([...served].sort());
  });

  it("leaves only the operations routes open: health, liveness, readiness, metrics, the platform", function () {
    expect(
      allRoutes()
        .filter((route) => !route.auth)
        .map((route) => route.path),
    ).to.deep.equal(["/health", "/health/live", "/health/ready", "/metrics", "/v1/platform"]);
  });

  describe("on every route the app serves, at any target", function () {
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
      const open: Record<string, (body: any) => void> = {
        "get /health": (body) => expect(body.status).to.equal("ok"),
        "get /health/live": (body) => expect(body.status).to.equal("alive"),
        "get /health/ready": (body) => expect(body.status).to.equal("ready"),
        "get /metrics": (body) => expect(body).to.include("tierline_http_requests_total"),
        "get /v1/platform": (body) => expect(body.settlement.decimals).to.equal(6),
      };
      if (open[route]) {
        it("answers without an API key", async function () {
          const response = await call(route, undefined);
          expect(response.status).to.equal(200);
          open[route]!(response.body);
        });
        return;
      }

      it("refuses a request without a key, with an unknown key and with a malformed Authorization header (401 UNAUTHENTICATED)", async function () {
        const headers: Array<Record<string, string>> = [
          {},
          { authorization: "Bearer tl_not-a-real-key" },
          { authorization: `Bearer ${w.keys.operator}x` },
          { authorization: `Basic ${w.keys.operator}` },
          { authorization: "Bearer" },
        ];
        for (const header of headers) {
          const response = await call(route, undefined, header);
          expect(response.status, `${JSON.stringify(header)}: ${JSON.stringify(response.body)}`).to.equal(401);
          expect(response.body.error.code).to.equal("UNAUTHENTICATED");
        }
      });

      it("refuses a suspended party, even one that may otherwise call it (403 PARTY_SUSPENDED)", async function () {
        const allowed = (CALLERS.filter((c) => c !== "operator" && !spec.forbidden.includes(c))[0] ??
          "outsider") as Exclude<Caller, "operator">;
        const { db } = t.service.ctx;
        await db.updateTable("parties").set({ status: "suspended" }).where("id", "=", w.parties[allowed].id).execute();
        try {
          const response = await call(route, w.keys[allowed]);
          expect(response.status, JSON.stringify(response.body)).to.equal(403);
          expect(response.body.error.code).to.equal("PARTY_SUSPENDED");
        } finally {
          await db.updateTable("parties").set({ status: "active" }).where("id", "=", w.parties[allowed].id).execute();
        }
      });

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
          expect(response.status, JSON.stringify(response.body).slice(0, 300)).to.equal(200);
        });
      }
    });
  }

  describe("when a caller without the role also sends an invalid request", function () {
    // The roles a write route needs, written out here rather than read from the routes: a caller
    // with none of them is refused 403 before its path, query or body is read, so a malformed
    // request never tells it more (VALIDATION_FAILED would describe the request's shape).
    const HOLDER = ["supplier", "financier"];
    const WRITE_ROLES: Record<string, string[]> = {
      "post /v1/parties": ["operator"],
      "post /v1/parties/:id/suspend": ["operator"],
      "post /v1/parties/:id/reactivate": ["operator"],
      "post /v1/parties/:id/test-funds": ["operator"],
      "post /v1/operator/chain/advance-time": ["operator"],
      "post /v1/receivables": ["supplier"],
      "post /v1/receivables/:id/confirm": ["debtor"],
      "post /v1/receivables/:id/decline": ["debtor"],
      "post /v1/receivables/:id/withdraw": ["supplier"],
      "post /v1/receivables/:id/review": ["operator"],
      "post /v1/certificates/:id/split": HOLDER,
      "post /v1/certificates/:id/transfer": HOLDER,
      "post /v1/financing-requests": HOLDER,
      "post /v1/financing-requests/:id/cancel": HOLDER,
      "post /v1/financing-requests/:id/fund": ["financier"],
      "post /v1/financing-requests/:id/repay-pledge": HOLDER,
      "post /v1/financing-requests/:id/foreclose": ["financier"],
      "post /v1/receivables/:id/repayments": ["debtor"],
      "post /v1/parties/:id/early-payment-rate": ["operator"],
      "post /v1/receivables/:id/disputes": ["debtor"],
      "post /v1/receivables/:id/disputes/withdraw": ["debtor"],
      "post /v1/receivables/:id/credit-notes": ["debtor"],
      "post /v1/credit-notes/:id/withdraw": ["debtor"],
      "post /v1/credit-notes/:id/consent": ["supplier"],
      "post /v1/credit-notes/:id/arbitration": ["operator"],
      "post /v1/receivables/:id/disputes/dismissal": ["operator"],
      "post /v1/certificates/:id/recourse": HOLDER,
      "post /v1/certificates/:id/recourse-claims": HOLDER,
      "post /v1/recourse-claims/:id/pay": HOLDER,
      "post /v1/recourse-claims/:id/escalate": HOLDER,
      "post /v1/risk/industries/:industry": ["operator"],
      "post /v1/risk/limits/:partyId": ["operator"],
      "post /v1/risk/stress": ["operator", "auditor", "financier"],
    };
    /** Write routes every party may call (its own webhooks, its own held payments). */
    const OPEN_TO_EVERY_ROLE = [
      "post /v1/me/held-payments/withdraw",
      "post /v1/webhooks/endpoints",
      "delete /v1/webhooks/endpoints/:id",
      "post /v1/webhooks/endpoints/:id/deliveries/:deliveryId/replay",
    ];
    const rolesOf = (caller: Caller): readonly string[] => (caller === "operator" ? ["operator"] : MATRIX_CAST[caller]);

    it("knows the roles of every write route", function () {
      const writes = allRoutes()
        .filter((route) => route.method !== "get")
        .map(routeKey);
      expect([...Object.keys(WRITE_ROLES), ...OPEN_TO_EVERY_ROLE].sort()).to.deep.equal(writes.sort());
    });

    it("refuses it with FORBIDDEN, not VALIDATION_FAILED, on every write route", async function () {
      let refused = 0;
      for (const route of allRoutes().filter((r) => WRITE_ROLES[routeKey(r)])) {
        const needed = WRITE_ROLES[routeKey(route)]!;
        for (const caller of CALLERS.filter((c) => !rolesOf(c).some((role) => needed.includes(role)))) {
          // A path id no route accepts ("x"), an unknown query and a body of the wrong shape.
          const response = await api
            .as(w.keys[caller])
            .request(route.method.toUpperCase(), `${anyUrl(route)}?limit=-1`, { parts: 42, nonsense: true });
          expect(response.status, `${routeKey(route)} as ${caller}: ${JSON.stringify(response.body)}`).to.equal(403);
          expect(response.body.error.code, `${routeKey(route)} as ${caller}`).to.equal("FORBIDDEN");
          refused++;
        }
      }
      expect(refused).to.be.greaterThan(100);
    });

    it("refuses the read-only routes' invalid requests from a caller without the role with FORBIDDEN too", async function () {
      const response = await api.as(w.keys.seller).get("/v1/risk/alerts?limit=-1&since=yesterday");
      expect(response.status, JSON.stringify(response.body)).to.equal(403);
      expect(response.body.error.code).to.equal("FORBIDDEN");
    });

    it("reads the request first for a caller that has the role: VALIDATION_FAILED before the owner is looked at", async function () {
      // The seller is a supplier, so it may split, but not this piece (the tier-2 holder's).
      const response = await api.as(w.keys.seller).post(`/v1/certificates/${w.tier2Piece}/split`, { parts: [] });
      expect(response.status, JSON.stringify(response.body)).to.equal(400);
      expect(response.body.error.code).to.equal("VALIDATION_FAILED");
    });
  });

  describe("when a supplier asks for another supplier's receivable", function () {
    const read = (caller: Caller, receivableId: string) =>
      api.as(w.keys[caller]).get(`/v1/receivables/${receivableId}`);

    it("refuses it, both ways, with FORBIDDEN and no documents in the answer", async function () {
      for (const [caller, receivableId] of [
        ["outsider", w.receivable],
        ["seller", w.outsiderReceivable],
        ["tier2Holder", w.outsiderReceivable],
      ] as const) {
        const response = await read(caller, receivableId);
        expect(response.status, `${caller}: ${JSON.stringify(response.body)}`).to.equal(403);
        expect(response.body.error.code).to.equal("FORBIDDEN");
        expect(JSON.stringify(response.body)).not.to.include(w.submission.invoice.number);
      }
    });

    it("refuses the trace and the repayments of it too", async function () {
      for (const url of [`/v1/audit/receivables/${w.receivable}/trace`, `/v1/receivables/${w.receivable}/repayments`]) {
        const response = await api.as(w.keys.outsider).get(url);
        expect(response.status, `${url}: ${JSON.stringify(response.body)}`).to.equal(403);
      }
    });

    it("shows a holder of a piece the receivable but not its documents", async function () {
      const response = await read("tier2Holder", w.receivable);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.id).to.equal(w.receivable);
      expect(response.body).not.to.have.property("documents");
    });

    it("shows the documents to the seller, the debtor, the auditor and the operator", async function () {
      for (const caller of ["seller", "debtor", "auditor", "operator"] as const) {
        const response = await read(caller, w.receivable);
        expect(response.status, `${caller}: ${JSON.stringify(response.body)}`).to.equal(200);
        expect(response.body.documents, caller).to.deep.equal(w.submission);
      }
      const theirs = await read("debtor", w.outsiderReceivable);
      expect(theirs.status).to.equal(200);
      expect(theirs.body.documents.invoice.number).to.be.a("string").and.not.equal(w.submission.invoice.number);
    });
  });

  describe("when a party browses the financing book", function () {
    // Issue 18: the open market is for financiers; a supplier's asks are not its competitors' business.
    it("shows a party its own requests, a financier the open market, the platform the whole book", async function () {
      const ids = async (caller: Caller) =>
        ((await api.as(w.keys[caller]).get("/v1/financing-requests")).body.requests as Array<{ id: string }>).map(
          (r) => r.id,
        );
      expect(await ids("outsider")).to.deep.equal([]);
      expect(await ids("debtor")).to.deep.equal([]);
      expect(await ids("seller")).to.deep.equal([w.cancelledRequest, w.openRequest]);
      expect(await ids("financier")).to.deep.equal([w.openRequest]);
      expect(await ids("auditor")).to.deep.equal([w.cancelledRequest, w.openRequest]);
    });
  });

  describe("after every refused request", function () {
    it("has changed nothing: rows, limits and industry indices, chain events, transactions, blocks and contract logs", async function () {
      expectSameState(await stateOf(t), snapshotBefore);
    });

    it("left the receivables awaiting confirmation and held for review as they were", async function () {
      const statuses = await t.service.ctx.db.selectFrom("receivables").select(["id", "status"]).execute();
      const byId = Object.fromEntries(statuses.map((r) => [r.id, r.status]));
      expect(byId[w.pendingReceivable]).to.equal("awaiting_confirmation");
      expect(byId[w.heldReceivable]).to.equal("held_for_review");
      expect(byId[w.outsiderReceivable]).to.equal("awaiting_confirmation");
    });

    it("left the requests, the certificates and the early-payment rate as they were on-chain", async function () {
      const { certificates, financing, registry } = t.service.ctx.chain.contracts;
      expect((await financing.getFunction("requestOf")(w.openRequest)).status).to.equal(1n); // Open
      expect((await financing.getFunction("requestOf")(w.cancelledRequest)).status).to.equal(2n); // Cancelled
      expect(await certificates.getFunction("ownerOf")(w.tier2Piece)).to.equal(w.parties.tier2Holder.address);
      expect(await certificates.getFunction("ownerOf")(w.sellerPiece)).to.equal(w.parties.seller.address);
      expect(await registry.getFunction("earlyPaymentRateOf")(w.parties.debtor.address)).to.equal(0n);
      const onChain = await registry.getFunction("receivableOf")(w.receivable);
      expect(onChain.repaidAmount).to.equal(0n);
    });
  });
});
