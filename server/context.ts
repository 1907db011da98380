// Everything a use case may touch, built once at start-up and passed down explicitly.
import type { Config } from "./config.js";
import type { Db } from "./store/database.js";
import type { Logger } from "./logging.js";
import type { ChainClient } from "./chain/chain-client.js";
import type { Indexer } from "./chain/indexer.js";
import type { KeyVault } from "./chain/keys.js";
import type { VerificationConfig } from "./verification/types.js";
import type { Telemetry } from "./telemetry.js";

export interface ServiceContext {
  config: Config;
  db: Db;
  log: Logger;
  chain: ChainClient;
  indexer: Indexer;
  vault: KeyVault;
  verification: VerificationConfig;
  /** The operator's party id (the registrar's profile). */
  operatorId: string;
  /** Metrics and the background workers' status (/metrics, /health). */
  telemetry: Telemetry;
  /** Injected clock, so tests can move time. */
  now: () => Date;
}
