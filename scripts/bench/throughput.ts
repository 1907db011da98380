// `npm run bench:throughput`: end-to-end registration throughput through the HTTP API on
// the local chain. N suppliers submit receivables concurrently; each is verified, confirmed
// by the (custodial) debtor, registered and issued on-chain. Prints registrations per
// second, latency percentiles, gas per registration, and the time from submission to a
// funded certificate. Then the scale-out rows (scale-out.ts): the SQLite default vs one and
// two replicas on PostgreSQL, as separate processes, with the CPU each used per registration.
// Figures, not assertions: a shared 2-core machine is noisy.
//   BENCH_RECEIVABLES=200 BENCH_CONCURRENCY=16 BENCH_SCALE_RECEIVABLES=120 npm run bench:throughput
//   BENCH_SCALE_OUT=0 skips the scale-out rows.
import "../lib/node-version.js";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { freePort, startLocalService } from "../chain/local-service.js";
import { progress } from "../lib/progress.js";
import { printScaleOut, runScaleOut } from "./scale-out.js";
import { benchDocuments, call, must, type Json } from "./bench-api.js";

const RECEIVABLES = Number(process.env.BENCH_RECEIVABLES ?? 120);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 12);
// At most 8 receivables per supplier and debtor: more than 10 in a day is the brushing
// signal, which holds submissions for review (as it should).
const SUPPLIERS = Number(process.env.BENCH_SUPPLIERS ?? Math.ceil(RECEIVABLES / 8));

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (value: number) => `${value.toFixed(0)} ms`;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tierline-bench-"));
  const local = await startLocalService({
    dataDir,
    chainPort: await freePort(),
    apiPort: 0,
    seed: false,
    env: {
      TIERLINE_KEEPER: "false",
      TIERLINE_RATE_LIMIT_PER_MINUTE: "1000000",
      TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: "1000000",
      TIERLINE_INDEXER_INTERVAL_MS: "200",
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
    const suppliers: Json[] = [];
    const partiesDone = progress("creating suppliers", SUPPLIERS);
    for (let i = 0; i < SUPPLIERS; i++) {
      suppliers.push(await party(["supplier"], `Bench Supplier ${i}`));
      partiesDone(i + 1);
    }
    const financier = await party(["financier"], "Bench Bank");
    const token = local.service.ctx.chain.contracts.token;
    await local.service.ctx.chain.registrar.send(await token.mint.populateTransaction(financier.address, 10n ** 15n), {
      kind: "mint",
      ref: "bench",
    });

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

    const submitLatency: number[] = [];
    const confirmLatency: number[] = [];
    const totalLatency: number[] = [];
    const txHashes: string[] = [];
    let next = 1;
    let registered = 0;
    const registrationsDone = progress("registering receivables", RECEIVABLES);
    const started = performance.now();
    const worker = async () => {
      while (next <= RECEIVABLES) {
        const n = next++;
        const supplier = suppliers[n % suppliers.length]!;
        const t0 = performance.now();
        const submitted = must(
          await call(base, supplier.apiKey, "POST", "/v1/receivables", benchDocuments("B", debtor.id, n)),
          201,
          `submission ${n}`,
        );
        const t1 = performance.now();
        const confirmed = must(
          await call(base, debtor.apiKey, "POST", `/v1/receivables/${submitted.id}/confirm`, {}),
          200,
          `confirmation ${n}`,
        );
        const t2 = performance.now();
        submitLatency.push(t1 - t0);
        confirmLatency.push(t2 - t1);
        totalLatency.push(t2 - t0);
        txHashes.push(confirmed.txHash);
        registrationsDone(++registered);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = (performance.now() - started) / 1000;

    const provider = local.service.ctx.chain.provider;
    const gas: bigint[] = [];
    for (const hash of txHashes) gas.push((await provider.getTransactionReceipt(hash))!.gasUsed);
    const blocks = new Set<number>();
    for (const hash of txHashes.slice(0, 50)) blocks.add((await provider.getTransactionReceipt(hash))!.blockNumber);

    // One receivable from submission to a funded certificate.
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

    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    const [sub, con, tot] = [sorted(submitLatency), sorted(confirmLatency), sorted(totalLatency)];
    const meanGas = gas.reduce((a, b) => a + b, 0n) / BigInt(gas.length);
    console.log(
      `\nEnd-to-end registration through the HTTP API (submit -> verify -> confirm -> register + issue on-chain)`,
    );
    console.log(
      `machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; chain: anvil (automine), one registrar key`,
    );
    console.log(`run: ${RECEIVABLES} receivables from ${SUPPLIERS} suppliers, ${CONCURRENCY} concurrent clients\n`);
    console.log("| measure | value |");
    console.log("| --- | ---: |");
    console.log(`| registrations per second | ${(RECEIVABLES / elapsed).toFixed(1)} |`);
    console.log(`| wall time | ${elapsed.toFixed(1)} s |`);
    console.log(
      `| submit latency p50 / p95 / p99 | ${ms(percentile(sub, 50))} / ${ms(percentile(sub, 95))} / ${ms(percentile(sub, 99))} |`,
    );
    console.log(
      `| confirm + register latency p50 / p95 / p99 | ${ms(percentile(con, 50))} / ${ms(percentile(con, 95))} / ${ms(percentile(con, 99))} |`,
    );
    console.log(
      `| submission to certificate p50 / p95 / p99 | ${ms(percentile(tot, 50))} / ${ms(percentile(tot, 95))} / ${ms(percentile(tot, 99))} |`,
    );
    console.log(`| gas per registration (mean) | ${meanGas.toLocaleString("en-US")} |`);
    console.log(`| blocks used by the first 50 registrations | ${blocks.size} |`);
    console.log(`| one receivable: submission to funded certificate | ${ms(toFunded)} |`);
  } finally {
    await local.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (process.env.BENCH_SCALE_OUT !== "0") {
    const receivables = Number(process.env.BENCH_SCALE_RECEIVABLES ?? RECEIVABLES);
    printScaleOut(await runScaleOut(receivables, CONCURRENCY), receivables, CONCURRENCY);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
