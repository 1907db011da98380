// `npm run bench:submissions`: submissions per second against the chain's answer time. Every
// submission asks the shared registry whether its receivable is already registered (one
// `statusOf` call) and takes the submission lock, which every replica shares. Here the chain is a
// stand-in whose answer takes 0, 20 or 100 ms (a local node, a nearby one, a remote provider),
// side by side in one run; the rest is the service's own code on a SQLite file (verification,
// the receivable written, its webhook event), called in-process by concurrent clients, as the
// HTTP route does after authentication. Figures, not assertions.
//   npm run bench:submissions
//   BENCH_SUBMISSIONS=400 BENCH_SUBMISSION_LATENCIES=0,50 npm run bench:submissions
import "../lib/node-version.js";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { openDatabase } from "../../server/store/database.js";
import { findPartyById } from "../../server/store/parties-store.js";
import { submitReceivable } from "../../server/domain/submit-receivable.js";
import { DEFAULT_VERIFICATION_CONFIG } from "../../server/verification/verify.js";
import type { ServiceContext } from "../../server/context.js";
import { partyRow, tradeDocuments } from "../lib/sample-rows.js";
import { percentile } from "../lib/percentile.js";

const SUBMISSIONS = Number(process.env.BENCH_SUBMISSIONS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const LATENCIES = (process.env.BENCH_SUBMISSION_LATENCIES ?? "0,20,100").split(",").map(Number);
// At most 8 a supplier: more than 10 between one pair in a day is the brushing signal.
const SUPPLIERS = Math.ceil(SUBMISSIONS / 8);

interface Result {
  latencyMs: number;
  perSecond: number;
  p50: number;
  p99: number;
  cpuMs: number;
}

async function run(latencyMs: number): Promise<Result> {
  const dir = mkdtempSync(path.join(tmpdir(), "tierline-bench-submissions-"));
  const db = await openDatabase(path.join(dir, "tierline.db"));
  try {
    const hex = (n: number) => n.toString(16).padStart(64, "0");
    await db
      .insertInto("parties")
      .values([
        { ...partyRow("pty_d"), roles: '["debtor"]', legal_id_hash: `0x${hex(1)}` },
        ...Array.from({ length: SUPPLIERS }, (_, i) => ({
          ...partyRow(`pty_s${i}`),
          roles: '["supplier"]',
          legal_id_hash: `0x${hex(1_000 + i)}`,
        })),
      ])
      .execute();
    const sellers = await Promise.all(
      Array.from({ length: SUPPLIERS }, async (_, i) => (await findPartyById(db, `pty_s${i}`))!),
    );
    const ctx = {
      db,
      now: () => new Date("2026-03-01T00:00:00.000Z"),
      log: pino({ level: "silent" }),
      verification: DEFAULT_VERIFICATION_CONFIG,
      chain: {
        contracts: {
          registry: {
            statusOf: () => new Promise<bigint>((resolve) => setTimeout(() => resolve(0n), latencyMs)),
          },
        },
      },
    } as unknown as ServiceContext;

    const latencies: number[] = [];
    let next = 0;
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const client = async () => {
      while (next < SUBMISSIONS) {
        const n = next++;
        const t0 = performance.now();
        await submitReceivable(ctx, sellers[n % SUPPLIERS]!, tradeDocuments(n, 10, "2026-01-04T00:00:00.000Z"));
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    latencies.sort((a, b) => a - b);
    return {
      latencyMs,
      perSecond: SUBMISSIONS / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuMs: (cpu.user + cpu.system) / 1000 / SUBMISSIONS,
    };
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (const latency of LATENCIES) {
  console.error(`${latency} ms chain answer: ${SUBMISSIONS} submissions, ${CONCURRENCY} concurrent clients…`);
  results.push(await run(latency));
}

console.log(`\nSubmissions against the chain's answer time (one statusOf call each; SQLite, in-process)`);
console.log(
  `machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores; Node ${process.version}; ${SUBMISSIONS} submissions from ${SUPPLIERS} suppliers, ${CONCURRENCY} concurrent clients\n`,
);
const row = (measure: string, cell: (r: Result) => string) =>
  console.log(`| ${measure} | ${results.map(cell).join(" | ")} |`);
console.log(`| measure | ${results.map((r) => `chain answers in ${r.latencyMs} ms`).join(" | ")} |`);
console.log(`| --- | ${results.map(() => "---:").join(" | ")} |`);
row("submissions per second", (r) => r.perSecond.toFixed(1));
row("submission p50 / p99", (r) => `${r.p50.toFixed(0)} / ${r.p99.toFixed(0)} ms`);
row("CPU per submission", (r) => `${r.cpuMs.toFixed(2)} ms`);
