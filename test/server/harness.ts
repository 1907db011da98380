// Starts the real service for integration tests: its own anvil chain on a free port, a
// fresh data directory, the contracts deployed by the boot path, the API on a free port.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BootedService } from "../../server/boot.js";
import type { EmbeddedChain } from "../../scripts/chain/embedded-chain.js";
import { freePort, startLocalService } from "../../scripts/chain/local-service.js";

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
