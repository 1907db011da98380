// Webhooks as an integrator meets them: a party registers an endpoint (the secret shown
// once), its events arrive signed per Standard Webhooks and verify with the
// `standardwebhooks` package, an endpoint that fails is retried with backoff and every
// attempt is in its delivery log, a delivery can be replayed with the same webhook-id, and
// a deleted endpoint hears nothing more.
import { createServer, type Server } from "node:http";
import { expect } from "chai";
import { Webhook } from "standardwebhooks";
import { freePort, startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { until } from "../../helpers/until.js";

interface Received {
  headers: Record<string, string>;
  body: string;
}

/** A receiver on a free port; answers `status()` to each POST. */
async function startReceiver(status: () => number) {
  const received: Received[] = [];
  const port = await freePort();
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      res.statusCode = status();
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((r) => server.close(r)) };
}

describe("API: webhooks", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let debtor: TestParty;

  before(async function () {
    t = await startTestService({
      TIERLINE_KEEPER: "false",
      TIERLINE_WEBHOOK_INTERVAL_MS: "50",
      TIERLINE_WEBHOOK_RETRY_BASE_MS: "100",
      TIERLINE_WEBHOOK_MAX_ATTEMPTS: "3",
    });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
  });
  after(async function () {
    await t?.close();
  });

  describe("when the debtor registers an endpoint and a receivable is submitted and confirmed", function () {
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let endpoint: { id: string; secret: string };
    let receivableId: string;

    before(async function () {
      receiver = await startReceiver(() => 204);
      const created = await api.as(debtor.apiKey).post("/v1/webhooks/endpoints", { url: receiver.url });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      endpoint = created.body;
      const submitted = await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id));
      expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
      receivableId = submitted.body.id;
      const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      await until("receivable.registered", () =>
        receiver.received.find((r) => JSON.parse(r.body).type === "receivable.registered"),
      );
    });
    after(async function () {
      await receiver?.close();
    });

    it("shows the secret once: the list of endpoints does not carry it", async function () {
      expect(endpoint.secret).to.match(/^whsec_/);
      const list = await api.as(debtor.apiKey).get("/v1/webhooks/endpoints");
      expect(list.status).to.equal(200);
      expect(list.body.items.map((e: { id: string }) => e.id)).to.deep.equal([endpoint.id]);
      expect(JSON.stringify(list.body)).not.to.include(endpoint.secret);
      expect(list.body.nextCursor).to.equal(null);
    });

    it("delivers submitted, confirmed and registered, in that order, each verifying under the secret", async function () {
      const verifier = new Webhook(endpoint.secret);
      const events = receiver.received.map((r) => verifier.verify(r.body, r.headers) as { type: string; data: any });
      expect(events.map((e) => e.type)).to.deep.equal([
        "receivable.submitted",
        "receivable.confirmed",
        "receivable.registered",
      ]);
      for (const event of events) expect(event.data.receivableId).to.equal(receivableId);
      expect(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size).to.equal(3);
    });

    it("refuses a body that was tampered with", function () {
      const first = receiver.received[0]!;
      const tampered = first.body.replace(receivableId, "0x" + "0".repeat(64));
      expect(() => new Webhook(endpoint.secret).verify(tampered, first.headers)).to.throw();
    });

    it("logs each delivery as delivered, and replays one with the same webhook-id", async function () {
      const log = await api.as(debtor.apiKey).get(`/v1/webhooks/endpoints/${endpoint.id}/deliveries`);
      expect(log.status, JSON.stringify(log.body)).to.equal(200);
      expect(log.body.items.map((d: { state: string }) => d.state)).to.deep.equal([
        "delivered",
        "delivered",
        "delivered",
      ]);
      const submitted = log.body.items.find((d: { eventType: string }) => d.eventType === "receivable.submitted");
      const before = receiver.received.length;
      const replay = await api
        .as(debtor.apiKey)
        .post(`/v1/webhooks/endpoints/${endpoint.id}/deliveries/${submitted.id}/replay`);
      expect(replay.status, JSON.stringify(replay.body)).to.equal(200);
      const again = await until("the replay", () => receiver.received[before]);
      expect(again.headers["webhook-id"]).to.equal(submitted.eventId);
    });

    it("does not show the endpoint to another party", async function () {
      const theirs = await api.as(seller.apiKey).get(`/v1/webhooks/endpoints/${endpoint.id}/deliveries`);
      expect(theirs.status).to.equal(404);
      expect(theirs.body.error.code).to.equal("NOT_FOUND");
    });

    it("sends nothing more to a deleted endpoint", async function () {
      const deleted = await api.as(debtor.apiKey).request("DELETE", `/v1/webhooks/endpoints/${endpoint.id}`);
      expect(deleted.status, JSON.stringify(deleted.body)).to.equal(200);
      expect(deleted.body.status).to.equal("deleted");
      const count = receiver.received.length;
      await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id));
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.received.length).to.equal(count);
      expect((await api.as(debtor.apiKey).get("/v1/webhooks/endpoints")).body.items).to.deep.equal([]);
    });
  });

  describe("when the endpoint answers 500", function () {
    it("retries with backoff up to the maximum and logs every attempt", async function () {
      const receiver = await startReceiver(() => 500);
      try {
        const created = await api.as(seller.apiKey).post("/v1/webhooks/endpoints", { url: receiver.url });
        expect(created.status).to.equal(201);
        await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id));
        const log = await until("the delivery to fail", async () => {
          const page = await api.as(seller.apiKey).get(`/v1/webhooks/endpoints/${created.body.id}/deliveries`);
          return page.body.items[0]?.state === "failed" ? page.body.items[0] : undefined;
        });
        expect(log.attempts).to.equal(3);
        expect(log.lastStatus).to.equal(500);
        expect(receiver.received).to.have.length(3);
        expect(new Set(receiver.received.map((r) => r.headers["webhook-id"]))).to.deep.equal(new Set([log.eventId]));
      } finally {
        await receiver.close();
      }
    });

    it("counts every attempt in /metrics by outcome: two retried, one given up, the others delivered", async function () {
      const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
      const count = (outcome: string) =>
        Number(
          new RegExp(`^tierline_webhook_attempts_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(metrics)?.[1] ?? 0,
        );
      expect(count("retrying")).to.equal(2);
      expect(count("gave_up")).to.equal(1);
      expect(count("delivered")).to.be.at.least(4); // submitted, confirmed, registered, the replay
    });
  });
});
