// A whole Tierline on this machine in one call: an anvil chain on `chainPort`, the
// service booted on a data directory, the API listening. Used by the demo when no
// service is running, and by the integration tests.
import type { Server } from "node:http";
import { createServer } from "node:net";
import { bootService, type BootedService } from "../../server/boot.js";
import { createApp } from "../../server/api/app.js";
import { loadConfig } from "../../server/config.js";
import { createLogger } from "../../server/logging.js";
import { seedDemo, type Credentials } from "../../server/seed.js";
import { startEmbeddedChain, type EmbeddedChain } from "./embedded-chain.js";

/** A TCP port nothing listens on right now. */
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

export interface LocalServiceOptions {
  dataDir: string;
  chainPort: number;
  /** 0 picks a free port. */
  apiPort: number;
  /** Create the demo cast on the first boot. */
  seed: boolean;
  env?: Record<string, string>;
}

export interface LocalService {
  readonly baseUrl: string;
  readonly chain: EmbeddedChain;
  readonly service: BootedService;
  /** The operator's API key, when this boot created the operator. */
  readonly operatorKey: string | undefined;
  readonly credentials: Credentials | undefined;
  stopApi(): Promise<void>;
  restartApi(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const chain = await startEmbeddedChain(options.dataDir, options.chainPort);
  const config = loadConfig({
    TIERLINE_DATA_DIR: options.dataDir,
    TIERLINE_CHAIN_PORT: String(options.chainPort),
    PORT: String(options.apiPort),
    LOG_LEVEL: "silent",
    ...options.env,
  });
  const log = createLogger(config.LOG_LEVEL);
  let service!: BootedService;
  let server!: Server;
  let baseUrl = "";
  let operatorKey: string | undefined;
  let credentials: Credentials | undefined;

  const boot = async () => {
    service = await bootService({ config, log, deployIfMissing: true });
    if (service.newOperatorApiKey) {
      operatorKey = service.newOperatorApiKey;
      if (options.seed) credentials = await seedDemo(service.ctx, operatorKey);
    }
    const app = createApp(service.ctx);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(options.apiPort, "127.0.0.1", () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  };
  try {
    await boot();
  } catch (error) {
    await chain.stop();
    throw error;
  }
  const stopApi = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await service.close();
  };
  return {
    get baseUrl() {
      return baseUrl;
    },
    chain,
    get service() {
      return service;
    },
    get operatorKey() {
      return operatorKey;
    },
    get credentials() {
      return credentials;
    },
    stopApi,
    restartApi: boot,
    async stop() {
      await stopApi().catch(() => {});
      await chain.stop();
    },
  };
}
