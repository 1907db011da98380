// Several replicas, one truth: two service processes (API only, no embedded chain of their
// own) over one PostgreSQL database (the test server, test/helpers/postgres.ts) and one
// anvil chain. What one writes the other serves; two of them racing on the same invoice,
// purchase order or certificate give exactly one winner; the registrar's nonces never
// collide; one of them leads (keeper, indexer poll, risk monitor, webhook deliveries: each
// event reaches an endpoint once though both write outbox rows), and when the leader is
// killed by SIGKILL in the middle of a settlement, the other takes over and pays every
// leaf exactly once.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import pg from "pg";
import { freshDatabaseUrl } from "../helpers/postgres.js";
import { freePort } from "../../scripts/chain/local-service.js";
import { validSubmission } from "../server/scenario.js";
import { ApiClient, type ApiResponse } from "../server/client.js";
import { FaultWorld, eventually, sleep, type CastRole, type ChildService } from "./child-service.js";
import { registerReceivable, registrationsOnChain, splitBody, splitsOnChain, type Part } from "./flows.js";

const FACE = 100_000_000n;
const HOLDERS: CastRole[] = ["tier1", "tier2", "tier3"];

describe("Replicas: two service processes over one PostgreSQL database and one chain", function () {
  this.timeout(300_000);
  let world: FaultWorld;
  let first: ChildService;
  let second: ChildService;
  let secondDataDir: string;
  let databaseUrl: string;

  const on = (replica: ChildService, role: CastRole): ApiClient =>
    new ApiClient(() => replica.baseUrl).as(world.party(role).apiKey);
  const health = async (replica: ChildService) => (await new ApiClient(() => replica.baseUrl).get("/health")).body;
  const statuses = (responses: ApiResponse[]) => responses.map((r) => r.status).sort();

  before(async function () {
    // One database, one master key (the custodial parties' keys are encrypted under it) and one
    // set of hot operator keys for both: replicas have data directories of their own, so keys
    // generated into one would not be the other's.
    databaseUrl = await freshDatabaseUrl();
    const key = () => `0x${randomBytes(32).toString("hex")}`;
    const shared = {
      TIERLINE_DATABASE_URL: databaseUrl,
      TIERLINE_MASTER_KEY: key(),
      TIERLINE_REGISTRAR_KEY: key(),
      TIERLINE_KEEPER_KEY: key(),
      TIERLINE_PARTY_MANAGER_KEY: key(),
      TIERLINE_ATTESTER_KEY: key(),
      TIERLINE_LEADER_INTERVAL_MS: "200",
      TIERLINE_WEBHOOK_INTERVAL_MS: "100",
      // The 60-leaf case splits a 7.00 piece into 0.24 pieces: below the default minimum piece size (1.00).
      TIERLINE_MIN_PIECE_SIZE: "1",
    };
    world = await FaultWorld.create(shared);
    first = world.child!;
    // The second replica, with a data directory of its own. Its keeper is armed to die between
    // two settle batches: it only settles once it leads (see the last describe).
    secondDataDir = mkdtempSync(path.join(tmpdir(), "tierline-replica-"));
    second = await world.spawnService({ dataDir: secondDataDir, crashAt: "keeper:between-batches" });
  });
  after(async function () {
    if (second && second.process.exitCode === null && second.process.signalCode === null) {
      second.process.kill("SIGKILL");
      await second.exited;
    }
    await world?.close();
    if (secondDataDir) rmSync(secondDataDir, { recursive: true, force: true });
  });

  it("runs both on PostgreSQL, with exactly one leader: the first started", async function () {
    const [a, b] = [await health(first), await health(second)];
    expect([a.database, b.database]).to.deep.equal([
      { ok: true, engine: "postgres" },
      { ok: true, engine: "postgres" },
    ]);
    expect([a.replica.leader, b.replica.leader]).to.deep.equal([true, false]);
    expect(a.replica.instanceId).to.not.equal(b.replica.instanceId);
  });

  it("answers readiness and metrics on each replica for itself: both ready, only the leader runs the keeper", async function () {
    const probe = new ApiClient(() => first.baseUrl);
    const [a, b] = [await probe.get("/health/ready"), await new ApiClient(() => second.baseUrl).get("/health/ready")];
    expect([a.status, b.status]).to.deep.equal([200, 200]);
    expect([a.body.replica.leader, b.body.replica.leader]).to.deep.equal([true, false]);
    expect(b.body.keeper.enabled, "a follower runs no keeper").to.equal(false);
    // The index cursor is shared: both read the same one.
    expect(b.body.indexer.indexedBlock).to.be.at.least(0);
    const leaderGauge = async (replica: ChildService) => {
      const text = await (await fetch(`${replica.baseUrl}/metrics`)).text();
      return Number(/^tierline_replica_leader (\S+)$/m.exec(text)?.[1]);
    };
    expect([await leaderGauge(first), await leaderGauge(second)]).to.deep.equal([1, 0]);
  });

  it("serves one dataset: what one replica writes, the other reads", async function () {
    const submitted = await on(first, "tier1").post("/v1/receivables", validSubmission(world.party("debtor").id));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    const id = submitted.body.id as string;
    expect((await on(second, "tier1").get(`/v1/receivables/${id}`)).body).to.deep.equal(
      (await on(first, "tier1").get(`/v1/receivables/${id}`)).body,
    );
    const confirmed = await on(second, "debtor").post(`/v1/receivables/${id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const root = confirmed.body.certificateId as string;
    const split = await on(first, "tier1").post(
      `/v1/certificates/${root}/split`,
      splitBody(world, [
        { to: "tier2", amount: 30_000_000n },
        { to: "tier1", amount: 70_000_000n },
      ]),
    );
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    const childId = split.body.children[0].id as string;
    const seenBySecond = await on(second, "tier2").get(`/v1/certificates/${childId}`);
    expect({ holder: seenBySecond.body.holderPartyId, face: seenBySecond.body.faceValue }).to.deep.equal({
      holder: world.party("tier2").id,
      face: "30000000",
    });
  });

  it("shares Idempotency-Keys: a retry on the other replica gets the first answer, not a second execution", async function () {
    const body = validSubmission(world.party("debtor").id);
    const headers = { "idempotency-key": `replicas-${randomBytes(6).toString("hex")}` };
    const firstAnswer = await on(first, "tier1").post("/v1/receivables", body, headers);
    const retry = await on(second, "tier1").post("/v1/receivables", body, headers);
    expect(firstAnswer.status).to.equal(201);
    expect(retry.status).to.equal(201);
    expect(retry.headers.get("idempotent-replayed")).to.equal("true");
    expect(retry.body).to.deep.equal(firstAnswer.body);
  });

  it("delivers each webhook event exactly once when the changes are made on both replicas", async function () {
    const received: string[] = [];
    const port = await freePort();
    const receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received.push(String(req.headers["webhook-id"]));
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, "127.0.0.1", resolve));
    try {
      const endpoint = await on(second, "debtor").post("/v1/webhooks/endpoints", {
        url: `http://127.0.0.1:${port}/hook`,
        eventTypes: ["receivable.submitted"],
      });
      expect(endpoint.status, JSON.stringify(endpoint.body)).to.equal(201);
      for (const replica of [first, second, first, second]) {
        // tier2 sells here: tier1's submissions on the debtor are counted by the brushing rule below.
        const submitted = await on(replica, "tier2").post("/v1/receivables", validSubmission(world.party("debtor").id));
        expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
      }
      const delivered = await eventually("four deliveries recorded as delivered", async () => {
        const log = await on(first, "debtor").get(`/v1/webhooks/endpoints/${endpoint.body.id}/deliveries`);
        const items = log.body.items as Array<{ eventId: string; state: string; attempts: number }>;
        return items.length === 4 && items.every((d) => d.state === "delivered") ? items : undefined;
      });
      await sleep(1_000); // ten passes of each replica's dispatcher: a second send would be here by now
      expect(received.slice().sort()).to.deep.equal(delivered.map((d) => d.eventId).sort());
      expect(delivered.map((d) => d.attempts)).to.deep.equal([1, 1, 1, 1]);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it("lets exactly one of two replicas register the same invoice, three times over", async function () {
    for (let round = 0; round < 3; round++) {
      const invoiceNumber = `INV-RACE-${randomBytes(4).toString("hex")}`;
      // The same invoice number with documents of its own on each replica.
      const answers = await Promise.all(
        [first, second].map((replica) =>
          on(replica, "tier1").post("/v1/receivables", validSubmission(world.party("debtor").id, { invoiceNumber })),
        ),
      );
      expect(statuses(answers), JSON.stringify(answers.map((a) => a.body))).to.deep.equal([201, 409]);
      expect(answers.find((a) => a.status === 409)!.body.error.code).to.equal("DUPLICATE_RECEIVABLE");
    }
  });

  it("lets exactly one of two invoices on one purchase order through when they arrive at both replicas at once", async function () {
    const poNumber = `PO-RACE-${randomBytes(4).toString("hex")}`;
    // Each invoices the whole order: only one of them fits.
    const answers = await Promise.all(
      [first, second].map((replica) =>
        on(replica, "tier1").post("/v1/receivables", validSubmission(world.party("debtor").id, { poNumber })),
      ),
    );
    expect(statuses(answers), JSON.stringify(answers.map((a) => a.body))).to.deep.equal([201, 422]);
    const refused = answers.find((a) => a.status === 422)!.body.error;
    expect(refused.code).to.equal("VERIFICATION_FAILED");
    expect(refused.details.rules.map((r: { code: string }) => r.code)).to.include("PO_CAPACITY_EXCEEDED");
  });

  it("lets exactly one of two replicas split the same certificate", async function () {
    const { rootId } = await registerReceivable(world, "tier1", "debtor");
    const parts = (to: CastRole): Part[] => [
      { to, amount: 50_000_000n },
      { to: "tier1", amount: 50_000_000n },
    ];
    const answers = await Promise.all([
      on(first, "tier1").post(`/v1/certificates/${rootId}/split`, splitBody(world, parts("tier2"))),
      on(second, "tier1").post(`/v1/certificates/${rootId}/split`, splitBody(world, parts("tier3"))),
    ]);
    expect(statuses(answers)[0], JSON.stringify(answers.map((a) => a.body))).to.equal(200);
    expect(statuses(answers)[1]).to.be.within(400, 499);
    expect(await splitsOnChain(world, rootId)).to.have.length(1);
  });

  it("registers once when the debtor confirms the same receivable on both replicas at once", async function () {
    const submitted = await on(first, "tier1").post("/v1/receivables", validSubmission(world.party("debtor").id));
    const id = submitted.body.id as string;
    const answers = await Promise.all(
      [first, second].map((replica) => on(replica, "debtor").post(`/v1/receivables/${id}/confirm`)),
    );
    expect(statuses(answers), JSON.stringify(answers.map((a) => a.body))).to.deep.equal([200, 200]);
    expect(answers[0]!.body.certificateId).to.equal(answers[1]!.body.certificateId);
    expect(await registrationsOnChain(world, id)).to.equal(1);
  });

  it("sends the one registrar key's transactions from both replicas at once without a nonce collision", async function () {
    // Two trading pairs, so no pair trades often enough to look like brushing (a fraud signal).
    const pairs: Array<[CastRole, CastRole]> = [
      ["tier2", "tier1"],
      ["tier3", "tier2"],
    ];
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const [seller, debtor] = pairs[i % 2]!;
      const submitted = await on(i % 2 ? second : first, seller).post(
        "/v1/receivables",
        validSubmission(world.party(debtor).id),
      );
      expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
      expect(submitted.body.status).to.equal("awaiting_confirmation");
      ids.push(submitted.body.id as string);
    }
    const answers = await Promise.all(
      ids.map((id, i) => on(i % 2 ? first : second, pairs[i % 2]![1]).post(`/v1/receivables/${id}/confirm`)),
    );
    expect(
      answers.map((a) => a.status),
      JSON.stringify(answers.map((a) => a.body)),
    ).to.deep.equal(ids.map(() => 200));
    for (const id of ids) expect(await registrationsOnChain(world, id)).to.equal(1);
  });

  it("comes back when PostgreSQL drops every connection of both replicas: one leader again, writes served by both", async function () {
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        "select pg_terminate_backend(pid) as done from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
      );
      expect(rows.length).to.be.greaterThan(2); // each replica's pools and its leadership connection
    } finally {
      await admin.end();
    }
    const leaders = await eventually("exactly one leader among two healthy replicas", async () => {
      const answers = await Promise.all([first, second].map((r) => new ApiClient(() => r.baseUrl).get("/health")));
      if (answers.some((a) => a.status !== 200)) return undefined;
      const leading = answers.filter((a) => a.body.replica.leader).length;
      return leading === 1 ? leading : undefined;
    });
    expect(leaders).to.equal(1);
    // Both processes are alive and serve writes again (a request caught mid-query may have failed).
    expect([first.process.exitCode, second.process.exitCode]).to.deep.equal([null, null]);
    for (const [replica, [seller, debtor]] of [
      [first, ["tier3", "tier1"]],
      [second, ["tier3", "tier1"]],
    ] as Array<[ChildService, [CastRole, CastRole]]>) {
      const created = await eventually("a submission accepted", async () => {
        const answer = await on(replica, seller).post("/v1/receivables", validSubmission(world.party(debtor).id));
        return answer.status === 201 ? answer : undefined;
      });
      expect(created.body.status).to.equal("awaiting_confirmation");
    }
  });

  it("answers a confirmation retried on another replica after the first died right after broadcasting it", async function () {
    // A third replica, armed to die by SIGKILL right after it broadcasts a registration.
    const dir = mkdtempSync(path.join(tmpdir(), "tierline-replica-"));
    try {
      const doomed = await world.spawnService({ dataDir: dir, crashAt: "tx-sent:register" });
      const submitted = await on(first, "tier3").post("/v1/receivables", validSubmission(world.party("tier2").id));
      expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
      const id = submitted.body.id as string;
      const key = { "idempotency-key": `confirm-${randomBytes(6).toString("hex")}` };
      const cut = await on(doomed, "tier2")
        .post(`/v1/receivables/${id}/confirm`, {}, key)
        .then(
          () => "answered",
          () => "dropped",
        );
      expect(cut).to.equal("dropped");
      expect((await doomed.exited).signal).to.equal("SIGKILL");
      expect(await registrationsOnChain(world, id)).to.equal(1);
      // Its key is "in progress" with a dead owner: the retry elsewhere answers from what was sent.
      const retry = await on(second, "tier2").post(`/v1/receivables/${id}/confirm`, {}, key);
      expect(retry.status, JSON.stringify(retry.body)).to.equal(200);
      expect(retry.body.receivable.status).to.equal("active");
      const replay = await on(first, "tier2").post(`/v1/receivables/${id}/confirm`, {}, key);
      expect(replay.headers.get("idempotent-replayed")).to.equal("true");
      expect(replay.body).to.deep.equal(retry.body);
      expect(await registrationsOnChain(world, id)).to.equal(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("when the leader is killed by SIGKILL between two settle batches of 60 leaves", function () {
    let receivableId: string;
    let leaves: Array<{ id: string; holder: string; face: bigint }>;
    let start: Record<string, bigint>;
    let settledAtTheCrash: number;

    const holderBalances = async () =>
      Object.fromEntries(
        await Promise.all(HOLDERS.map(async (h) => [h, await world.balanceOf(world.party(h).address)] as const)),
      );

    before(async function () {
      // Hand the lead to the second replica (armed to die between batches): stop the first,
      // wait for the second to lead, start the first again (now a follower).
      await world.stop();
      await eventually("the second replica to lead", async () =>
        (await health(second)).replica.leader ? true : undefined,
      );
      first = await world.start();
      expect((await health(first)).replica.leader).to.equal(false);

      // Built and repaid through the follower's API: 60 leaves, more than one settle batch (50).
      const { id, rootId } = await registerReceivable(world, "tier1", "debtor");
      receivableId = id;
      const firstParts: Part[] = [
        ...Array.from({ length: 31 }, (_, i): Part => ({ to: HOLDERS[i % 3]!, amount: 3_000_000n })),
        { to: "tier1", amount: 7_000_000n },
      ];
      const children = await world.as("tier1").post(`/v1/certificates/${rootId}/split`, splitBody(world, firstParts));
      expect(children.status, JSON.stringify(children.body)).to.equal(200);
      const secondParts: Part[] = [
        ...Array.from({ length: 28 }, (_, i): Part => ({ to: HOLDERS[i % 3]!, amount: 240_000n })),
        { to: "tier1", amount: 280_000n },
      ];
      const grandchildren = await world
        .as("tier1")
        .post(`/v1/certificates/${children.body.children[31].id}/split`, splitBody(world, secondParts));
      expect(grandchildren.status, JSON.stringify(grandchildren.body)).to.equal(200);
      const { certificates } = world.contracts;
      const issued = await world.chainEvents(certificates, "CertificateIssued", null, receivableId);
      const retired = new Set(
        (await world.chainEvents(certificates, "CertificateSplit")).map((e) => String(e.args.parentId)),
      );
      leaves = issued
        .filter((e) => !retired.has(String(e.args.certificateId)))
        .map((e) => ({
          id: String(e.args.certificateId),
          holder: String(e.args.holder),
          face: BigInt(e.args.faceValue),
        }));
      start = await holderBalances();

      const repaid = await world
        .as("debtor")
        .post(`/v1/receivables/${receivableId}/repayments`, { amount: FACE.toString() });
      expect(repaid.status, JSON.stringify(repaid.body)).to.equal(200);
      const exit = await second.exited;
      expect(exit.signal, second.stderr()).to.equal("SIGKILL");
      expect(second.stderr()).to.include("TIERLINE_CRASH_AT: crashing at keeper:between-batches");
      const diedAt = Date.now();
      settledAtTheCrash = (await world.chainEvents(world.contracts.escrow, "LeafSettled", receivableId)).length;
      await eventually("the first replica to take the lead", async () =>
        (await health(first)).replica.leader ? true : undefined,
      );
      console.log(`      (the surviving replica led ${Date.now() - diedAt} ms after the leader died)`);
      await eventually(
        "every leaf paid",
        async () =>
          (await world.chainEvents(world.contracts.escrow, "LeafSettled", receivableId)).length >= leaves.length
            ? true
            : undefined,
        60_000,
      );
      // A few more keeper passes of the new leader: none may pay anything again.
      await sleep(1_000);
    });

    it("had paid the first batch of 50 before dying, and no more", async function () {
      expect(leaves).to.have.length(60);
      expect(settledAtTheCrash).to.equal(50);
    });

    it("pays every leaf exactly once, in two settle transactions, each holder exactly its share", async function () {
      const settled = await world.chainEvents(world.contracts.escrow, "LeafSettled", receivableId);
      expect(settled.map((e) => String(e.args.certificateId)).sort()).to.deep.equal(leaves.map((l) => l.id).sort());
      const perTransaction = new Map<string, number>();
      for (const e of settled) perTransaction.set(e.transactionHash, (perTransaction.get(e.transactionHash) ?? 0) + 1);
      expect([...perTransaction.values()]).to.deep.equal([50, 10]);
      const after = await holderBalances();
      const gained = Object.fromEntries(HOLDERS.map((h) => [h, after[h]! - start[h]!]));
      const owed = Object.fromEntries(
        HOLDERS.map((h) => [
          h,
          leaves.filter((l) => l.holder === world.party(h).address).reduce((s, l) => s + l.face, 0n),
        ]),
      );
      expect(gained).to.deep.equal(owed);
      expect(BigInt(await world.contracts.escrow.getFunction("distributedOf")(receivableId))).to.equal(FACE);
    });

    it("misses no event: the surviving replica's index equals the chain (the auditor's verification)", async function () {
      await world.auditMatches(receivableId);
    });
  });
});
