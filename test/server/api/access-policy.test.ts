// The access policy, cell by cell: for every resource and every relation in
// ACCESS_POLICY (server/model/access-policy.ts), a party that stands in exactly that
// relation (checked against the service's own relation finder first) calls the route that
// serves the resource, and the answer is checked against the cell: whole, redacted (the
// named fields absent), or refused with the cell's status and stable code. The tests are
// generated from the table, so a changed cell changes its test.
//
// The world (all receivables seller S -> debtor D, 100.00 face):
//   R1: root1 split A 60 -> T2, B 30 -> S, C 10 -> S; T2 split A into A1 40 -> T3, A2 20 -> T4;
//       T3 asks 39 for A1 (open request Q1).
//   R2: root2 split P1 80 -> S, P2 20 -> T4; S pledges P1 to F2 for 50 (repay 55): Q2 pledged.
//   R3: root3 transferred whole by S to T2; T2 asks 95 for it (open request Q3).
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient, type ApiResponse } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import {
  ACCESS_POLICY,
  decide,
  RESOURCES,
  type Decision,
  type Relation,
  type Resource,
} from "../../../server/model/access-policy.js";
import { ReceivableRelations, relationsToParty } from "../../../server/store/access-relations.js";
import type { Actor } from "../../../server/model/actor.js";
import { findPartyByApiKeyHash } from "../../../server/store/parties-store.js";
import { hashApiKey } from "../../../server/domain/api-keys.js";

type Who = "S" | "D" | "T2" | "T3" | "T4" | "F1" | "F2" | "AU" | "OP" | "O";

interface World {
  keys: Record<Who, string>;
  parties: Record<Exclude<Who, "OP">, TestParty>;
  submissions: Record<"R1" | "R2" | "R3", ReturnType<typeof validSubmission>>;
  receivables: Record<"R1" | "R2" | "R3", string>;
  certs: Record<"root1" | "A" | "B" | "C" | "A1" | "A2" | "root2" | "P1" | "P2" | "root3", string>;
  requests: Record<"Q1" | "Q2" | "Q3", string>;
  prices: Record<"Q1" | "Q2" | "Q3", string>;
}

/** Whom to ask and about what, for one relation. */
interface Probe {
  who: Who;
  /** A receivable, certificate, financing request or party, by the world's names. */
  target: string;
}

const M = (units: number) => (BigInt(units) * 1_000_000n).toString();

/** The party-scoped resources' probes: the party S (or T3 for a financier weighing T3's request). */
const PARTY_PROBES: Record<string, Probe> = {
  self: { who: "S", target: "S" },
  evaluatingFinancier: { who: "F1", target: "T3" },
  fundingFinancier: { who: "F2", target: "S" },
  auditor: { who: "AU", target: "S" },
  operator: { who: "OP", target: "S" },
  other: { who: "O", target: "S" },
};
/** The receivable-scoped probes: who stands in exactly that relation to which receivable. */
const RECEIVABLE_PROBES: Record<string, Probe> = {
  seller: { who: "S", target: "R3" },
  debtor: { who: "D", target: "R1" },
  holder: { who: "T3", target: "R1" },
  lineageHolder: { who: "T2", target: "R1" },
  evaluatingFinancier: { who: "F1", target: "R1" },
  fundingFinancier: { who: "F2", target: "R2" },
  auditor: { who: "AU", target: "R1" },
  operator: { who: "OP", target: "R1" },
  other: { who: "O", target: "R1" },
};
const CERTIFICATE_PROBES: Record<string, Probe> = {
  seller: { who: "S", target: "root3" },
  debtor: { who: "D", target: "A1" },
  holder: { who: "T3", target: "A1" },
  lineageHolder: { who: "T2", target: "A1" },
  evaluatingFinancier: { who: "F1", target: "A1" },
  fundingFinancier: { who: "F2", target: "P1" },
  auditor: { who: "AU", target: "A1" },
  operator: { who: "OP", target: "A1" },
  // T4 holds A2, A1's sibling: a sibling is no relation at all.
  other: { who: "T4", target: "A1" },
};
const REQUEST_PROBES: Record<string, Probe> = {
  seller: { who: "S", target: "Q3" },
  debtor: { who: "D", target: "Q1" },
  holder: { who: "T3", target: "Q1" },
  lineageHolder: { who: "T2", target: "Q1" },
  evaluatingFinancier: { who: "F1", target: "Q1" },
  fundingFinancier: { who: "F2", target: "Q2" },
  auditor: { who: "AU", target: "Q1" },
  operator: { who: "OP", target: "Q1" },
  other: { who: "O", target: "Q1" },
};
const receivableOfRequest = { Q1: "R1", Q2: "R2", Q3: "R3" } as const;
const receivableOfCertificate = (name: string) =>
  name === "root3" ? "R3" : ["root2", "P1", "P2"].includes(name) ? "R2" : "R1";

/** The nodes of each caller's lineage path (the trace when the whole tree is not theirs). */
const PATHS: Record<string, Array<keyof World["certs"]>> = {
  T3: ["root1", "A", "A1"],
  T2: ["root1", "A", "A1", "A2"],
  F1: ["root1", "A", "A1"],
  F2: ["root2", "P1"],
};

const probeFor = (resource: Resource, relation: Relation): Probe => {
  const row = ACCESS_POLICY[resource];
  if (row.scope === "party") return PARTY_PROBES[relation]!;
  if (resource === "certificate") return CERTIFICATE_PROBES[relation]!;
  if (resource === "financingRequest" || resource === "financingPrice") return REQUEST_PROBES[relation]!;
  return RECEIVABLE_PROBES[relation]!;
};

function nodesOf(trace: {
  root: unknown;
}): Array<{ certificateId: string; financing: Array<{ requestId: string; price: string }> }> {
  const out: Array<{ certificateId: string; financing: Array<{ requestId: string; price: string }> }> = [];
  const walk = (node: any) => {
    out.push(node);
    for (const child of node.children) walk(child);
  };
  walk(trace.root);
  return out;
}

describe("Access policy: every cell of the table, called by a party in that relation", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  const w = {} as World;

  const as = (who: Who) => api.as(w.keys[who]);
  const ok = (response: ApiResponse, what: string) =>
    expect(response.status, `${what}: ${JSON.stringify(response.body).slice(0, 400)}`).to.equal(200);
  const expectDenied = (response: ApiResponse, decision: Decision, what: string) => {
    if (decision.access !== "denied") throw new Error("not a denied cell");
    expect(response.status, `${what}: ${JSON.stringify(response.body).slice(0, 400)}`).to.equal(decision.status);
    expect(response.body.error.code, what).to.equal(decision.code);
  };
  const actorOf = async (who: Who): Promise<Actor> =>
    (await findPartyByApiKeyHash(t.service.ctx.db, hashApiKey(w.keys[who])))!;
  const partyRef = (name: string) => w.parties[name as Exclude<Who, "OP">];

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    const parties = {
      S: await createTestParty(operator, ["supplier"]),
      D: await createTestParty(operator, ["debtor"]),
      T2: await createTestParty(operator, ["supplier"]),
      T3: await createTestParty(operator, ["supplier"]),
      T4: await createTestParty(operator, ["supplier"]),
      F1: await createTestParty(operator, ["financier"]),
      F2: await createTestParty(operator, ["financier"]),
      AU: await createTestParty(operator, ["auditor"]),
      O: await createTestParty(operator, ["supplier"]),
    };
    w.parties = parties;
    w.keys = {
      OP: t.operatorKey,
      ...Object.fromEntries(Object.entries(parties).map(([k, p]) => [k, p.apiKey])),
    } as Record<Who, string>;
    const { chain } = t.service.ctx;
    await chain.registrar.send(
      await chain.contracts.token.getFunction("mint").populateTransaction(parties.F2.address, BigInt(M(1_000))),
      { kind: "mint", ref: "test" },
    );

    const register = async (name: "R1" | "R2" | "R3") => {
      w.submissions = { ...w.submissions, [name]: validSubmission(parties.D.id) };
      const submitted = await as("S").post("/v1/receivables", w.submissions[name]);
      expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
      const confirmed = await as("D").post(`/v1/receivables/${submitted.body.id}/confirm`);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      w.receivables = { ...w.receivables, [name]: submitted.body.id };
      return confirmed.body.certificateId as string;
    };
    const split = async (who: Who, certificate: string, parts: Array<[Who, number]>) => {
      const response = await as(who).post(`/v1/certificates/${certificate}/split`, {
        parts: parts.map(([to, units]) => ({ toPartyId: partyRef(to).id, amount: M(units) })),
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      return (response.body.children as Array<{ id: string }>).map((c) => c.id);
    };
    const request = async (who: Who, body: Record<string, string>) => {
      const response = await as(who).post("/v1/financing-requests", body);
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      return response.body.id as string;
    };

    const root1 = await register("R1");
    const [A, B, C] = await split("S", root1, [
      ["T2", 60],
      ["S", 30],
      ["S", 10],
    ]);
    const [A1, A2] = await split("T2", A!, [
      ["T3", 40],
      ["T4", 20],
    ]);
    const root2 = await register("R2");
    const [P1, P2] = await split("S", root2, [
      ["S", 80],
      ["T4", 20],
    ]);
    const root3 = await register("R3");
    const moved = await as("S").post(`/v1/certificates/${root3}/transfer`, { toPartyId: parties.T2.id });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    w.certs = { root1, A: A!, B: B!, C: C!, A1: A1!, A2: A2!, root2, P1: P1!, P2: P2!, root3 };
    w.prices = { Q1: M(39), Q2: M(50), Q3: M(95) };
    const Q1 = await request("T3", { certificateId: A1!, kind: "discount", price: w.prices.Q1 });
    const Q2 = await request("S", { certificateId: P1!, kind: "pledge", price: w.prices.Q2, repayAmount: M(55) });
    const funded = await as("F2").post(`/v1/financing-requests/${Q2}/fund`);
    expect(funded.status, JSON.stringify(funded.body)).to.equal(200);
    const Q3 = await request("T2", { certificateId: root3, kind: "discount", price: w.prices.Q3 });
    w.requests = { Q1, Q2, Q3 };
  });
  after(async function () {
    await t?.close();
  });

  it("has a probe for every cell of the table", function () {
    for (const resource of RESOURCES)
      for (const relation of Object.keys(ACCESS_POLICY[resource].cells) as Relation[])
        expect(probeFor(resource, relation), `${resource} x ${relation}`).to.not.equal(undefined);
  });

  /** The caller's relations as the service finds them: the probe must stand in exactly one. */
  const relationsOf = async (resource: Resource, probe: Probe): Promise<Relation[]> => {
    const { db } = t.service.ctx;
    const actor = await actorOf(probe.who);
    const row = ACCESS_POLICY[resource];
    if (row.scope === "party") return [...(await relationsToParty(db, actor, partyRef(probe.target)))];
    if (resource === "certificate") {
      const tree = await ReceivableRelations.load(db, actor, w.receivables[receivableOfCertificate(probe.target)]);
      return [...tree.toCertificate(w.certs[probe.target as keyof World["certs"]])];
    }
    if (resource === "financingRequest" || resource === "financingPrice") {
      const q = probe.target as keyof World["requests"];
      const tree = await ReceivableRelations.load(db, actor, w.receivables[receivableOfRequest[q]]);
      const financing = tree.financing.find((f) => f.id === w.requests[q])!;
      return [...tree.toFinancing(financing)];
    }
    const tree = await ReceivableRelations.load(db, actor, w.receivables[probe.target as "R1" | "R2" | "R3"]);
    return [...tree.toReceivable()];
  };

  const checks: Record<
    Resource,
    (probe: Probe, decision: Decision, what: string, relation: Relation) => Promise<void>
  > = {
    async receivable(probe, decision, what) {
      const response = await as(probe.who).get(`/v1/receivables/${w.receivables[probe.target as "R1"]}`);
      if (decision.access === "denied") return expectDenied(response, decision, what);
      ok(response, what);
      expect(response.body.id).to.equal(w.receivables[probe.target as "R1"]);
      expect(response.body.faceValue).to.equal(M(100));
      if (decision.access === "redacted")
        for (const field of decision.hide) expect(response.body).not.to.have.property(field);
    },
    async documents(probe, decision, what, relation) {
      const name = probe.target as "R1";
      const response = await as(probe.who).get(`/v1/receivables/${w.receivables[name]}`);
      // Where the receivable itself is refused, so are its documents.
      if (decide("receivable", [relation]).access === "denied") return expectDenied(response, decision, what);
      ok(response, what);
      if (decision.access === "denied") return void expect(response.body, what).not.to.have.property("documents");
      if (decision.access === "whole")
        return void expect(response.body.documents, what).to.deep.equal(w.submissions[name]);
      // Redacted: quantities and totals stay, unit prices go.
      const documents = response.body.documents;
      expect(documents.invoice.total).to.equal(w.submissions[name].invoice.total);
      expect(documents.invoice.lines[0].quantity).to.equal(w.submissions[name].invoice.lines[0]!.quantity);
      expect(documents.invoice.lines[0], what).not.to.have.property("unitPrice");
      expect(documents.purchaseOrder.lines[0], what).not.to.have.property("unitPrice");
      expect(JSON.stringify(documents)).not.to.include('"unitPrice"');
    },
    async verificationReport(probe, decision, what) {
      const response = await as(probe.who).get(`/v1/receivables/${w.receivables[probe.target as "R1"]}`);
      if (decision.access === "denied") return expectDenied(response, decision, what);
      ok(response, what);
      expect(response.body.verification.outcome, what).to.equal("passed");
      expect(response.body.verification.results, what).to.be.an("array").that.is.not.empty;
    },
    async certificate(probe, decision, what) {
      const id = w.certs[probe.target as keyof World["certs"]];
      const response = await as(probe.who).get(`/v1/certificates/${id}`);
      if (decision.access === "denied") return expectDenied(response, decision, what);
      ok(response, what);
      expect(response.body.id).to.equal(id);
    },
    async tree(probe, decision, what) {
      const name = probe.target as "R1" | "R2" | "R3";
      const response = await as(probe.who).get(`/v1/audit/receivables/${w.receivables[name]}/trace`);
      const total = (
        await t.service.ctx.db
          .selectFrom("onchain_certificates")
          .select("id")
          .where("receivable_id", "=", w.receivables[name])
          .execute()
      ).length;
      if (decision.access === "denied") {
        // Not the tree: a refusal, or only the caller's path (the lineagePath row).
        if (response.status !== 200) return expectDenied(response, decision, what);
        expect(response.body.certificateCount, what).to.be.below(total);
        return;
      }
      ok(response, what);
      expect(response.body.certificateCount, what).to.equal(total);
      expect(nodesOf(response.body).length).to.equal(total);
      if (decision.access === "redacted") {
        // The seller of R3 sees the tree, not T2's ask on it.
        const requestIds = nodesOf(response.body).flatMap((n) => n.financing.map((f) => f.requestId));
        const events = (response.body.transactions as Array<{ events: Array<{ args: Record<string, unknown> }> }>)
          .flatMap((tx) => tx.events)
          .filter((e) => e.args.requestId !== undefined);
        const own = name === "R3" ? w.requests.Q3 : w.requests.Q1;
        expect(requestIds, what).not.to.include(own);
        expect(events, what).to.deep.equal([]);
      }
    },
    async lineagePath(probe, decision, what) {
      const name = probe.target as "R1" | "R2" | "R3";
      const response = await as(probe.who).get(`/v1/audit/receivables/${w.receivables[name]}/trace`);
      if (decision.access === "denied") return expectDenied(response, decision, what);
      ok(response, what);
      const ids = nodesOf(response.body).map((n) => n.certificateId);
      const path = PATHS[probe.who];
      if (decision.access === "redacted" && path) {
        expect(ids.sort(), what).to.deep.equal(path.map((c) => w.certs[c]).sort());
        expect(response.body.certificateCount).to.equal(path.length);
        const mentioned = JSON.stringify(response.body.transactions);
        for (const [cert, id] of Object.entries(w.certs))
          if (!path.includes(cert as keyof World["certs"]) && receivableOfCertificate(cert) === name)
            expect(mentioned, `${what}: ${cert}`).not.to.include(`"certificateId":"${id}"`);
      } else {
        // The trade parties, auditors and the operator: the path is inside the whole tree.
        expect(ids).to.include(w.certs[name === "R1" ? "A1" : name === "R2" ? "P1" : "root3"]);
      }
    },
    async financingRequest(probe, decision, what) {
      const q = probe.target as keyof World["requests"];
      const response = await as(probe.who).get(`/v1/financing-requests/${w.requests[q]}`);
      const book = await as(probe.who).get("/v1/financing-requests");
      ok(book, `${what} (the book)`);
      const listed = (book.body.requests as Array<{ id: string }>).map((r) => r.id);
      if (decision.access === "denied") {
        expect(listed, what).not.to.include(w.requests[q]);
        return expectDenied(response, decision, what);
      }
      ok(response, what);
      expect(response.body.price).to.equal(w.prices[q]);
      expect(listed, what).to.include(w.requests[q]);
    },
    async financingPrice(probe, decision, what) {
      const q = probe.target as keyof World["requests"];
      const response = await as(probe.who).get(`/v1/audit/receivables/${w.receivables[receivableOfRequest[q]]}/trace`);
      if (response.status !== 200) {
        expect(decision.access, what).to.equal("denied");
        return;
      }
      const entries = nodesOf(response.body).flatMap((n) => n.financing.filter((f) => f.requestId === w.requests[q]));
      const inEvents = JSON.stringify(response.body.transactions).includes(`"requestId":"${w.requests[q]}"`);
      if (decision.access === "denied") {
        expect(entries, what).to.deep.equal([]);
        expect(inEvents, what).to.equal(false);
      } else {
        expect(
          entries.map((e) => e.price),
          what,
        ).to.deep.equal([w.prices[q]]);
        expect(inEvents, what).to.equal(true);
      }
    },
    async repayment(probe, decision, what) {
      const response = await as(probe.who).get(`/v1/receivables/${w.receivables[probe.target as "R1"]}/repayments`);
      if (decision.access === "denied") return expectDenied(response, decision, what);
      ok(response, what);
    },
    async dilution(probe, decision, what) {
      const response = await as(probe.who).get(`/v1/receivables/${w.receivables[probe.target as "R1"]}/credit-notes`);
      if (decision.access === "denied") return expectDenied(response, decision, what);
      ok(response, what);
      expect(response.body.receivableId, what).to.equal(w.receivables[probe.target as "R1"]);
    },
    async exposure(probe, decision, what) {
      const report = `/v1/audit/parties/${partyRef(probe.target).id}/exposure`;
      const response = await as(probe.who).get(report);
      // A page of one of its lists is the same exposure, and the same decision.
      const page = await as(probe.who).get(`${report}/receivables`);
      if (decision.access === "denied") {
        expectDenied(page, decision, `${what} (a page of a list)`);
        return expectDenied(response, decision, what);
      }
      ok(response, what);
      ok(page, `${what} (a page of a list)`);
      const holdings = await as(probe.who).get(`/v1/parties/${partyRef(probe.target).id}/certificates`);
      ok(holdings, `${what} (holdings)`);
    },
    async riskView(probe, decision, what) {
      const response = await as(probe.who).get(`/v1/risk/parties/${partyRef(probe.target).id}`);
      if (decision.access === "denied") return expectDenied(response, decision, what);
      ok(response, what);
      expect(response.body.party.id).to.equal(partyRef(probe.target).id);
    },
    async partyProfile(probe, decision, what) {
      const response = await as(probe.who).get(`/v1/parties/${partyRef(probe.target).id}`);
      if (decision.access === "denied") return expectDenied(response, decision, what);
      ok(response, what);
      expect(response.body.id).to.equal(partyRef(probe.target).id);
    },
    async heldPayments(probe, decision, what) {
      // No route names another party's held payments: each caller is answered about itself.
      const response = await as(probe.who).get("/v1/me/held-payments");
      ok(response, what);
      const target = partyRef(probe.target).address.toLowerCase();
      if (decision.access === "denied") expect(response.body.address.toLowerCase(), what).to.not.equal(target);
      else expect(response.body.address.toLowerCase(), what).to.equal(target);
      expect(response.body.claimable, what).to.equal("0");
    },
  };

  for (const resource of RESOURCES) {
    describe(`${resource} (${ACCESS_POLICY[resource].routes.join(", ")})`, function () {
      for (const [relation, decision] of Object.entries(ACCESS_POLICY[resource].cells) as Array<[Relation, Decision]>) {
        const answer = decision.access === "denied" ? `${decision.status} ${decision.code}` : decision.access;
        it(`${relation}: ${answer}`, async function () {
          const probe = probeFor(resource, relation);
          const found = await relationsOf(resource, probe);
          expect(found.length ? found : ["other"], `${probe.who} -> ${probe.target}`).to.deep.equal([relation]);
          await checks[resource](
            probe,
            decision,
            `${resource} x ${relation} (${probe.who} -> ${probe.target})`,
            relation,
          );
        });
      }
    });
  }
});
