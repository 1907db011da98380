// `npm run bench:throughput`: end-to-end registration throughput through the HTTP API on
// the local chain (blocks every BLOCK_INTERVAL_MS, as `npm start` runs it). N suppliers
// submit receivables concurrently; each is verified, confirmed by the (custodial) debtor,
// registered and issued on-chain. The same load runs, side by side in one run, through:
//   - today's path: one register transaction per receivable (TIERLINE_REGISTRATION=single),
//     the confirmation answered 200 after its receipt;
//   - the batcher (registerBatch, one transaction per window), still answered after registration;
//   - the batcher with `Prefer: respond-async`: 202 at once, the certificate on-chain later.
// For each: registrations per second (first submission to last certificate on-chain),
// p50/p95/p99 of the accepted answer and of the certificate on-chain (from the confirmation
// request to the block that holds it, seen by a log poller), gas and transactions per
// registration, CPU per registration of this process (service + clients) and of the chain.
// Then the scale-out rows (scale-out.ts): the SQLite default vs one and two replicas on
// PostgreSQL, as separate processes, with the CPU each used per registration.
// Figures, not assertions: a shared 2-core machine is noisy.
//   BENCH_RECEIVABLES=200 BENCH_CONCURRENCY=16 BENCH_SCALE_RECEIVABLES=120 npm run bench:throughput
//   BENCH_SCALE_OUT=0 skips the scale-out rows; BENCH_PATHS=single,batch,async picks the paths.
import "../lib/node-version.js";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import type { JsonRpcProvider } from "ethers";
import { BLOCK_INTERVAL_MS } from "../chain/embedded-chain.js";
import { freePort, startLocalService, type LocalService } from "../chain/local-service.js";
import { progress } from "../lib/progress.js";
import { cpuMs, printScaleOut, runScaleOut } from "./scale-out.js";
import { benchDocuments, call, must, type Json } from "./bench-api.js";
import { percentile } from "../lib/percentile.js";

const RECEIVABLES = Number(process.env.BENCH_RECEIVABLES ?? 120);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 12);
// At most 8 receivables per supplier and debtor: more than 10 in a day is the brushing
// signal, which holds submissions for review (as it should).
const SUPPLIERS = Number(process.env.BENCH_SUPPLIERS ?? Math.ceil(RECEIVABLES / 8));
const ONBOARDING_CONCURRENCY = 8;

interface PathSpec {
  key: string;
  label: string;
  env: Record<string, string>;
  respondAsync: boolean;
}
const PATHS: PathSpec[] = [
  {
    key: "single",
    label: "today: register per receivable",
    env: { TIERLINE_REGISTRATION: "single" },
    respondAsync: false,
  },
  {
    key: "batch",
    label: "registerBatch, answer after registration",
    env: { TIERLINE_REGISTRATION: "batch" },
    respondAsync: false,
  },
  {
    key: "async",
    label: "registerBatch, Prefer: respond-async",
    env: { TIERLINE_REGISTRATION: "batch" },
    respondAsync: true,
  },
];
const CHOSEN = (process.env.BENCH_PATHS ?? "single,batch,async").split(",");

interface PathResult {
  spec: PathSpec;
  perSecond: number;
  /** Suppliers onboarded per second (POST /v1/parties, ONBOARDING_CONCURRENCY at a time). */
  onboardingPerSecond: number;
  accepted: number[];
  onChain: number[];
  gasPerRegistration: bigint;
  registrationsPerTransaction: number;
  processCpuMs: number;
  chainCpuMs: number;
  toFunded: number;
}

const ms = (value: number) => `${value.toFixed(0)} ms`;
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** Watches the registry's ReceivableRegistered logs: when each receivable's block was first seen, and its transaction. */
function watchRegistrations(provider: JsonRpcProvider, registry: { target: unknown; interface: any }) {
  const seen = new Map<string, { at: number; txHash: string }>();
  const topic = registry.interface.getEvent("ReceivableRegistered")!.topicHash;
  let stopped = false;
  let from: number | undefined;
  const loop = (async () => {
    while (!stopped) {
      const head = await provider.getBlockNumber();
      from ??= head;
      if (head >= from) {
        const logs = await provider.getLogs({
          address: String(registry.target),
          topics: [topic],
          fromBlock: from,
          toBlock: head,
        });
        const at = performance.now();
        for (const log of logs) {
          const id = log.topics[1]!.toLowerCase();
          if (!seen.has(id)) seen.set(id, { at, txHash: log.transactionHash });
        }
        from = head + 1;
      }
      await sleep(20);
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function runPath(spec: PathSpec): Promise<PathResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tierline-bench-"));
  const local: LocalService = await startLocalService({
    dataDir,
    chainPort: await freePort(),
    apiPort: 0,
    seed: false,
    env: {
      TIERLINE_KEEPER: "false",
      TIERLINE_RATE_LIMIT_PER_MINUTE: "1000000",
      TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: "1000000",
      TIERLINE_INDEXER_INTERVAL_MS: "200",
      ...spec.env,
    },
  });
  try {
    const base = local.baseUrl;
    const operator = local.operatorKey!;
    const party = async (roles: string[], name: string) =>
      must(
        await call(base, operator, "POST", "/v1/parties", {
          name,
          registryId: `BENCH${name.replace(/\W/g, "")}${Date.now()}`,
          industry: "bench",
          roles,
        }),
        201,
        "party",
      );
    const debtor = await party(["debtor"], "Bench Debtor");
    // Onboarded as a network's suppliers are, several at a time (each waits for its block).
    const partiesDone = progress(`${spec.key}: creating suppliers`, SUPPLIERS);
    const onboardingStarted = performance.now();
    const suppliers: Json[] = new Array<Json>(SUPPLIERS);
    let nextSupplier = 0;
    let suppliersDone = 0;
    const onboard = async () => {
      while (nextSupplier < SUPPLIERS) {
        const i = nextSupplier++;
        suppliers[i] = await party(["supplier"], `Bench Supplier ${i}`);
        partiesDone(++suppliersDone);
      }
    };
    await Promise.all(Array.from({ length: ONBOARDING_CONCURRENCY }, onboard));
    const onboardingPerSecond = SUPPLIERS / ((performance.now() - onboardingStarted) / 1000);
    const financier = await party(["financier"], "Bench Bank");
    const token = local.service.ctx.chain.contracts.token;
    await local.service.ctx.chain.registrar.send(await token.mint.populateTransaction(financier.address, 10n ** 15n), {
      kind: "mint",
      ref: "bench",
    });
    const confirmHeaders = spec.respondAsync ? { prefer: "respond-async" } : undefined;
    const confirmStatus = spec.respondAsync ? 202 : 200;

    // Warm up: one full registration, so compilation and first-use costs are not measured.
    const warm = must(
      await call(base, suppliers[0]!.apiKey, "POST", "/v1/receivables", benchDocuments("B", debtor.id, 0)),
      201,
      "warm-up submission",
    );
    must(
      await call(base, debtor.apiKey, "POST", `/v1/receivables/${warm.id}/confirm`, {}),
      200,
      "warm-up confirmation",
    );

    const provider = local.service.ctx.chain.provider;
    const watcher = watchRegistrations(provider, local.service.ctx.chain.contracts.registry);
    const confirmedAt = new Map<string, number>();
    const accepted: number[] = [];
    let next = 1;
    let done = 0;
    const registrationsDone = progress(`${spec.key}: confirming receivables`, RECEIVABLES);
    const chainPid = local.chain.process.pid;
    const cpu0 = process.cpuUsage();
    const chainCpu0 = cpuMs(chainPid);
    const started = performance.now();
    const worker = async () => {
      while (next <= RECEIVABLES) {
        const n = next++;
        const supplier = suppliers[n % suppliers.length]!;
        const submitted = must(
          await call(base, supplier.apiKey, "POST", "/v1/receivables", benchDocuments("B", debtor.id, n)),
          201,
          `submission ${n}`,
        );
        const t1 = performance.now();
        confirmedAt.set(String(submitted.id).toLowerCase(), t1);
        must(
          await call(base, debtor.apiKey, "POST", `/v1/receivables/${submitted.id}/confirm`, {}, confirmHeaders),
          confirmStatus,
          `confirmation ${n}`,
        );
        accepted.push(performance.now() - t1);
        registrationsDone(++done);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    // Every certificate on-chain (the asynchronous path answered before).
    const waitUntil = performance.now() + 120_000;
    while ([...confirmedAt.keys()].some((id) => !watcher.seen.has(id))) {
      if (performance.now() > waitUntil) throw new Error(`${spec.key}: not every receivable reached the chain`);
      await sleep(20);
    }
    const lastOnChain = Math.max(...[...confirmedAt.keys()].map((id) => watcher.seen.get(id)!.at));
    const elapsed = (lastOnChain - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const chainCpu = cpuMs(chainPid) - chainCpu0;
    await watcher.stop();
    const onChain = [...confirmedAt].map(([id, at]) => watcher.seen.get(id)!.at - at);

    const hashes = new Set([...confirmedAt.keys()].map((id) => watcher.seen.get(id)!.txHash));
    let gas = 0n;
    for (const hash of hashes) gas += (await provider.getTransactionReceipt(hash))!.gasUsed;

    // One receivable from submission to a funded certificate (the confirmation answered after registration).
    const s0 = performance.now();
    const one = must(
      await call(
        base,
        suppliers[0]!.apiKey,
        "POST",
        "/v1/receivables",
        benchDocuments("B", debtor.id, RECEIVABLES + 1),
      ),
      201,
      "funding run: submission",
    );
    const root = must(
      await call(base, debtor.apiKey, "POST", `/v1/receivables/${one.id}/confirm`, {}),
      200,
      "funding run: confirmation",
    );
    const request = must(
      await call(base, suppliers[0]!.apiKey, "POST", "/v1/financing-requests", {
        certificateId: root.certificateId,
        kind: "discount",
        price: "100000000",
      }),
      201,
      "funding run: request",
    );
    must(
      await call(base, financier.apiKey, "POST", `/v1/financing-requests/${request.id}/fund`, {}),
      200,
      "funding run: fund",
    );
    const toFunded = performance.now() - s0;

    return {
      spec,
      perSecond: RECEIVABLES / elapsed,
      onboardingPerSecond,
      accepted: [...accepted].sort((a, b) => a - b),
      onChain: onChain.sort((a, b) => a - b),
      gasPerRegistration: gas / BigInt(RECEIVABLES),
      registrationsPerTransaction: RECEIVABLES / hashes.size,
      processCpuMs: (cpu.user + cpu.system) / 1000 / RECEIVABLES,
      chainCpuMs: chainCpu / RECEIVABLES,
      toFunded,
    };
  } finally {
    await local.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printPaths(results: PathResult[]): void {
  const triple = (values: number[]) =>
    `${ms(percentile(values, 50))} / ${ms(percentile(values, 95))} / ${ms(percentile(values, 99))}`;
  const row = (measure: string, cell: (r: PathResult) => string) =>
    console.log(`| ${measure} | ${results.map(cell).join(" | ")} |`);
  console.log(
    `\nEnd-to-end registration through the HTTP API (submit -> verify -> confirm -> register + issue on-chain)`,
  );
  console.log(
    `machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; chain: anvil, a block every ${BLOCK_INTERVAL_MS} ms; one registrar key`,
  );
  console.log(`run: ${RECEIVABLES} receivables from ${SUPPLIERS} suppliers, ${CONCURRENCY} concurrent clients\n`);
  console.log(`| measure | ${results.map((r) => r.spec.label).join(" | ")} |`);
  console.log(`| --- | ${results.map(() => "---:").join(" | ")} |`);
  row("registrations per second (first submission to last certificate on-chain)", (r) => r.perSecond.toFixed(1));
  row(`suppliers onboarded per second (POST /v1/parties, ${ONBOARDING_CONCURRENCY} at a time)`, (r) =>
    r.onboardingPerSecond.toFixed(1),
  );
  row("accepted answer p50 / p95 / p99 (confirm request to its answer)", (r) => triple(r.accepted));
  row("certificate on-chain p50 / p95 / p99 (confirm request to its block)", (r) => triple(r.onChain));
  row("gas per registration (mean)", (r) => r.gasPerRegistration.toLocaleString("en-US"));
  row("registrations per transaction", (r) => r.registrationsPerTransaction.toFixed(1));
  row("CPU per registration: this process (service + clients)", (r) => `${r.processCpuMs.toFixed(1)} ms`);
  row("CPU per registration: the chain (anvil)", (r) => `${r.chainCpuMs.toFixed(1)} ms`);
  row("one receivable: submission to funded certificate", (r) => ms(r.toFunded));
}

async function main(): Promise<void> {
  const results: PathResult[] = [];
  for (const spec of PATHS.filter((p) => CHOSEN.includes(p.key))) results.push(await runPath(spec));
  printPaths(results);
  if (process.env.BENCH_SCALE_OUT !== "0") {
    const receivables = Number(process.env.BENCH_SCALE_RECEIVABLES ?? RECEIVABLES);
    printScaleOut(await runScaleOut(receivables, CONCURRENCY), receivables, CONCURRENCY);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
