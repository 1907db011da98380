// A platform's data survives any number of restarts: 20 full stop/start cycles of the real
// embedded chain and the service on one data directory, with a party and a registered
// receivable written in every cycle. Every start is the same chain (block 0 unchanged),
// serves everything written before, and the auditor's verify-from-chain matches the index.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { freePort, startLocalService, type LocalService } from "../../../scripts/chain/local-service.js";
import { ApiClient } from "../client.js";
import { ChainMismatchError } from "../../../server/boot.js";
import { openDatabase } from "../../../server/store/database.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

const CYCLES = 20;

describe("The embedded chain across restarts", function () {
  let dataDir: string;
  let local: LocalService | undefined;
  const api = new ApiClient(() => local!.baseUrl);

  const start = async () => {
    local = await startLocalService({
      dataDir,
      chainPort: await freePort(),
      apiPort: 0,
      seed: false,
      env: {
        LOG_LEVEL: "silent",
        TIERLINE_INDEXER_INTERVAL_MS: "100",
        TIERLINE_RATE_LIMIT_PER_MINUTE: "100000",
        TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: "100000",
      },
    });
  };
  const genesisHash = async () =>
    (await local!.chain.control.call<{ hash: string }>("eth_getBlockByNumber", ["0x0", false])).hash;

  before(function () {
    dataDir = mkdtempSync(path.join(tmpdir(), "tierline-soak-"));
  });
  after(async function () {
    await local?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`serves the same chain and every write after ${CYCLES} stop/start cycles, and verify matches`, async function () {
    await start();
    const operatorKey = local!.operatorKey!;
    const operator = api.as(operatorKey);
    const genesis = await genesisHash();
    const genesisRecord = readFileSync(path.join(dataDir, "chain", "genesis.json"), "utf8");
    const auditor = await createTestParty(operator, ["auditor"]);
    const debtor = await createTestParty(operator, ["debtor"]);
    const written: { supplier: TestParty; receivableId: string; certificateId: string }[] = [];

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      // A write in this cycle: a new party, registered on-chain, and its receivable registered.
      const supplier = await createTestParty(operator, ["supplier"]);
      const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
      expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
      const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      written.push({ supplier, receivableId: submitted.body.id, certificateId: confirmed.body.certificateId });
      const head = Number(await local!.chain.control.call<string>("eth_blockNumber"));

      await local!.stop();
      await start();

      expect(await genesisHash(), `block 0 after restart ${cycle}`).to.equal(genesis);
      expect(Number(await local!.chain.control.call<string>("eth_blockNumber"))).to.be.at.least(head);
      const health = await api.get("/health");
      expect(health.status, JSON.stringify(health.body)).to.equal(200);
      // The newest write is served and verifies against the chain after every restart.
      const newest = written.at(-1)!;
      const certificate = await api.as(newest.supplier.apiKey).get(`/v1/certificates/${newest.certificateId}`);
      expect(certificate.status, JSON.stringify(certificate.body)).to.equal(200);
      expect(certificate.body.holderPartyId).to.equal(newest.supplier.id);
      const verify = await api.as(auditor.apiKey).get(`/v1/audit/verify/${newest.receivableId}`);
      expect(verify.body.matches, JSON.stringify(verify.body)).to.equal(true);
    }

    // Everything written in any cycle is still there, unchanged, and verifies.
    for (const { supplier, receivableId, certificateId } of written) {
      const receivable = await api.as(supplier.apiKey).get(`/v1/receivables/${receivableId}`);
      expect(receivable.body.status).to.equal("active");
      expect(receivable.body.rootCertificateId).to.equal(certificateId);
      const verify = await api.as(auditor.apiKey).get(`/v1/audit/verify/${receivableId}`);
      expect(verify.body.matches, JSON.stringify(verify.body)).to.equal(true);
    }
    expect(readFileSync(path.join(dataDir, "chain", "genesis.json"), "utf8")).to.equal(genesisRecord);
    // Registered receivables left "confirming": the next start has nothing to resume.
    const statuses = await local!.service.ctx.db.selectFrom("receivables").select("status").execute();
    expect(statuses.map((r) => r.status)).to.deep.equal(written.map(() => "registered"));
  });

  it("refuses contracts deployed from another build, names the way out, and changes nothing", async function () {
    await local?.stop();
    local = undefined;
    const db = await openDatabase(path.join(dataDir, "tierline.db"));
    const original = (
      await db.selectFrom("meta").select("value").where("key", "=", "deployment").executeTakeFirstOrThrow()
    ).value;
    const deployment = JSON.parse(original) as { contractsBuild?: string };
    expect(deployment.contractsBuild).to.match(/^0x[0-9a-f]{64}$/);
    // As an earlier version wrote it: no build recorded (its contracts had another layout).
    const { contractsBuild: _recorded, ...earlier } = deployment;
    await db
      .updateTable("meta")
      .set({ value: JSON.stringify(earlier) })
      .where("key", "=", "deployment")
      .execute();
    await db.destroy();
    const refusal = await start().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refusal).to.be.instanceOf(ChainMismatchError);
    expect(refusal!.message).to.include("deployed from another build of Tierline's contracts");
    expect(refusal!.message).to.include("Nothing was changed or deleted");
    expect(refusal!.message).to.include("npm run reset");

    // The record is as it was left, and with the build restored the same data starts again.
    const again = await openDatabase(path.join(dataDir, "tierline.db"));
    await again.updateTable("meta").set({ value: original }).where("key", "=", "deployment").execute();
    await again.destroy();
    await start();
  });

  it("refuses a chain that is not the one the data was built from, without advising to delete anything", async function () {
    await local?.stop();
    local = undefined;
    // As if the chain's files had been swapped for another chain's: the recorded genesis differs.
    const db = await openDatabase(path.join(dataDir, "tierline.db"));
    const stored = await db
      .selectFrom("meta")
      .select("value")
      .where("key", "=", "deployment")
      .executeTakeFirstOrThrow();
    const deployment = JSON.parse(stored.value) as { genesisHash: string };
    await db
      .updateTable("meta")
      .set({ value: JSON.stringify({ ...deployment, genesisHash: `0x${"12".repeat(32)}` }) })
      .where("key", "=", "deployment")
      .execute();
    await db.destroy();
    const refusal = await start().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refusal).to.be.instanceOf(ChainMismatchError);
    expect(refusal!.message).to.include("is not the chain this data directory was built from");
    expect(refusal!.message).to.include("Nothing was changed or deleted");
    expect(refusal!.message).to.include("restore them from a backup of this data directory");
    expect(refusal!.message).not.to.match(/npm run reset|start afresh/);
    expect(readFileSync(path.join(dataDir, "chain", "genesis.json"), "utf8")).to.match(/"timestamp"/);
  });
});
