// Starts the real service for integration tests: its own anvil chain on a free port, a
// fresh data directory, the contracts deployed by the boot path, the API on a free port.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootService, type BootedService } from "../../server/boot.js";
import { createApp } from "../../server/api/app.js";
import { loadConfig } from "../../server/config.js";
import { createLogger } from "../../server/logging.js";
import { EMBEDDED_REGISTRAR_KEY, startEmbeddedChain, type EmbeddedChain } from "../../scripts/chain/embedded-chain.js";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

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
  const chainPort = await freePort();
  const chain = await startEmbeddedChain(dataDir, chainPort);
  const env: Record<string, string> = {
    TIERLINE_DATA_DIR: dataDir,
    TIERLINE_CHAIN_PORT: String(chainPort),
    PORT: "0",
    LOG_LEVEL: process.env.TIERLINE_TEST_LOG ?? "silent",
    TIERLINE_INDEXER_INTERVAL_MS: "100",
    TIERLINE_RATE_LIMIT_PER_MINUTE: "100000",
    ...extraEnv,
  };
  const config = loadConfig(env);
  const log = createLogger(config.LOG_LEVEL);

  let service!: BootedService;
  let server!: Server;
  let baseUrl = "";
  let operatorKey = "";
  const boot = async () => {
    service = await bootService({ config, log, registrarKey: EMBEDDED_REGISTRAR_KEY, deployIfMissing: true });
    if (service.newOperatorApiKey) operatorKey = service.newOperatorApiKey;
    const app = createApp(service.ctx);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s as unknown as Server));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  };
  await boot();

  const stopService = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await service.close();
  };
  const handle: TestService = {
    get baseUrl() {
      return baseUrl;
    },
    get operatorKey() {
      return operatorKey;
    },
    get service() {
      return service;
    },
    chain,
    dataDir,
    env,
    stopService,
    async restartService() {
      await boot();
    },
    async close() {
      await stopService().catch(() => {});
      await chain.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}
