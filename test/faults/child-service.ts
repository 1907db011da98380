// The service as a real child process, for the fault tests: an anvil chain started here
// (so it outlives every service process and can itself be stopped and started), and
// `node --import tsx scripts/start.ts` pointed at it on a fresh data directory. A child
// started with `crashAt` dies by SIGKILL at that crash point (server/faults.ts); the next
// one starts on the same data directory and chain, as an operator would restart it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { type JsonRpcProvider, type BaseContract, type EventLog } from "ethers";
import { startEmbeddedChain, type EmbeddedChain } from "../../scripts/chain/embedded-chain.js";
import { freePort } from "../../scripts/chain/local-service.js";
import { bindContracts, type ContractAddresses, type TierlineContracts } from "../../server/chain/contracts.js";
import { createProvider } from "../../server/chain/chain-client.js";
import type { Credentials } from "../../server/seed.js";
import { ApiClient, type ApiResponse } from "../server/client.js";
import { until } from "../helpers/until.js";

/** A block per transaction: these tests reason about "broadcast, then killed" as "on the chain"
 * (with blocks every 250 ms, two of them read the chain before the block that holds the
 * transaction, and one reads the index right after the chain). */
const FAULT_CHAIN_OPTIONS = { automine: true };

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HEALTH_TIMEOUT_MS = 60_000;
const CRASH_TIMEOUT_MS = 60_000;

/** Children still running when the test process ends are killed (by their own pid). */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildService {
  readonly process: ChildProcess;
  readonly baseUrl: string;
  readonly exited: Promise<Exit>;
  /** What the child wrote to stderr so far. */
  stderr(): string;
}

export interface Party {
  id: string;
  name: string;
  address: string;
  apiKey: string;
}

/** The demo cast that scripts/start.ts seeds on the first start, by role in these tests. */
const CAST = {
  debtor: "Northwind Mart",
  tier1: "Acme Components",
  tier2: "Bolt Metals",
  tier3: "Coil Wire Co",
  financier: "Harbor Bank",
  financier2: "Summit Factoring",
  auditor: "Ledger Audit",
} as const;
export type CastRole = keyof typeof CAST;

export class FaultWorld {
  readonly api: ApiClient;
  child: ChildService | undefined;
  #credentials: Credentials | undefined;
  #contracts: TierlineContracts | undefined;
  #deploymentBlock = 0;

  private constructor(
    readonly dataDir: string,
    readonly chainPort: number,
    public chain: EmbeddedChain,
    readonly provider: JsonRpcProvider,
    private readonly extraEnv: Record<string, string>,
  ) {
    this.api = new ApiClient(() => {
      if (!this.child) throw new Error("no service is running");
      return this.child.baseUrl;
    });
  }

  /** A chain and a first (seeding) start of the service. */
  static async create(extraEnv: Record<string, string> = {}): Promise<FaultWorld> {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tierline-faults-"));
    const chainPort = await freePort();
    const chain = await startEmbeddedChain(dataDir, chainPort, FAULT_CHAIN_OPTIONS);
    // The test's own view of the chain: the private channel, for clock and mining controls.
    const provider = createProvider(chain.controlUrl);
    const world = new FaultWorld(dataDir, chainPort, chain, provider, extraEnv);
    await world.start();
    world.#credentials = JSON.parse(readFileSync(path.join(dataDir, "credentials.json"), "utf8")) as Credentials;
    const health = await world.api.get("/health");
    world.#contracts = bindContracts(health.body.contracts as ContractAddresses, provider);
    world.#deploymentBlock = health.body.deploymentBlock as number;
    return world;
  }

  get contracts(): TierlineContracts {
    return this.#contracts!;
  }

  party(role: CastRole): Party {
    const found = this.#credentials!.parties.find((p) => p.name.startsWith(CAST[role]));
    if (!found) throw new Error(`the demo cast has no ${CAST[role]}`);
    return { id: found.id, name: found.name, address: found.address, apiKey: found.apiKey };
  }

  as(role: CastRole): ApiClient {
    return this.api.as(this.party(role).apiKey);
  }

  /** Starts the service; with `crashAt`, it dies at that crash point. Resolves once /health answers 200. */
  async start(options: { crashAt?: string; env?: Record<string, string> } = {}): Promise<ChildService> {
    if (this.child && this.child.process.exitCode === null && this.child.process.signalCode === null) {
      throw new Error("a service is still running");
    }
    return this.spawnService({ ...options, onSpawned: (service) => (this.child = service) });
  }

  /**
   * Starts one more service process on this chain, beside any running one: a replica, when the
   * world's environment points every process at one PostgreSQL database. `dataDir` gives it a
   * data directory of its own. `this.child` (whom `api` talks to) is not changed.
   */
  async spawnService(
    options: {
      crashAt?: string;
      env?: Record<string, string>;
      dataDir?: string;
      onSpawned?: (service: ChildService) => void;
    } = {},
  ): Promise<ChildService> {
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env))
      if (value !== undefined && !key.startsWith("TIERLINE_")) env[key] = value;
    Object.assign(env, {
      TIERLINE_RPC_URL: this.chain.url,
      TIERLINE_DATA_DIR: options.dataDir ?? this.dataDir,
      PORT: String(port),
      LOG_LEVEL: process.env.TIERLINE_TEST_LOG ?? "warn",
      TIERLINE_INDEXER_INTERVAL_MS: "100",
      TIERLINE_KEEPER_INTERVAL_MS: "200",
      TIERLINE_RATE_LIMIT_PER_MINUTE: "100000",
      TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: "100000",
      TIERLINE_WEBHOOK_PRIVATE_TARGETS: "allow", // the tests' receivers listen on this machine
      ...this.extraEnv,
      ...options.env,
      ...(options.crashAt ? { TIERLINE_CRASH_AT: options.crashAt } : {}),
    });
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      if (process.env.TIERLINE_TEST_LOG) process.stderr.write(chunk);
    });
    child.stdout!.resume();
    const exited = new Promise<Exit>((resolve) =>
      child.once("exit", (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      }),
    );
    const service: ChildService = { process: child, baseUrl: `http://127.0.0.1:${port}`, exited, stderr: () => stderr };
    options.onSpawned?.(service);

    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the service exited while starting (${child.exitCode ?? child.signalCode}):\n${stderr}`);
      }
      try {
        const response = await fetch(`${service.baseUrl}/health`);
        if (response.status === 200) return service;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline)
        throw new Error(`the service did not answer /health within ${HEALTH_TIMEOUT_MS} ms:\n${stderr}`);
      await sleep(100);
    }
  }

  /** A graceful stop (SIGTERM), as Ctrl-C would. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
    child.process.kill("SIGTERM");
    const exit = await withTimeout(child.exited, 20_000, "the service did not stop on SIGTERM");
    expect(exit.code, child.stderr()).to.equal(0);
  }

  /** Waits for the running child to die at `point`, and proves it was that crash point's SIGKILL. */
  async expectCrashAt(point: string): Promise<void> {
    const child = this.child!;
    const exit = await withTimeout(child.exited, CRASH_TIMEOUT_MS, `the service did not crash at ${point}`);
    expect(exit.signal, `exit ${JSON.stringify(exit)}; stderr:\n${child.stderr()}`).to.equal("SIGKILL");
    expect(child.stderr()).to.include(`TIERLINE_CRASH_AT: crashing at ${point}`);
  }

  /** Starts the service with `crashAt`, runs `action` (whose request the crash cuts off), and waits for the crash. */
  async crashDuring(
    point: string,
    action: () => Promise<unknown>,
    options: { requestDropped?: boolean } = {},
  ): Promise<void> {
    await this.stop();
    await this.start({ crashAt: point });
    const outcome = await action().then(
      (response) => ({ dropped: false as const, response }),
      (error: unknown) => ({ dropped: true as const, error }),
    );
    await this.expectCrashAt(point);
    if (options.requestDropped ?? true) {
      expect(
        outcome.dropped,
        `the request was answered: ${JSON.stringify((outcome as { response?: ApiResponse }).response?.body)}`,
      ).to.equal(true);
    }
  }

  /** Stops the chain's JSON-RPC endpoint (anvil saves its state) and waits until its port is closed. */
  async stopChain(): Promise<void> {
    // The npm package's launcher (node_modules/.bin/anvil) exits as soon as it has passed the
    // signal on; the anvil binary it started still saves the state and holds the port a moment.
    const binaries = this.chain.process.pid === undefined ? [] : childrenOf(this.chain.process.pid);
    await this.chain.stop();
    const deadline = Date.now() + 20_000;
    while (binaries.some(alive) || (await accepting(this.chainPort))) {
      if (Date.now() > deadline) throw new Error(`the chain on port ${this.chainPort} did not stop`);
      await sleep(100);
    }
  }

  /** Starts the chain again on the same port from its saved state. */
  async startChain(): Promise<void> {
    this.chain = await startEmbeddedChain(this.dataDir, this.chainPort, FAULT_CHAIN_OPTIONS);
  }

  /** Events named `name` of `contract`, read from the chain's logs (never the index). */
  async chainEvents(contract: BaseContract, name: string, ...topics: unknown[]): Promise<EventLog[]> {
    const filter = contract.filters[name]!(...topics);
    const logs = await contract.queryFilter(filter, this.#deploymentBlock, "latest");
    return logs as EventLog[];
  }

  async balanceOf(address: string): Promise<bigint> {
    return BigInt(await this.contracts.token.getFunction("balanceOf")(address));
  }

  /** The auditor's comparison of the index with the chain's events for `receivableId`. */
  async auditMatches(receivableId: string): Promise<void> {
    const report = await this.as("auditor").get(`/v1/audit/verify/${receivableId}`);
    expect(report.status, JSON.stringify(report.body)).to.equal(200);
    expect(report.body.matches, JSON.stringify(report.body, null, 1)).to.equal(true);
  }

  async close(): Promise<void> {
    const child = this.child?.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await this.child!.exited;
    }
    this.provider.destroy();
    await this.stopChain();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pids of `pid`'s children (Linux /proc; none elsewhere). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** Is process `pid` still there? (Signal 0 only probes.) */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Does anything accept TCP connections on 127.0.0.1:`port`? */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms` (test/helpers/until.ts). */
export function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  return until(what, check, ms);
}
