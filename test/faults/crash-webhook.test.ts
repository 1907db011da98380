// Webhooks under a crash: the service (a real child process) dies by SIGKILL after a change
// and its outbox row committed but before the event was sent, after the receiver answered
// but before the delivery was recorded, or inside the indexer before the chain event's
// projection (and its outbox row) committed; then it is started again on the same data.
// Each event reaches the receiver under one webhook-id, signed with the endpoint's secret:
// once when the crash came before the send, twice under the same webhook-id when it came
// between the receiver's answer and the record (the receiver deduplicates on it), and never
// lost. The delivery log shows one delivery, delivered.
import { createServer, type Server } from "node:http";
import { expect } from "chai";
import { Webhook } from "standardwebhooks";
import { validSubmission } from "../server/scenario.js";
import { eventually, FaultWorld, sleep } from "./child-service.js";
import { submitReceivable } from "./flows.js";
import { freePort } from "../../scripts/chain/local-service.js";

interface Delivery {
  webhookId: string;
  type: string;
  data: Record<string, unknown>;
}

/** A receiver that answers 204 to every POST and keeps each one, verified under `secret`. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  readonly unverified: string[] = [];
  secret: string | undefined;
  #server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    const port = await freePort();
    this.#server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        try {
          const event = new Webhook(this.secret!).verify(body, req.headers as Record<string, string>) as {
            type: string;
            data: Record<string, unknown>;
          };
          this.deliveries.push({ webhookId: String(req.headers["webhook-id"]), type: event.type, data: event.data });
        } catch {
          this.unverified.push(body);
        }
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${port}/hooks/tierline`;
  }

  /** Every delivery of the event of `type` about `receivableId`. */
  of(type: string, receivableId: string): Delivery[] {
    return this.deliveries.filter((d) => d.type === type && d.data.receivableId === receivableId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

describe("Faults: a crash between a change and its webhook delivery", function () {
  this.timeout(240_000);
  let world: FaultWorld;
  const receiver = new Receiver();
  let endpointId: string;

  before(async function () {
    await receiver.start();
    world = await FaultWorld.create({
      TIERLINE_WEBHOOK_INTERVAL_MS: "100",
      TIERLINE_WEBHOOK_RETRY_BASE_MS: "200",
    });
    const created = await world.as("debtor").post("/v1/webhooks/endpoints", { url: receiver.url });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    endpointId = created.body.id as string;
    receiver.secret = created.body.secret as string;
  });
  after(async function () {
    await world?.close();
    await receiver.close();
  });

  /** The supplier's newest receivable: the one a request cut off by the crash submitted. */
  async function newestOf(seller: "tier1"): Promise<string> {
    const list = await world.as(seller).get("/v1/receivables?as=seller&limit=1");
    expect(list.status, JSON.stringify(list.body)).to.equal(200);
    return list.body.items[0].id as string;
  }

  /** Waits until the event has arrived and its delivery is recorded, then a few more dispatcher passes. */
  async function settled(type: string, receivableId: string): Promise<Delivery[]> {
    await eventually(`${type} of ${receivableId} to arrive`, async () =>
      receiver.of(type, receivableId).length > 0 ? true : undefined,
    );
    const webhookId = receiver.of(type, receivableId)[0]!.webhookId;
    await eventually(`the delivery of ${webhookId} to be recorded`, async () => {
      const log = await world.as("debtor").get(`/v1/webhooks/endpoints/${endpointId}/deliveries?limit=200`);
      const row = (log.body.items as Array<{ eventId: string; state: string }>).find((d) => d.eventId === webhookId);
      return row?.state === "delivered" ? true : undefined;
    });
    await sleep(1_000); // ten dispatcher passes: anything sent twice would be here by now
    return receiver.of(type, receivableId);
  }

  async function deliveryLogOf(webhookId: string) {
    const log = await world.as("debtor").get(`/v1/webhooks/endpoints/${endpointId}/deliveries?limit=200`);
    expect(log.status, JSON.stringify(log.body)).to.equal(200);
    return (log.body.items as Array<{ eventId: string; state: string; attempts: number }>).filter(
      (d) => d.eventId === webhookId,
    );
  }

  describe("when the service is killed after the submission committed and before its event was sent", function () {
    let receivableId: string;
    let sentBeforeCrash: number;

    before(async function () {
      let answeredId: string | undefined;
      await world.crashDuring(
        "webhook:before-send",
        async () => {
          const submitted = await world.as("tier1").post("/v1/receivables", validSubmission(world.party("debtor").id));
          answeredId = submitted.body.id as string | undefined;
        },
        { requestDropped: false }, // the answer usually beats the dispatcher's next pass, but need not
      );
      sentBeforeCrash = receiver.deliveries.length;
      await world.start();
      receivableId = answeredId ?? (await newestOf("tier1"));
    });

    it("had sent nothing before it died", function () {
      expect(sentBeforeCrash).to.equal(0);
    });

    it("delivers receivable.submitted after the restart exactly once, signed with the endpoint's secret", async function () {
      const arrived = await settled("receivable.submitted", receivableId);
      expect(arrived).to.have.length(1);
      expect(arrived[0]!.data.debtorId).to.equal(world.party("debtor").id);
      expect(receiver.unverified).to.deep.equal([]);
      const log = await deliveryLogOf(arrived[0]!.webhookId);
      expect(log.map(({ state, attempts }) => ({ state, attempts }))).to.deep.equal([
        { state: "delivered", attempts: 1 },
      ]);
    });
  });

  describe("when the service is killed after the receiver answered and before the delivery was recorded", function () {
    let receivableId: string;
    let beforeRestart: Delivery[];

    before(async function () {
      let answeredId: string | undefined;
      await world.crashDuring(
        "webhook:delivered-before-recorded",
        async () => {
          const submitted = await world.as("tier1").post("/v1/receivables", validSubmission(world.party("debtor").id));
          answeredId = submitted.body.id as string | undefined;
        },
        { requestDropped: false },
      );
      const sentBeforeRestart = receiver.deliveries.slice();
      await world.start();
      receivableId = answeredId ?? (await newestOf("tier1"));
      beforeRestart = sentBeforeRestart.filter(
        (d) => d.type === "receivable.submitted" && d.data.receivableId === receivableId,
      );
    });

    it("had been sent once before it died", function () {
      expect(beforeRestart).to.have.length(1);
    });

    it("sends it again under the same webhook-id, so the receiver keeps it exactly once", async function () {
      const arrived = await settled("receivable.submitted", receivableId);
      expect(arrived).to.have.length(2); // the send the crash cut off from its record, and the one after the restart
      expect(new Set(arrived.map((d) => d.webhookId))).to.deep.equal(new Set([beforeRestart[0]!.webhookId]));
      const log = await deliveryLogOf(beforeRestart[0]!.webhookId);
      expect(log.map(({ state }) => state)).to.deep.equal(["delivered"]);
    });
  });

  describe("when the service is killed in the indexer before the registration's projection committed", function () {
    let receivableId: string;

    before(async function () {
      receivableId = await submitReceivable(world, "tier1", "debtor");
      await world.crashDuring("indexer:before-commit", () =>
        world.as("debtor").post(`/v1/receivables/${receivableId}/confirm`),
      );
      await world.start();
    });

    it("delivers receivable.registered after the restart exactly once: the event is neither lost nor invented", async function () {
      const arrived = await settled("receivable.registered", receivableId);
      expect(arrived).to.have.length(1);
      const registered = await world.chainEvents(world.contracts.registry, "ReceivableRegistered", receivableId);
      expect(registered).to.have.length(1);
      expect(arrived[0]!.data.txHash).to.equal(registered[0]!.transactionHash);
      expect(receiver.of("receivable.confirmed", receivableId)).to.have.length(1);
    });
  });
});
