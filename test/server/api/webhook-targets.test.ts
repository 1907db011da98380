// Webhooks go to public addresses only (the default): a party cannot make the service probe or
// POST to this machine, a private network or a cloud metadata service (server-side request
// forgery, found by a review: the delivery log was an oracle for which local ports answered).
// Refused when the endpoint is registered, and again when a delivery connects, on the address
// dialled: an endpoint stored earlier, or a name that now resolves to loopback, hears nothing.
import { createServer, type Server } from "node:http";
import { expect } from "chai";
import { freePort, startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { isPublicAddress } from "../../../server/domain/webhook-target.js";
import { until } from "../../helpers/until.js";

describe("API: webhook endpoints on private addresses", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let debtor: TestParty;
  let port: number;
  let server: Server;
  let hits = 0;

  before(async function () {
    t = await startTestService({
      TIERLINE_KEEPER: "false",
      TIERLINE_WEBHOOK_PRIVATE_TARGETS: "refuse",
      TIERLINE_WEBHOOK_INTERVAL_MS: "50",
      TIERLINE_WEBHOOK_RETRY_BASE_MS: "100000",
      TIERLINE_WEBHOOK_MAX_ATTEMPTS: "1",
    });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    port = await freePort();
    server = createServer((_req, res) => {
      hits++;
      res.statusCode = 204;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  });
  after(async function () {
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  it("refuses to register this machine, private networks and the metadata address (422 WEBHOOK_URL_NOT_PUBLIC)", async function () {
    for (const url of [
      `http://127.0.0.1:${port}/hook`,
      `http://localhost:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://[::ffff:127.0.0.1]:${port}/hook`,
      `http://0.0.0.0:${port}/hook`,
      "http://169.254.169.254/latest/meta-data/",
      "http://10.1.2.3/hook",
      "https://192.168.0.10/hook",
      "http://[fd00::1]/hook",
    ]) {
      const response = await api.as(seller.apiKey).post("/v1/webhooks/endpoints", { url });
      expect(response.status, `${url}: ${JSON.stringify(response.body)}`).to.equal(422);
      expect(response.body.error.code).to.equal("WEBHOOK_URL_NOT_PUBLIC");
      expect(response.body.error.details.fields).to.deep.equal(["body.url"]);
    }
    const listed = await api.as(seller.apiKey).get("/v1/webhooks/endpoints");
    expect(listed.body.items).to.deep.equal([]);
  });

  it("says which address was refused, and how an operator allows private ones", async function () {
    const byName = await api.as(seller.apiKey).post("/v1/webhooks/endpoints", { url: `http://localhost:${port}/` });
    expect(byName.body.error.message).to.match(/localhost is (127\.0\.0\.1|::1), not a public address/);
    expect(byName.body.error.message).to.include("TIERLINE_WEBHOOK_PRIVATE_TARGETS=allow");
    const literal = await api.as(seller.apiKey).post("/v1/webhooks/endpoints", { url: "http://169.254.169.254/" });
    expect(literal.body.error.message).to.include("169.254.169.254 is not a public address");
  });

  it("registers a public address", async function () {
    const response = await api.as(debtor.apiKey).post("/v1/webhooks/endpoints", { url: "http://93.184.215.14/hook" });
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    await api.as(debtor.apiKey).request("DELETE", `/v1/webhooks/endpoints/${response.body.id}`);
  });

  it("sends nothing to a private target stored before, by address or by a name that resolves to loopback", async function () {
    const now = new Date().toISOString();
    const stored = (id: string, url: string) => ({
      id,
      party_id: seller.id,
      url,
      description: "",
      event_types: null,
      secret: t.service.ctx.vault.encrypt(`whsec_${Buffer.from("a-test-secret-of-24-bytes!").toString("base64")}`),
      status: "active",
      created_at: now,
      deleted_at: null,
    });
    await t.service.ctx.db
      .insertInto("webhook_endpoints")
      .values([
        stored("whe_byaddress", `http://127.0.0.1:${port}/hook`),
        stored("whe_byname", `http://localhost:${port}/hook`),
      ])
      .execute();
    const submitted = await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);

    for (const id of ["whe_byaddress", "whe_byname"]) {
      const attempt = await until(`${id}'s attempt`, async () => {
        const log = await api.as(seller.apiKey).get(`/v1/webhooks/endpoints/${id}/deliveries`);
        const item = log.body.items?.[0];
        return item && item.attempts > 0 ? item : undefined;
      });
      expect(attempt.state, id).to.equal("failed");
      expect(attempt.lastStatus, id).to.equal(null);
      expect(attempt.lastError, id).to.match(/refused: .*not a public address/);
    }
    expect(hits).to.equal(0);
  });

  it("classifies addresses: public unicast only", function () {
    for (const address of ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
      expect(isPublicAddress(address), address).to.equal(true);
    for (const address of [
      "127.0.0.1",
      "10.0.0.1",
      "172.16.5.4",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "::",
      "fe80::1",
      "fd00::1",
      "::ffff:10.0.0.1",
      "not an address",
    ])
      expect(isPublicAddress(address), address).to.equal(false);
  });
});
