// A reorg under the running service: the chain (anvil, via evm_snapshot / evm_revert) replaces
// blocks the indexer has already read, while the service keeps running. The indexer notices
// that the block its cursor was written at is gone, rebuilds the index from the chain's events,
// and tells webhook endpoints nothing twice: a registration mined again in another block is
// indexed once, at its new block, and its receivable.registered event reaches the endpoint
// once; a registration the new chain does not have leaves the index.
import { createServer, type Server } from "node:http";
import { expect } from "chai";
import { Transaction } from "ethers";
import { eventually, FaultWorld, sleep } from "./child-service.js";
import { registerReceivable } from "./flows.js";
import { freePort } from "../../scripts/chain/local-service.js";

/** Keeps every webhook POST it receives (type, data, webhook-id) and answers 204. */
class Receiver {
  readonly deliveries: Array<{ webhookId: string; type: string; data: Record<string, unknown> }> = [];
  #server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    const port = await freePort();
    this.#server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        const event = JSON.parse(body) as { type: string; data: Record<string, unknown> };
        this.deliveries.push({ webhookId: String(req.headers["webhook-id"]), type: event.type, data: event.data });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${port}/hooks/tierline`;
  }

  of(type: string, receivableId: string) {
    return this.deliveries.filter((d) => d.type === type && d.data.receivableId === receivableId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

describe("Faults: the chain replaces blocks the running indexer has read (a reorg)", function () {
  this.timeout(240_000);
  let world: FaultWorld;
  const receiver = new Receiver();

  before(async function () {
    await receiver.start();
    world = await FaultWorld.create({ TIERLINE_WEBHOOK_INTERVAL_MS: "100" });
    const created = await world.as("debtor").post("/v1/webhooks/endpoints", { url: receiver.url });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
  });
  after(async function () {
    await world?.close();
    await receiver.close();
  });

  /** Mines `count` empty blocks. */
  async function mine(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await world.provider.send("evm_mine", []);
  }

  describe("when the registration's transaction is mined again in a later block", function () {
    let receivableId: string;
    let firstBlock: number;
    let newBlock: number;

    before(async function () {
      const snapshot = await world.provider.send("evm_snapshot", []);
      ({ id: receivableId } = await registerReceivable(world, "tier1", "debtor"));
      await eventually("receivable.registered to arrive", async () =>
        receiver.of("receivable.registered", receivableId).length > 0 ? true : undefined,
      );
      const served = await world.as("tier1").get(`/v1/receivables/${receivableId}`);
      firstBlock = served.body.registeredBlock as number;
      const sent = await world.provider.getTransaction(served.body.txHashes.register as string);
      const raw = Transaction.from(sent!).serialized;

      // The blocks from the snapshot on are replaced by empty ones; the same signed
      // registration lands again, later.
      await world.provider.send("evm_revert", [snapshot]);
      await mine(3);
      const receipt = await (await world.provider.broadcastTransaction(raw)).wait();
      newBlock = receipt!.blockNumber;
      expect(newBlock).to.be.greaterThan(firstBlock);
    });

    it("serves the registration at the block the chain has it in now, within seconds", async function () {
      const served = await eventually(
        "the index to follow the reorg",
        async () => {
          const response = await world.as("tier1").get(`/v1/receivables/${receivableId}`);
          return response.body.registeredBlock === newBlock ? response : undefined;
        },
        10_000,
      );
      expect(served.body.status).to.equal("active");
      expect(served.body.rootCertificateId).to.not.equal(null);
    });

    it("journals the registration once", async function () {
      const trace = await world.as("auditor").get(`/v1/audit/receivables/${receivableId}/trace`);
      expect(trace.status, JSON.stringify(trace.body)).to.equal(200);
      const registrations = (
        trace.body.transactions as Array<{ blockNumber: number; events: Array<{ name: string }> }>
      ).flatMap((tx) => tx.events.filter((e) => e.name === "ReceivableRegistered").map(() => tx.blockNumber));
      expect(registrations).to.deep.equal([newBlock]);
      await world.auditMatches(receivableId);
    });

    it("does not tell the webhook endpoint about the registration a second time", async function () {
      await sleep(1_500); // fifteen dispatcher passes: a second event would be here by now
      expect(receiver.of("receivable.registered", receivableId)).to.have.length(1);
    });

    it("reports healthy once the index is rebuilt", async function () {
      const health = await world.api.get("/health");
      expect(health.status, JSON.stringify(health.body)).to.equal(200);
      expect(health.body.problems).to.deep.equal([]);
    });
  });

  describe("when the new chain has no registration at all", function () {
    let receivableId: string;

    before(async function () {
      const snapshot = await world.provider.send("evm_snapshot", []);
      ({ id: receivableId } = await registerReceivable(world, "tier1", "debtor"));
      const served = await world.as("tier1").get(`/v1/receivables/${receivableId}`);
      expect(served.body.rootCertificateId).to.not.equal(null);
      await world.provider.send("evm_revert", [snapshot]);
      await mine(10);
      expect(Number(await world.contracts.registry.getFunction("statusOf")(receivableId))).to.equal(0);
    });

    it("no longer serves the orphaned registration, within seconds", async function () {
      const served = await eventually(
        "the orphaned registration to leave the index",
        async () => {
          const response = await world.as("tier1").get(`/v1/receivables/${receivableId}`);
          return response.body.registeredBlock === null ? response : undefined;
        },
        10_000,
      );
      expect(served.body.rootCertificateId).to.equal(null);
      expect(served.body.txHashes.register).to.equal(null);
    });

    it("has nothing left for the auditor's check to find: neither the chain nor the index knows it", async function () {
      const report = await world.as("auditor").get(`/v1/audit/verify/${receivableId}`);
      expect(report.status, JSON.stringify(report.body)).to.equal(404);
      expect(report.body.error.code).to.equal("NOT_FOUND");
    });

    it("reports healthy once the index is rebuilt", async function () {
      const health = await world.api.get("/health");
      expect(health.status, JSON.stringify(health.body)).to.equal(200);
    });
  });
});
