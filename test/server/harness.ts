// Starts the real service for integration tests: its own anvil chain on a free port, a
// fresh data directory, the contracts deployed by the boot path, the API on a free port.
// TIERLINE_TEST_DATABASE=postgres runs it on a fresh database of the test PostgreSQL server
// (test/helpers/postgres.ts) instead of the SQLite file: `npm test` runs the integration
// files both ways.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BootedService } from "../../server/boot.js";
import type { EmbeddedChain } from "../../scripts/chain/embedded-chain.js";
import { freePort, startLocalService } from "../../scripts/chain/local-service.js";
import { Contract, id, Wallet, ZeroHash, type BaseContract } from "ethers";
import { loadOperatorKeys } from "../../server/chain/operator-keys.js";
import { freshDatabaseUrl, testDatabaseEngine } from "../helpers/postgres.js";

export { freePort };

export interface TestService {
  baseUrl: string;
  operatorKey: string;
  service: BootedService;
  chain: EmbeddedChain;
  dataDir: string;
  env: Record<string, string>;
  /** Stops the API and the service; the chain and data stay for a restart. */
  stopService(): Promise<void>;
  /** Starts the service again on the same chain and data directory. */
  restartService(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestService(extraEnv: Record<string, string> = {}): Promise<TestService> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tierline-test-"));
  const env: Record<string, string> = {
    LOG_LEVEL: process.env.TIERLINE_TEST_LOG ?? "silent",
    TIERLINE_INDEXER_INTERVAL_MS: "100",
    TIERLINE_RATE_LIMIT_PER_MINUTE: "100000",
    TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: "100000",
    // The tests' webhook receivers listen on this machine (test/server/api/webhook-targets.test.ts
    // runs with the default, which refuses them).
    TIERLINE_WEBHOOK_PRIVATE_TARGETS: "allow",
    ...(testDatabaseEngine() === "postgres" ? { TIERLINE_DATABASE_URL: await freshDatabaseUrl() } : {}),
    ...extraEnv,
  };
  const local = await startLocalService({
    dataDir,
    chainPort: await freePort(),
    apiPort: 0,
    seed: false,
    env,
    // A block per transaction keeps these tests fast (interval mining doubled their time:
    // 25 s -> 51 s for the financing, certificates and repayments files). The chain tests,
    // the fault tests, the demo and the CLI tests run with the production mining;
    // TIERLINE_TEST_MINING=interval runs these with it too.
    chainOptions: { automine: process.env.TIERLINE_TEST_MINING !== "interval" },
  });
  const operatorKey = local.operatorKey!;
  return {
    get baseUrl() {
      return local.baseUrl;
    },
    operatorKey,
    get service() {
      return local.service;
    },
    chain: local.chain,
    dataDir,
    env: { TIERLINE_DATA_DIR: dataDir, ...env },
    stopService: () => local.stopApi(),
    restartService: () => local.restartApi(),
    async close() {
      await local.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const TIMELOCK_ABI = [
  "function getMinDelay() view returns (uint256)",
  "function schedule(address target, uint256 value, bytes data, bytes32 predecessor, bytes32 salt, uint256 delay)",
  "function execute(address target, uint256 value, bytes payload, bytes32 predecessor, bytes32 salt) payable",
];
let adminActions = 0;

/**
 * An admin action the way the operator's governor takes it: scheduled on the timelock and
 * executed after its delay (0 on the local chain). The governor's key is generated for the
 * data directory and kept encrypted; the service itself never loads it.
 */
export async function asGovernor(t: TestService, target: BaseContract, fn: string, args: unknown[]): Promise<void> {
  const ctx = t.service.ctx;
  const keys = loadOperatorKeys(ctx.config.dataDir, ctx.vault, {}, { generateHot: true });
  const governor = new Wallet(keys.governor, ctx.chain.provider);
  const timelock = new Contract(ctx.chain.deployment.addresses.timelock!, TIMELOCK_ABI, governor);
  const data = target.interface.encodeFunctionData(fn, args);
  const salt = id(`test-admin-action-${++adminActions}-${Date.now()}`);
  const zero = ZeroHash;
  const delay = (await timelock.getFunction("getMinDelay")()) as bigint;
  await (await timelock.getFunction("schedule")(target.target, 0n, data, zero, salt, delay)).wait();
  await (await timelock.getFunction("execute")(target.target, 0n, data, zero, salt)).wait();
}
