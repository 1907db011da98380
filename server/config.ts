// Service configuration: environment variables, validated with zod at start-up. A bad
// value stops the service with a message that names the variable.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

const hexKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex private key");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const port = z.coerce.number().int().min(0).max(65_535);
const bps = z.coerce.number().int().min(0).max(10_000);

export const ConfigSchema = z.object({
  /** Where the embedded database, the chain state and the credentials live. */
  TIERLINE_DATA_DIR: z.string().min(1).default(".tierline"),
  /** SQLite file; defaults to <data dir>/tierline.db. */
  TIERLINE_DATABASE: z.string().min(1).optional(),
  /** postgres://user:password@host:port/db: PostgreSQL instead of the SQLite file, for several replicas. */
  TIERLINE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, "must be a postgres:// (or postgresql://) connection URL")
    .optional(),
  /** Leadership (keeper, indexer, risk monitor): how often a follower tries to take over, milliseconds. */
  TIERLINE_LEADER_INTERVAL_MS: z.coerce.number().int().min(50).default(1_000),
  /** An EVM JSON-RPC endpoint. Unset: `npm start` runs the embedded local chain. */
  TIERLINE_RPC_URL: z.url().optional(),
  /** Port of the embedded chain's public JSON-RPC endpoint (standard methods only). */
  TIERLINE_CHAIN_PORT: port.default(8545),
  /** Browser origins (comma-separated `scheme://host:port`) the public chain endpoint accepts; none by default. */
  TIERLINE_CHAIN_ALLOWED_ORIGINS: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  /** The registrar's key (registers debtor-confirmed receivables, sets early-payment rates for
   * later registrations). Unset on a local chain: generated for the data directory, kept encrypted. */
  TIERLINE_REGISTRAR_KEY: hexKey.optional(),
  /** The keeper's key (marks overdue/defaulted, settles: gas only, no role). Unset locally: generated. */
  TIERLINE_KEEPER_KEY: hexKey.optional(),
  /** The party manager's key (registers and suspends parties). Unset locally: generated. */
  TIERLINE_PARTY_MANAGER_KEY: hexKey.optional(),
  /** The risk attester's key (signs attestations of financing requests). Unset locally: generated. */
  TIERLINE_ATTESTER_KEY: hexKey.optional(),
  /** When deploying on a real network: the governor (a multisig) that proposes admin actions to the timelock. */
  TIERLINE_GOVERNOR: address.optional(),
  /** When deploying on a real network: the pauser's address (a cold key or multisig). */
  TIERLINE_PAUSER: address.optional(),
  /** When deploying: the timelock's delay in seconds. Unset: 0 on the local chain, 2 days elsewhere
   * (0 is refused off the local chain). */
  TIERLINE_TIMELOCK_DELAY_SECONDS: z.coerce.number().int().min(0).optional(),
  /** Deployed contracts as JSON ({"receivableRegistry": "0x…", …}); unset: deploy once per chain. */
  TIERLINE_CONTRACTS: z.string().optional(),
  /** A file holding TIERLINE_CONTRACTS (as `npm run deploy:network` writes it); unset:
   * <data dir>/contracts.json when it exists. TIERLINE_CONTRACTS, when set, wins. */
  TIERLINE_CONTRACTS_FILE: z.string().min(1).optional(),
  /** An existing ERC-20 to settle in when deploying; unset: a local test token. */
  TIERLINE_SETTLEMENT_TOKEN: address.optional(),
  /** The currency code receivables are denominated in (the settlement token's). */
  TIERLINE_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default("USD"),
  /** Key that encrypts custodial parties' keys at rest (32-byte hex); unset: kept in the data dir. */
  TIERLINE_MASTER_KEY: hexKey.optional(),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: port.default(3000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Log lines as JSON, or readable; unset: readable in a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  /** Verification: tolerated unit-price difference between invoice and order, basis points. */
  TIERLINE_PRICE_TOLERANCE_BPS: bps.default(50),
  /** Verification: tolerated invoiced quantity above received quantity, basis points. */
  TIERLINE_QUANTITY_TOLERANCE_BPS: bps.default(0),
  /** Verification: the invoice's tax at most this share of its lines before tax, basis points (2,500 = 25 %). */
  TIERLINE_MAX_TAX_BPS: bps.default(2_500),
  /** Fraud signals: hold a seller's submission on a debtor when more than this many arrived in the window. */
  TIERLINE_BRUSHING_MAX_COUNT: z.coerce.number().int().min(0).default(10),
  /** Fraud signals: the brushing window, hours. */
  TIERLINE_BRUSHING_WINDOW_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 366)
    .default(24),
  /** Fraud signals: hold when the face value is above this multiple of the seller's mean on the debtor. */
  TIERLINE_VOLUME_SPIKE_FACTOR: z.coerce.number().positive().max(1_000_000).default(5),
  /** Fraud signals: ... given at least this many earlier receivables. */
  TIERLINE_VOLUME_SPIKE_MIN_HISTORY: z.coerce.number().int().min(1).default(3),
  /** Verification: shortest and longest tenor (invoice date to due date), days. */
  TIERLINE_MIN_TENOR_DAYS: z.coerce.number().int().min(0).default(1),
  TIERLINE_MAX_TENOR_DAYS: z.coerce.number().int().min(1).default(180),
  /** How confirmed receivables reach the registry: many per registerBatch transaction
   * (server/chain/registration-batcher.ts), or one register transaction each. */
  TIERLINE_REGISTRATION: z.enum(["batch", "single"]).default("batch"),
  /** A batch is sent when it holds this many registrations (fewer if the gas cap says so)… */
  TIERLINE_BATCH_MAX_ITEMS: z.coerce.number().int().min(1).max(1_000).default(100),
  /** …or this many milliseconds after its first one. */
  TIERLINE_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(10_000).default(20),
  /** Gas bound per registration in a batch; unset: the measured bound (registration-batcher.ts). */
  TIERLINE_BATCH_GAS_PER_ITEM: z.coerce.number().int().min(21_000).optional(),
  /** Indexer poll interval, milliseconds. */
  TIERLINE_INDEXER_INTERVAL_MS: z.coerce.number().int().min(10).default(500),
  /** The keeper (automatic settlement, overdue and default marking): on unless "false". */
  TIERLINE_KEEPER: z.enum(["true", "false"]).default("true"),
  /** Webhook deliveries (server/keeper/webhook-dispatcher.ts): poll interval, attempts, first retry delay, timeout. */
  TIERLINE_WEBHOOKS: z.enum(["true", "false"]).default("true"),
  TIERLINE_WEBHOOK_INTERVAL_MS: z.coerce.number().int().min(20).default(500),
  TIERLINE_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
  TIERLINE_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(5_000),
  TIERLINE_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Webhook endpoints on this machine, a private network or a link-local address (cloud
   * metadata): refused unless "allow" (receivers on a network the operator trusts; the tests'). */
  TIERLINE_WEBHOOK_PRIVATE_TARGETS: z.enum(["refuse", "allow"]).default("refuse"),
  /** How often the keeper looks for work, milliseconds. */
  TIERLINE_KEEPER_INTERVAL_MS: z.coerce.number().int().min(50).default(2_000),
  /** Requests per minute per IP address before 429, for requests without a known API key. */
  TIERLINE_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Requests per minute per API key (per party) before 429, wherever they come from. */
  TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /**
   * The smallest piece a split may make, in the settlement token's smallest unit (default
   * 1000000: 1.00 of a 6-decimal token), so that leaves cannot grow without limit at the
   * keeper's cost. A deployment by the service sets the contract's tier policy to the same
   * minimum; contracts deployed otherwise keep their own (one whole unit by default).
   */
  TIERLINE_MIN_PIECE_SIZE: z
    .string()
    .regex(/^[1-9][0-9]{0,30}$/, "a positive integer amount in the token's smallest unit")
    .default("1000000"),
});

export type RawConfig = z.infer<typeof ConfigSchema>;

export interface Config extends RawConfig {
  dataDir: string;
  databaseFile: string;
  embeddedChain: boolean;
  rpcUrl: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Parses `env` (process.env by default). Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const relevant = Object.fromEntries(
    Object.keys(ConfigSchema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value === "" ? [] : [[key, value]];
    }),
  );
  const parsed = ConfigSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (issue) => `${issue.path.join(".")}=${JSON.stringify(relevant[String(issue.path[0])])}: ${issue.message}`,
      ),
    );
  }
  const raw = parsed.data;
  const dataDir = path.resolve(cwd, raw.TIERLINE_DATA_DIR);
  raw.TIERLINE_CONTRACTS ??= readContractsFile(raw.TIERLINE_CONTRACTS_FILE, dataDir, cwd);
  if (raw.TIERLINE_CONTRACTS !== undefined) parseContractsVariable(raw.TIERLINE_CONTRACTS);
  if (raw.TIERLINE_MIN_TENOR_DAYS > raw.TIERLINE_MAX_TENOR_DAYS) {
    throw new ConfigError([`TIERLINE_MIN_TENOR_DAYS must not exceed TIERLINE_MAX_TENOR_DAYS`]);
  }
  // Keys: whether each hot key must be configured depends on the chain (generated on a local
  // chain, required elsewhere), so boot checks that once it knows the chain id.
  return {
    ...raw,
    dataDir,
    databaseFile: path.resolve(cwd, raw.TIERLINE_DATABASE ?? path.join(dataDir, "tierline.db")),
    embeddedChain: raw.TIERLINE_RPC_URL === undefined,
    rpcUrl: raw.TIERLINE_RPC_URL ?? `http://127.0.0.1:${raw.TIERLINE_CHAIN_PORT}`,
  };
}

/** Where `npm run deploy:network` writes the deployed addresses, and `npm start` reads them. */
export function contractsFile(configured: string | undefined, dataDir: string, cwd = process.cwd()): string {
  return configured === undefined ? path.join(dataDir, "contracts.json") : path.resolve(cwd, configured);
}

function readContractsFile(configured: string | undefined, dataDir: string, cwd: string): string | undefined {
  const file = contractsFile(configured, dataDir, cwd);
  if (existsSync(file)) return readFileSync(file, "utf8");
  if (configured !== undefined) throw new ConfigError([`TIERLINE_CONTRACTS_FILE: no file at ${file}`]);
  return undefined;
}

const ContractsSchema = z
  .object({
    settlementToken: address,
    partyRegistry: address,
    receivableRegistry: address,
    certificateToken: address,
    financingMarket: address,
    settlementEscrow: address,
    /** Disputes, credit notes and recourse (issue 16): written by deployments made since. */
    dilutionLedger: address.optional(),
    recourseLedger: address.optional(),
    timelock: address.optional(),
    deploymentBlock: z.coerce.number().int().min(0),
    /** The chain the contracts are on: checked at start-up when given. */
    chainId: z.coerce.number().int().positive().optional(),
  })
  .strict();

export type ConfiguredContracts = z.infer<typeof ContractsSchema>;

export function parseContractsVariable(json: string): ConfiguredContracts {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ConfigError(["TIERLINE_CONTRACTS: not valid JSON"]);
  }
  const parsed = ContractsSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `TIERLINE_CONTRACTS.${i.path.join(".")}: ${i.message}`));
  }
  return parsed.data;
}

/** Where the service is, as every entry point sees it: the API, the chain, the data directory. */
export interface Endpoints {
  /** The API as a client reaches it (a wildcard HOST is reached on loopback). */
  apiUrl: string;
  /** The chain Tierline runs on: TIERLINE_RPC_URL, else the embedded chain on TIERLINE_CHAIN_PORT. */
  rpcUrl: string;
  embeddedChain: boolean;
  dataDir: string;
  credentialsFile: string;
}

const EndpointsSchema = ConfigSchema.pick({
  TIERLINE_DATA_DIR: true,
  TIERLINE_RPC_URL: true,
  TIERLINE_CHAIN_PORT: true,
  HOST: true,
  PORT: true,
});

/**
 * The same PORT / HOST / TIERLINE_CHAIN_PORT / TIERLINE_RPC_URL / TIERLINE_DATA_DIR as
 * `npm start` reads, for the CLIs (demo, financier, audit, reset, reindex) that talk to a
 * running service: they need no registrar key, only where things are.
 */
export function loadEndpoints(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Endpoints {
  const relevant = Object.fromEntries(
    Object.keys(EndpointsSchema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value === "" ? [] : [[key, value]];
    }),
  );
  const parsed = EndpointsSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (issue) => `${issue.path.join(".")}=${JSON.stringify(relevant[String(issue.path[0])])}: ${issue.message}`,
      ),
    );
  }
  const raw = parsed.data;
  const host = ["0.0.0.0", "::", "[::]"].includes(raw.HOST) ? "127.0.0.1" : raw.HOST;
  const dataDir = path.resolve(cwd, raw.TIERLINE_DATA_DIR);
  return {
    apiUrl: `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${raw.PORT}`,
    rpcUrl: raw.TIERLINE_RPC_URL ?? `http://127.0.0.1:${raw.TIERLINE_CHAIN_PORT}`,
    embeddedChain: raw.TIERLINE_RPC_URL === undefined,
    dataDir,
    credentialsFile: path.join(dataDir, "credentials.json"),
  };
}
