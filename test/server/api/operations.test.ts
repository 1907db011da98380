// What an operator and an integrator read without a key: the platform (currency, decimals,
// chain, contracts, version), liveness and readiness (index lag, the index ahead of the
// chain, the keeper), and Prometheus metrics.
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty } from "../scenario.js";

/** The value of one sample in a Prometheus text answer, or undefined. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of metrics.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ?? "";
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

describe("operations: platform, health, metrics", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER_INTERVAL_MS: "100" });
    api = new ApiClient(() => t.baseUrl, t.operatorKey);
  });
  after(async function () {
    await t?.close();
  });

  it("tells the settlement currency and its decimals, the chain, the contracts and the version", async function () {
    const platform = await api.as(undefined).get("/v1/platform");
    expect(platform.status).to.equal(200);
    const health = await api.as(undefined).get("/health");
    expect(platform.body).to.deep.equal({
      version: (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version,
      settlement: {
        currency: "USD",
        token: health.body.contracts.settlementToken,
        symbol: "tUSD",
        decimals: 6,
        localTestToken: true,
      },
      chain: {
        chainId: "31337",
        deploymentBlock: health.body.deploymentBlock,
        contracts: health.body.contracts,
      },
    });
  });

  it("answers liveness without touching the chain, and readiness with the index's lag and the keeper", async function () {
    expect((await api.as(undefined).get("/health/live")).body).to.deep.equal({ status: "alive" });
    // The keeper runs every 100 ms: wait for its first pass to be reported.
    let ready = await api.as(undefined).get("/health/ready");
    while (ready.body.keeper.lastPassAt === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await api.as(undefined).get("/health/ready");
    }
    expect(ready.status).to.equal(200);
    expect(ready.body.status).to.equal("ready");
    expect(ready.body.problems).to.deep.equal([]);
    expect(ready.body.keeper.enabled).to.equal(true);
    // One process: it leads (on PostgreSQL too, as the only replica) and so runs the keeper.
    expect(ready.body.replica.leader).to.equal(true);
    expect(ready.body.keeper.lastError).to.equal(null);
    expect(ready.body.indexer.aheadOfChain).to.equal(false);
    expect(ready.body.indexer.lagBlocks).to.equal(ready.body.chain.latestBlock - ready.body.indexer.indexedBlock);
    expect(ready.body.indexer.lagBlocks).to.be.at.least(0);
  });

  describe("when the index is ahead of the chain", function () {
    let saved: string;
    before(async function () {
      const { db } = t.service.ctx;
      await t.service.ctx.indexer.stop();
      saved = (await db.selectFrom("meta").select("value").where("key", "=", "indexer.block").executeTakeFirstOrThrow())
        .value;
      const latest = await t.service.ctx.chain.provider.getBlockNumber();
      await db
        .updateTable("meta")
        .set({ value: String(latest + 2) })
        .where("key", "=", "indexer.block")
        .execute();
    });
    after(async function () {
      await t.service.ctx.db.updateTable("meta").set({ value: saved }).where("key", "=", "indexer.block").execute();
      t.service.ctx.indexer.start(100);
    });

    it("is not ready, and /health says degraded instead of ok", async function () {
      const ready = await api.as(undefined).get("/health/ready");
      expect(ready.status).to.equal(503);
      expect(ready.body.status).to.equal("not_ready");
      expect(ready.body.indexer.aheadOfChain).to.equal(true);
      expect(ready.body.indexer.lagBlocks).to.equal(-2);
      expect(ready.body.problems[0]).to.match(
        /^the index is ahead of the chain \(indexed block \d+ > latest block \d+\)$/,
      );
      const health = await api.as(undefined).get("/health");
      expect(health.status).to.equal(503);
      expect(health.body.status).to.equal("degraded");
      expect(health.body.indexer.aheadOfChain).to.equal(true);
      // Liveness is not readiness: the process is fine, restarting it would not help.
      expect((await api.as(undefined).get("/health/live")).status).to.equal(200);
    });
  });

  it("counts requests by route and status, transactions by kind, replays, keeper runs, lag and gas", async function () {
    const party = await createTestParty(api, ["supplier"]);
    await api.as(party.apiKey).get("/v1/me");
    await api.as(party.apiKey).get("/v1/me");
    await api.as(undefined).get("/v1/me");
    const key = `ops-${Date.now()}`;
    const body = { name: "Replayed Party", registryId: `REPLAY-${Date.now()}`, industry: "x", roles: ["supplier"] };
    const first = await api.post("/v1/parties", body, { "idempotency-key": key });
    const again = await api.post("/v1/parties", body, { "idempotency-key": key });
    expect(first.status).to.equal(201);
    expect(again.headers.get("idempotent-replayed")).to.equal("true");

    const response = await fetch(`${t.baseUrl}/metrics`);
    expect(response.status).to.equal(200);
    expect(response.headers.get("content-type")).to.match(/^text\/plain; version=0\.0\.4/);
    const metrics = await response.text();
    expect(sample(metrics, "tierline_http_requests_total", { method: "GET", route: "/v1/me", status: "200" })).to.equal(
      2,
    );
    expect(sample(metrics, "tierline_http_requests_total", { method: "GET", route: "/v1/me", status: "401" })).to.equal(
      1,
    );
    expect(
      sample(metrics, "tierline_http_request_duration_seconds_count", { route: "/v1/me", status: "200" }),
    ).to.equal(2);
    expect(sample(metrics, "tierline_idempotency_replays_total")).to.equal(1);
    // Two parties registered by this test, at least (the harness's own casts add more).
    expect(sample(metrics, "tierline_transactions", { kind: "registerParty", state: "mined" })).to.be.at.least(2);
    expect(sample(metrics, "tierline_indexer_lag_blocks")).to.be.at.least(0);
    expect(sample(metrics, "tierline_keeper_runs_total", { outcome: "ok" })).to.be.greaterThan(0);
    expect(sample(metrics, "tierline_keeper_backlog")).to.equal(0);
    expect(sample(metrics, "tierline_registrar_gas_balance_wei")).to.be.greaterThan(0);
    expect(sample(metrics, "tierline_replica_leader")).to.equal(1);
  });
});
