// The scale-out rows of `npm run bench:throughput`: the same registration load (submit ->
// verify -> confirm -> register + issue on-chain, through the HTTP API) against three set-ups
// side by side, each a fresh database on one shared anvil chain, each service a real process
// (scripts/start.ts, API only): the SQLite default (one process), one replica on PostgreSQL,
// and two replicas on one PostgreSQL database with the clients spread over both. For every
// service process it reads the CPU time it used (Linux /proc) and divides by the
// registrations, so the scaling on a machine with more cores can be estimated honestly.
// Figures, not assertions.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedChain } from "../chain/embedded-chain.js";
import { freePort } from "../chain/local-service.js";
import { startThrowawayPostgres } from "../db/embedded-postgres.js";
import { benchDocuments, call, must, type Json } from "./bench-api.js";

const randomKey = (): string => `0x${randomBytes(32).toString("hex")}`;

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Replica {
  process: ChildProcess;
  baseUrl: string;
}

export interface ScaleOutRow {
  setup: string;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** CPU milliseconds per registration, one entry per service process. */
  cpuPerRegistration: number[];
}

/** user + system CPU time of `pid` so far, milliseconds (Linux /proc; 0 elsewhere). */
export function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 1/100 s
  } catch {
    return 0;
  }
}

async function startReplica(env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && !key.startsWith("TIERLINE_")) clean[key] = value;
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: PROJECT_ROOT,
    env: { ...clean, ...env, PORT: String(port), LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`a service exited while starting:\n${stderr}`);
    const ok = await fetch(`${baseUrl}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { process: child, baseUrl };
    if (Date.now() > deadline) throw new Error(`a service did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stopReplica(replica: Replica): Promise<void> {
  if (replica.process.exitCode !== null) return;
  const exited = new Promise((resolve) => replica.process.once("exit", resolve));
  replica.process.kill("SIGTERM");
  await exited;
}

/** One set-up: its services started on a fresh database, the load run, the services stopped. */
async function runSetup(
  setup: string,
  chainUrl: string,
  databaseUrl: string | undefined,
  replicas: number,
  receivables: number,
  concurrency: number,
): Promise<ScaleOutRow> {
  const dirs = Array.from({ length: replicas }, () => mkdtempSync(path.join(tmpdir(), "tierline-scale-")));
  const shared: Record<string, string> = {
    TIERLINE_RPC_URL: chainUrl,
    // Replicas share one set of hot operator keys (each has its own data directory).
    TIERLINE_REGISTRAR_KEY: randomKey(),
    TIERLINE_KEEPER_KEY: randomKey(),
    TIERLINE_PARTY_MANAGER_KEY: randomKey(),
    TIERLINE_ATTESTER_KEY: randomKey(),
    TIERLINE_MASTER_KEY: randomKey(),
    TIERLINE_KEEPER: "false",
    TIERLINE_RATE_LIMIT_PER_MINUTE: "1000000",
    TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: "1000000",
    TIERLINE_INDEXER_INTERVAL_MS: "200",
    ...(databaseUrl ? { TIERLINE_DATABASE_URL: databaseUrl } : {}),
  };
  const services: Replica[] = [];
  try {
    // The first one deploys and seeds (its data directory gets the operator's key); then the rest.
    services.push(await startReplica({ ...shared, TIERLINE_DATA_DIR: dirs[0]! }));
    for (let i = 1; i < replicas; i++) services.push(await startReplica({ ...shared, TIERLINE_DATA_DIR: dirs[i]! }));
    const operator = (JSON.parse(readFileSync(path.join(dirs[0]!, "credentials.json"), "utf8")) as Json).operator
      .apiKey as string;
    const base = services[0]!.baseUrl;
    const party = async (roles: string[], name: string) =>
      must(
        await call(base, operator, "POST", "/v1/parties", {
          name,
          registryId: `SCALE${name.replace(/\W/g, "")}${randomBytes(4).toString("hex")}`,
          industry: "bench",
          roles,
        }),
        201,
        "party",
      );
    const debtor = await party(["debtor"], "Scale Debtor");
    const suppliers: Json[] = [];
    for (let i = 0; i < Math.ceil(receivables / 8); i++)
      suppliers.push(await party(["supplier"], `Scale Supplier ${i}`));
    // Warm up each service: one registration through it.
    for (const [i, service] of services.entries()) {
      const warm = must(
        await call(
          service.baseUrl,
          suppliers[0]!.apiKey,
          "POST",
          "/v1/receivables",
          // Numbered after the measured ones: a negative n would canonicalise onto a positive one
          // (WB-S--1 and WB-S-1 are one waybill), and the delivery rule refuses the second.
          benchDocuments("S", debtor.id, receivables + 1 + i),
        ),
        201,
        "warm-up",
      );
      must(
        await call(service.baseUrl, debtor.apiKey, "POST", `/v1/receivables/${warm.id}/confirm`, {}),
        200,
        "warm-up",
      );
    }

    const cpuBefore = services.map((s) => cpuMs(s.process.pid));
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    const worker = async (w: number) => {
      // Each client talks to one replica, as behind a round-robin load balancer.
      const url = services[w % services.length]!.baseUrl;
      while (next < receivables) {
        const n = next++;
        const supplier = suppliers[n % suppliers.length]!;
        const t0 = performance.now();
        const submitted = must(
          await call(url, supplier.apiKey, "POST", "/v1/receivables", benchDocuments("S", debtor.id, n)),
          201,
          `submission ${n}`,
        );
        must(
          await call(url, debtor.apiKey, "POST", `/v1/receivables/${submitted.id}/confirm`, {}),
          200,
          `confirm ${n}`,
        );
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    const elapsed = (performance.now() - started) / 1000;
    const cpuAfter = services.map((s) => cpuMs(s.process.pid));
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
    return {
      setup,
      perSecond: receivables / elapsed,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      cpuPerRegistration: cpuAfter.map((after, i) => (after - cpuBefore[i]!) / receivables),
    };
  } finally {
    for (const service of services) await stopReplica(service);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the three set-ups in one go on one chain and one PostgreSQL server. */
export async function runScaleOut(receivables: number, concurrency: number): Promise<ScaleOutRow[]> {
  const chainDir = mkdtempSync(path.join(tmpdir(), "tierline-scale-chain-"));
  const chain = await startEmbeddedChain(chainDir, await freePort());
  const postgres = await startThrowawayPostgres();
  try {
    return [
      await runSetup("SQLite (default), 1 process", chain.url, undefined, 1, receivables, concurrency),
      await runSetup("PostgreSQL, 1 replica", chain.url, await postgres.createDatabase(), 1, receivables, concurrency),
      await runSetup("PostgreSQL, 2 replicas", chain.url, await postgres.createDatabase(), 2, receivables, concurrency),
    ];
  } finally {
    await postgres.stop();
    await chain.stop();
    rmSync(chainDir, { recursive: true, force: true });
  }
}

export function printScaleOut(rows: ScaleOutRow[], receivables: number, concurrency: number): void {
  const ms = (value: number) => value.toFixed(0);
  console.log(
    `\nScale-out: the same load on each set-up (${receivables} registrations, ${concurrency} concurrent clients spread over the replicas; one anvil chain, one registrar key; keeper off)\n`,
  );
  console.log(
    "| set-up | registrations/s | latency p50 / p95 / p99 (ms) | CPU per registration, per service process |",
  );
  console.log("| --- | ---: | ---: | --- |");
  for (const row of rows) {
    const cpu = row.cpuPerRegistration.map((c) => `${c.toFixed(1)} ms`).join(" + ");
    console.log(
      `| ${row.setup} | ${row.perSecond.toFixed(1)} | ${ms(row.p50)} / ${ms(row.p95)} / ${ms(row.p99)} | ${cpu} |`,
    );
  }
}
