// The embedded local chain for `npm start`: anvil (from the npm package @foundry-rs/anvil).
// - Identity: the genesis timestamp is fixed on the first start and kept in
//   <data dir>/chain/genesis.json, so block 0 (the chain's identity) is the same block on
//   every start. No --prune-history: with the fixed timestamp block 0 survives a load, but
//   it drops past blocks' state and saved no memory at 25,000 receivables (README).
// - Persistence: this process, not anvil, saves the state (anvil_dumpState), atomically,
//   after new blocks and at stop (see chain-snapshots.ts); anvil writes nothing itself
//   (--max-persisted-states 0, cache path inside the data directory).
// - Mining: blocks are mined every BLOCK_INTERVAL_MS when transactions are waiting, so many
//   transactions share a block and an idle chain adds no empty blocks.
// - Access: anvil's control methods are reached only over its IPC socket inside the 0700
//   data directory; its own HTTP listener runs in a network namespace of its own where
//   Linux allows it (else on a random loopback port announced nowhere), with CORS off. The public endpoint (TIERLINE_CHAIN_PORT) is a filtering proxy
//   that serves standard Ethereum JSON-RPC only (rpc-proxy.ts).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { IpcRpcClient, ipcUrlOf } from "../../server/chain/ipc-transport.js";
import { ChainSnapshots } from "./chain-snapshots.js";
import { createRpcProxy } from "./rpc-proxy.js";

/** anvil's first dev account: the registrar on the embedded chain (never use it elsewhere). */
export const EMBEDDED_REGISTRAR_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export const CHAIN_ID = 31337;
/** How often waiting transactions are mined into a block. */
export const BLOCK_INTERVAL_MS = 250;
/** How often the state is saved when new blocks arrived (at least; see SNAPSHOT_DUTY_FACTOR). */
export const SNAPSHOT_INTERVAL_MS = 1_000;
/**
 * A save dumps the whole state (9.5 s at 10,000 receivables): the next waits at least this
 * many times as long as the last took, so saving never takes more than a fifth of the node's
 * time, however large the chain grows. A stop, and a start after a killed service, still
 * save everything the node holds.
 */
export const SNAPSHOT_DUTY_FACTOR = 4;

/** The wait before the next save, given the configured interval and how long the last save took. */
export function snapshotDelay(intervalMs: number, lastSaveMs: number | undefined): number {
  return Math.max(intervalMs, (lastSaveMs ?? 0) * SNAPSHOT_DUTY_FACTOR);
}

export interface EmbeddedChainOptions {
  /** Extra environment for the anvil process (tests point HOME elsewhere). */
  env?: Record<string, string>;
  /** Mine every transaction at once (a block each) instead of batching them every BLOCK_INTERVAL_MS. */
  automine?: boolean;
  /** Serve the public filtering endpoint on `port` (default true). */
  publicEndpoint?: boolean;
  /** Browser origins the public endpoint accepts. */
  allowedOrigins?: readonly string[];
  snapshotIntervalMs?: number;
  /** Where start-up notes go (a fallback to an older snapshot, a stale node stopped). */
  log?: (message: string) => void;
}

export interface SnapshotInfo {
  blockNumber: number;
  bytes: number;
  ms: number;
}

export interface EmbeddedChain {
  /** The public endpoint: standard Ethereum JSON-RPC only. */
  url: string;
  /** The private channel (ipc://<socket>): every method, for the service and its tools only. */
  controlUrl: string;
  control: IpcRpcClient;
  process: ChildProcess;
  snapshots: ChainSnapshots;
  /** Saves the state now (atomically); resolves when it is on disk. */
  snapshot(): Promise<SnapshotInfo>;
  lastSnapshot(): SnapshotInfo | undefined;
  stop(): Promise<void>;
}

/** The anvil binary itself (not the npm launcher, which would stand between us and its signals). */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const exe = process.platform === "win32" ? "anvil.exe" : "anvil";
  try {
    const packageDir = path.dirname(require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`));
    const binary = path.join(packageDir, "bin", exe);
    if (existsSync(binary)) return binary;
  } catch {
    /* fall back to the launcher */
  }
  const packageDir = path.dirname(require.resolve("@foundry-rs/anvil/package.json"));
  return path.join(packageDir, "..", "..", ".bin", "anvil");
}

interface GenesisRecord {
  chainId: number;
  timestamp: number;
}

/** The genesis timestamp, fixed on the first start of this data directory. */
function genesisOf(chainDir: string, snapshots: ChainSnapshots): GenesisRecord {
  const file = path.join(chainDir, "genesis.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as GenesisRecord;
  if (snapshots.any() || existsSync(path.join(chainDir, "state.json"))) {
    throw new Error(
      `${chainDir} holds a saved chain but no genesis.json, so block 0 cannot be rebuilt the same: ` +
        "the data is kept as it is. Restore genesis.json from a backup of this directory, or start Tierline " +
        "with another TIERLINE_DATA_DIR to begin a new chain beside it.",
    );
  }
  const record = { chainId: CHAIN_ID, timestamp: Math.floor(Date.now() / 1000) };
  writeFileSync(file, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  return record;
}

/** A socket path short enough for the OS (about 100 bytes); else in a private temp folder. */
function ipcSocketPath(chainDir: string): string {
  const preferred = path.join(chainDir, "anvil.ipc");
  if (Buffer.byteLength(preferred) < 100) return preferred;
  const dir = mkdtempSync(path.join(tmpdir(), "tierline-ipc-"));
  chmodSync(dir, 0o700);
  return path.join(dir, "anvil.ipc");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The orphan still holds every block its killed service sent it, saved or not: mine what
 * waits and save it, so a killed service loses nothing its node had. A node that does not
 * answer keeps the last good snapshot.
 */
async function saveOrphanState(
  chainDir: string,
  snapshots: ChainSnapshots,
  log: (message: string) => void,
): Promise<void> {
  const socketPath = ipcSocketPath(chainDir);
  if (!existsSync(socketPath)) return;
  const control = new IpcRpcClient(socketPath);
  try {
    const status = await control.call<{ pending: string }>("txpool_status", [], 10_000);
    if (Number(status.pending) > 0) await control.call("evm_mine", [], 30_000);
    const blockNumber = Number(await control.call<string>("eth_blockNumber", [], 10_000));
    const hex = await control.call<string>("anvil_dumpState", [], 300_000);
    snapshots.save(Buffer.from(hex.slice(2), "hex"));
    log(`saved its state first (block ${blockNumber})`);
  } catch (error) {
    log(`could not save its state (${(error as Error).message}); the last good snapshot is kept`);
  } finally {
    control.close();
  }
}

/**
 * A node left running by an instance that was killed (it still holds the socket): stopped,
 * since the data directory's lock says no instance owns it now. Only a process whose command
 * line names this chain directory is touched.
 */
async function stopOrphanNode(
  chainDir: string,
  snapshots: ChainSnapshots,
  log: (message: string) => void,
): Promise<void> {
  const pidFile = path.join(chainDir, "anvil.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return;
  }
  if (!cmdline.includes(chainDir)) return;
  log(`stopping the chain node (pid ${pid}) that a stopped Tierline left running on ${chainDir}`);
  await saveOrphanState(chainDir, snapshots, log);
  process.kill(pid, "SIGKILL");
  const until = Date.now() + 10_000;
  while (alive(pid) && Date.now() < until) await sleep(50);
}

/**
 * anvil always serves HTTP as well. Where Linux allows it (util-linux `unshare` and user
 * namespaces), anvil runs in a network namespace of its own, so that listener is reachable
 * from nowhere and the IPC socket is its only way in; elsewhere the listener sits on a
 * random loopback port that is announced nowhere, with CORS off.
 */
let isolation: string[] | undefined;
export function networkIsolation(): string[] {
  if (isolation === undefined) {
    isolation = [];
    if (process.platform === "linux" && process.env.TIERLINE_CHAIN_NO_NETNS !== "1") {
      const probe = spawnSync("unshare", ["-rn", "true"], { stdio: "ignore", timeout: 5_000 });
      if (probe.status === 0) isolation = ["unshare", "-rn"];
    }
  }
  return isolation;
}

/** anvil logs every call: its log is kept to two files of at most LOG_FILE_BYTES (bounded disk). */
const LOG_FILE_BYTES = 10 * 1024 * 1024;

function cappedLog(file: string): (chunk: Buffer) => void {
  let size = existsSync(file) ? statSync(file).size : 0;
  let stream = createWriteStream(file, { flags: "a", mode: 0o600 });
  return (chunk) => {
    if (size + chunk.length > LOG_FILE_BYTES) {
      stream.end();
      renameSync(file, `${file}.1`);
      stream = createWriteStream(file, { flags: "a", mode: 0o600 });
      size = 0;
    }
    size += chunk.length;
    stream.write(chunk);
  };
}

export async function startEmbeddedChain(
  dataDir: string,
  port: number,
  options: EmbeddedChainOptions = {},
): Promise<EmbeddedChain> {
  const log = options.log ?? (() => {});
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const chainDir = path.join(dataDir, "chain");
  mkdirSync(chainDir, { recursive: true, mode: 0o700 });
  chmodSync(chainDir, 0o700);
  const snapshots = new ChainSnapshots(chainDir);
  await stopOrphanNode(chainDir, snapshots, log);

  const genesis = genesisOf(chainDir, snapshots);
  const choice = snapshots.choose();
  for (const { file, reason } of choice.rejected) {
    log(
      `the chain snapshot ${file} does not read back (${reason}); ` +
        (choice.file
          ? `falling back to the last good snapshot ${choice.file} (block ${choice.blockNumber}); the damaged file is kept`
          : "no other snapshot is left"),
    );
  }
  if (!choice.file && snapshots.any()) {
    throw new Error(
      `no chain snapshot in ${chainDir} reads back (${choice.rejected.map((r) => `${path.basename(r.file)}: ${r.reason}`).join("; ")}). ` +
        "Nothing was deleted. Copy a good state.json.gz from a backup of this directory into it, then start again.",
    );
  }
  const loadFile = path.join(chainDir, "load-state.json");
  if (choice.json) writeFileSync(loadFile, choice.json, { mode: 0o600 });

  const socketPath = ipcSocketPath(chainDir);
  rmSync(socketPath, { force: true });
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    "0", // anvil always serves HTTP; bound to a port nobody is told about, CORS off
    "--no-cors",
    "--ipc",
    socketPath,
    "--chain-id",
    String(genesis.chainId),
    "--hardfork",
    "osaka",
    "--timestamp",
    String(genesis.timestamp),
    // Gas has no price on a private chain; a base fee would climb 12.5% a full block under
    // batched mining (bench:growth saw it pass 100 gwei at 8,400 registrations) and strand
    // transactions signed with yesterday's fee.
    "--block-base-fee-per-gas",
    "0",
    "--max-persisted-states",
    "0",
    "--cache-path",
    path.join(chainDir, "cache"),
    "--accounts",
    "10",
    "--balance",
    "1000000",
    ...(options.automine ? [] : ["--no-mining"]),
    ...(choice.json ? ["--load-state", loadFile] : []),
  ];
  const [command, ...prefix] = [...networkIsolation(), anvilBinary()];
  const child = spawn(command!, [...prefix, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    // A process group of its own: Ctrl-C in a terminal (or `timeout npm start`) signals the
    // whole foreground group, and a node that died of it could not be saved by stop(). The
    // service stops it, after the save; one a killed service left running, the next start stops.
    detached: true,
    env: { ...process.env, ...options.env },
  });
  const nodeLog = cappedLog(path.join(chainDir, "anvil.log"));
  child.stdout!.on("data", nodeLog);
  child.stderr!.on("data", nodeLog);
  if (child.pid !== undefined) writeFileSync(path.join(chainDir, "anvil.pid"), String(child.pid), { mode: 0o600 });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const control = new IpcRpcClient(socketPath);

  const fail = async (message: string): Promise<never> => {
    control.close();
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
    throw new Error(message);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      await fail(
        `the embedded chain (anvil) exited with code ${child.exitCode}; see ${path.join(chainDir, "anvil.log")}`,
      );
    if (existsSync(socketPath)) {
      const answered = await control.call("eth_chainId", [], 2_000).then(
        () => true,
        () => false,
      );
      if (answered) break;
    }
    if (Date.now() > deadline) await fail(`the embedded chain did not answer on ${socketPath} within 60 s`);
    await sleep(50);
  }
  rmSync(loadFile, { force: true });
  if (choice.json) {
    // The clock restarts at the genesis timestamp plus uptime: move it to now, never backwards.
    const latest = await control.call<{ timestamp: string }>("eth_getBlockByNumber", ["latest", false]);
    const target = Math.max(Math.floor(Date.now() / 1000), Number(latest.timestamp));
    await control.call("evm_setTime", [target]);
  }

  let proxy: Server | undefined;
  if (options.publicEndpoint ?? true) {
    proxy = createRpcProxy({ upstream: (body) => control.raw(body), allowedOrigins: options.allowedOrigins });
    await new Promise<void>((resolve, reject) => {
      proxy!.once("error", reject);
      proxy!.listen(port, "127.0.0.1", () => resolve());
    }).catch(async (error: NodeJS.ErrnoException) => {
      await fail(
        error.code === "EADDRINUSE"
          ? `port ${port} (TIERLINE_CHAIN_PORT) is taken by another program: choose another port for the chain endpoint`
          : error.message,
      );
    });
  }
  const publicPort = proxy ? (proxy.address() as { port: number }).port : port;

  let stopped = false;
  // Mining: every BLOCK_INTERVAL_MS, one block with whatever is waiting.
  let miner: NodeJS.Timeout | undefined;
  const mine = async () => {
    try {
      const status = await control.call<{ pending: string }>("txpool_status", [], 10_000);
      if (Number(status.pending) > 0) await control.call("evm_mine", [], 30_000);
    } catch {
      /* the node is stopping or busy; the next tick tries again */
    }
    if (!stopped) miner = setTimeout(mine, BLOCK_INTERVAL_MS);
  };
  if (!options.automine) miner = setTimeout(mine, BLOCK_INTERVAL_MS);

  // Saving: after new blocks, at most every snapshotIntervalMs, one at a time.
  let last: SnapshotInfo | undefined;
  let lastSavedKey = choice.json ? `${choice.blockNumber}` : "";
  let inFlight: Promise<SnapshotInfo> | undefined;
  const snapshot = (): Promise<SnapshotInfo> => {
    inFlight ??= (async () => {
      try {
        const started = performance.now();
        const blockNumber = Number(await control.call<string>("eth_blockNumber"));
        const hex = await control.call<string>("anvil_dumpState", [], 300_000);
        const bytes = Buffer.from(hex.slice(2), "hex");
        snapshots.save(bytes);
        last = { blockNumber, bytes: bytes.length, ms: performance.now() - started };
        lastSavedKey = String(blockNumber);
        return last;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };
  let saver: NodeJS.Timeout | undefined;
  const nextSaveDelay = () => snapshotDelay(options.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS, last?.ms);
  const saveTick = async () => {
    try {
      const head = Number(await control.call<string>("eth_blockNumber", [], 10_000));
      if (String(head) !== lastSavedKey) await snapshot();
    } catch (error) {
      if (!stopped) log(`could not save the chain state: ${(error as Error).message}`);
    }
    if (!stopped) saver = setTimeout(saveTick, nextSaveDelay());
  };
  // A new chain is saved at once: its genesis is on disk before anything uses it.
  if (!choice.json) await snapshot();
  saver = setTimeout(saveTick, options.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS);

  return {
    url: `http://127.0.0.1:${publicPort}`,
    controlUrl: ipcUrlOf(socketPath),
    control,
    process: child,
    snapshots,
    snapshot,
    lastSnapshot: () => last,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(miner);
      clearTimeout(saver);
      if (proxy) {
        const closed = new Promise<void>((resolve) => proxy!.close(() => resolve()));
        proxy.closeAllConnections();
        await closed;
      }
      if (child.exitCode === null) {
        try {
          await inFlight?.catch(() => undefined);
          // Mine what is still waiting, then save: a stop loses nothing that was sent.
          if (!options.automine) {
            const status = await control.call<{ pending: string }>("txpool_status", [], 10_000);
            if (Number(status.pending) > 0) await control.call("evm_mine", [], 30_000);
          }
          await snapshot();
        } catch (error) {
          log(`could not save the chain state at stop: ${(error as Error).message}`);
        }
        control.close();
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      control.close();
      rmSync(path.join(chainDir, "anvil.pid"), { force: true });
      rmSync(socketPath, { force: true });
    },
  };
}
