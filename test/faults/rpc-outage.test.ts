// The chain's JSON-RPC endpoint goes away while the service (a real child process) runs:
// health and every request that needs the chain answer 503 CHAIN_UNAVAILABLE at once —
// not after a client-side timeout — while what the index holds is still served; when the
// endpoint comes back (same port, same saved state) the same requests succeed, a request
// that failed is retried with its Idempotency-Key, and the indexer catches up.
import { createServer, type Server, type Socket } from "node:net";
import { expect } from "chai";
import { FaultWorld, eventually, type ChildService } from "./child-service.js";
import { idempotencyKey, registerReceivable, splitBody, splitsOnChain, submitReceivable, type Part } from "./flows.js";
import type { ApiResponse } from "../server/client.js";

/** What "at once" means here: well under any client's patience, and far from ethers' retry loops. */
const PROMPT_MS = 10_000;

describe("Faults: the chain's JSON-RPC endpoint goes away for a while", function () {
  this.timeout(180_000);
  let world: FaultWorld;
  let receivableId: string;
  let rootId: string;
  let pendingId: string;
  let splitKey: Record<string, string>;
  let service: ChildService;
  const parts: Part[] = [
    { to: "tier2", amount: 30_000_000n },
    { to: "tier1", amount: 70_000_000n },
  ];

  const timed = async (request: () => Promise<ApiResponse>) => {
    const started = Date.now();
    const response = await request();
    return { response, ms: Date.now() - started };
  };

  before(async function () {
    world = await FaultWorld.create();
    ({ id: receivableId, rootId } = await registerReceivable(world, "tier1", "debtor"));
    pendingId = await submitReceivable(world, "tier1", "debtor");
    splitKey = idempotencyKey("split");
    service = world.child!;
    await world.stopChain();
  });
  after(async function () {
    await world?.close();
  });

  describe("while the endpoint is down", function () {
    it("reports the chain down on /health with 503, promptly", async function () {
      const { response, ms } = await timed(() => world.api.get("/health"));
      expect(response.status).to.equal(503);
      expect(response.body.status).to.equal("degraded");
      expect(response.body.chain.ok).to.equal(false);
      expect(ms).to.be.below(PROMPT_MS);
    });

    it("refuses a split with 503 CHAIN_UNAVAILABLE, promptly, and splits nothing", async function () {
      const { response, ms } = await timed(() =>
        world.as("tier1").post(`/v1/certificates/${rootId}/split`, splitBody(world, parts), splitKey),
      );
      expect(response.status, JSON.stringify(response.body)).to.equal(503);
      expect(response.body.error.code).to.equal("CHAIN_UNAVAILABLE");
      expect(ms).to.be.below(PROMPT_MS);
    });

    it("refuses a confirmation with 503 CHAIN_UNAVAILABLE, promptly", async function () {
      const { response, ms } = await timed(() => world.as("debtor").post(`/v1/receivables/${pendingId}/confirm`));
      expect(response.status, JSON.stringify(response.body)).to.equal(503);
      expect(response.body.error.code).to.equal("CHAIN_UNAVAILABLE");
      expect(ms).to.be.below(PROMPT_MS);
    });

    it("refuses a repayment with 503 CHAIN_UNAVAILABLE, promptly", async function () {
      const { response, ms } = await timed(() =>
        world.as("debtor").post(`/v1/receivables/${receivableId}/repayments`, { amount: "1000000" }),
      );
      expect(response.status, JSON.stringify(response.body)).to.equal(503);
      expect(response.body.error.code).to.equal("CHAIN_UNAVAILABLE");
      expect(ms).to.be.below(PROMPT_MS);
    });

    it("still serves what the index holds", async function () {
      const certificate = await world.as("tier1").get(`/v1/certificates/${rootId}`);
      expect(certificate.status).to.equal(200);
      expect(certificate.body.state).to.equal("live");
    });

    it("keeps running (the same process)", async function () {
      expect(world.child).to.equal(service);
      expect(service.process.exitCode).to.equal(null);
    });
  });

  describe("when the endpoint is back on the same port with its saved state", function () {
    before(async function () {
      await world.startChain();
      await eventually("/health to answer 200", async () =>
        (await world.api.get("/health")).status === 200 ? true : undefined,
      );
    });

    it("serves /health as ok again, the index caught up with the chain", async function () {
      const health = await eventually("the indexer to catch up", async () => {
        const h = await world.api.get("/health");
        return h.body.chain.indexedBlock === h.body.chain.latestBlock ? h : undefined;
      });
      expect(health.body.status).to.equal("ok");
      expect(service.process.exitCode).to.equal(null);
    });

    it("splits on a retry with the same Idempotency-Key, once", async function () {
      const retried = await world
        .as("tier1")
        .post(`/v1/certificates/${rootId}/split`, splitBody(world, parts), splitKey);
      expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
      expect(retried.body.children.map((c: { faceValue: string }) => c.faceValue)).to.deep.equal(
        parts.map((p) => p.amount.toString()),
      );
      expect(await splitsOnChain(world, rootId)).to.have.length(1);
    });

    it("confirms the receivable that waited", async function () {
      const confirmed = await world.as("debtor").post(`/v1/receivables/${pendingId}/confirm`);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      expect((await world.as("tier1").get(`/v1/receivables/${pendingId}`)).body.status).to.equal("active");
    });

    it("keeps an index that equals the chain (the auditor's verification)", async function () {
      await world.auditMatches(receivableId);
      await world.auditMatches(pendingId);
    });
  });

  describe("when the endpoint hangs (accepts connections, never answers) and then comes back", function () {
    let childId: string;
    let blackHole: Server;
    const sockets = new Set<Socket>();

    before(async function () {
      childId = (
        await world.chainEvents(world.contracts.certificates, "CertificateSplit", rootId)
      )[0]!.args.childIds[1].toString();
      // The chain stops; in its place on the same port, a listener that takes every request and never answers.
      await world.stopChain();
      blackHole = createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.resume();
      });
      await new Promise<void>((resolve, reject) => {
        blackHole.once("error", reject);
        blackHole.listen(world.chainPort, "127.0.0.1", resolve);
      });
    });
    after(async function () {
      if (blackHole?.listening) await closeBlackHole();
    });
    const closeBlackHole = async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    };

    it("reports the chain down on /health with 503, promptly", async function () {
      const { response, ms } = await timed(() => world.api.get("/health"));
      expect(response.status).to.equal(503);
      expect(response.body.chain.ok).to.equal(false);
      expect(ms).to.be.below(PROMPT_MS);
    });

    it("refuses a transfer with 503 CHAIN_UNAVAILABLE, promptly", async function () {
      const { response, ms } = await timed(() =>
        world.as("tier1").post(`/v1/certificates/${childId}/transfer`, { toPartyId: world.party("tier3").id }),
      );
      expect(response.status, JSON.stringify(response.body)).to.equal(503);
      expect(response.body.error.code).to.equal("CHAIN_UNAVAILABLE");
      expect(ms).to.be.below(PROMPT_MS);
    });

    it("transfers once the chain answers again", async function () {
      await closeBlackHole();
      await world.startChain();
      await eventually("/health to answer 200", async () =>
        (await world.api.get("/health")).status === 200 ? true : undefined,
      );
      const moved = await world
        .as("tier1")
        .post(`/v1/certificates/${childId}/transfer`, { toPartyId: world.party("tier3").id });
      expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
      expect(moved.body.certificate.holderPartyId).to.equal(world.party("tier3").id);
      expect(service.process.exitCode).to.equal(null);
      await world.auditMatches(receivableId);
    });
  });
});
