// `npm run bench:growth`: how the embedded default holds up as a platform's history grows.
// Builds 10,000 registered receivables (and, with --100k, 100,000) on a Tierline of its own
// and prints, at each size: the state snapshot's size and dump time, the chain node's RSS
// and CPU at rest, JSON-RPC latency on the public endpoint, the latency of the request paths
// a user waits on (submit, confirm, a big debtor's exposure, verify of a 1,024-leaf tree:
// growth-request-paths.ts), the chain's stop and start times, the service's start-up time and
// a full reindex.
//
// How receivables are built: through the service's internals, not its HTTP API (that would
// take hours at 100,000). Parties are created through the API; each receivable's row is
// written to the database as submission would write it (verification skipped), the
// debtor's EIP-712 consent is signed with its custodial key, and the registrar's
// `registerBatch` transactions (50 receivables each) are presigned and sent in JSON-RPC
// batches over the private channel, so many share a block. The index then catches up as it would live.
//   npm run bench:growth                 # 10,000
//   npm run bench:growth -- --100k       # 10,000 then 100,000 (about an hour here)
//   BENCH_GROWTH_SIZES=2000,5000 npm run bench:growth
import "../lib/node-version.js";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { Wallet, keccak256 } from "ethers";
import { freePort, startLocalService } from "../chain/local-service.js";
import { startEmbeddedChain, type EmbeddedChain } from "../chain/embedded-chain.js";
import { loadOperatorKeys } from "../../server/chain/operator-keys.js";
import { bootService, type BootedService } from "../../server/boot.js";
import { loadConfig } from "../../server/config.js";
import { createLogger } from "../../server/logging.js";
import { directorySize } from "../../server/api/routes/health.js";
import {
  CONFIRMATION_DOMAIN_NAME,
  CONFIRMATION_DOMAIN_VERSION,
  CONFIRMATION_TYPES,
} from "../../server/chain/confirmation-typed-data.js";
import {
  documentHashOf,
  hashText,
  normaliseInvoiceNumber,
  receivableIdOf,
  toUnixSeconds,
  type ReceivableSubmission,
} from "../../server/model/receivable-schema.js";
import { nowIso } from "../../server/store/database.js";
import { measureRequestPaths, type ProbeTree } from "./growth-request-paths.js";
import type { IReceivableRegistry } from "../../types/ethers-contracts/ReceivableRegistry.js";

const SIZES = process.argv.includes("--100k")
  ? [10_000, 100_000]
  : (process.env.BENCH_GROWTH_SIZES ?? "10000").split(",").map(Number);
const SUPPLIERS = 20;
const ITEMS_PER_TX = 50; // receivables per registerBatch (a batch of 50 is about 11M gas, under Osaka's 2^24 cap)
const BATCH = 200; // receivables per round: ITEMS_PER_TX to a transaction, the round's transactions in one JSON-RPC batch
const IN_FLIGHT = 12; // at most this many registerBatch transactions waiting in the node's pool
const GAS_PER_ITEM = 300_000n; // above the measured cost of a batch item (bench:gas), so none runs out
const DAY_MS = 86_400_000;
// The bench's own calls to the node wait out a whole-state save (which holds the node, and
// grows with the chain: minutes at 100,000); the longest wait is reported.
const NODE_CALL_TIMEOUT_MS = 900_000;

const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (value: number) => `${value.toFixed(1)} ms`;
const at = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (values: number[]) =>
  at(
    [...values].sort((x, y) => x - y),
    50,
  );
const percentiles = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  return `${at(sorted, 50).toFixed(1)} / ${at(sorted, 99).toFixed(1)} ms`;
};

function submissionFor(debtorId: string, n: number): ReceivableSubmission {
  const quantity = 100 + (n % 50);
  return {
    debtorId,
    purchaseOrder: {
      number: `PO-G-${n}`,
      issuedAt: iso(-20 * DAY_MS),
      currency: "USD",
      lines: [{ sku: "SKU-G", quantity, unitPrice: "1000000" }],
    },
    delivery: {
      carrier: "Growth Freight",
      waybill: `WB-G-${n}`,
      shippedAt: iso(-15 * DAY_MS),
      receivedAt: iso(-12 * DAY_MS),
      receivedBy: "Dock",
      lines: [{ sku: "SKU-G", quantity }],
    },
    invoice: {
      number: `INV-G-${n}`,
      issuedAt: iso(-10 * DAY_MS),
      dueDate: iso(90 * DAY_MS),
      lines: [{ sku: "SKU-G", quantity, unitPrice: "1000000" }],
      tax: "0",
      total: (BigInt(quantity) * 1_000_000n).toString(),
    },
  } as ReceivableSubmission;
}

/** CPU ticks (user + system) and RSS of process `pid`, from /proc. */
function procSample(pid: number): { ticks: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { ticks, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
}

async function atRest(pid: number, windowMs = 5_000): Promise<{ cpuPercent: number; rssBytes: number }> {
  const a = procSample(pid);
  await sleep(windowMs);
  const b = procSample(pid);
  return { cpuPercent: ((b.ticks - a.ticks) / 100 / (windowMs / 1000)) * 100, rssBytes: b.rssBytes };
}

async function rpcLatency(url: string, registry: string, ids: string[]): Promise<{ p50: number; p99: number }> {
  const selector = "0x" + hashText("statusOf(bytes32)").slice(2, 10);
  const calls = [
    { method: "eth_blockNumber", params: [] as unknown[] },
    { method: "eth_getBalance", params: [registry, "latest"] },
    { method: "eth_getBlockByNumber", params: ["latest", false] },
  ];
  const times: number[] = [];
  for (let i = 0; i < 400; i++) {
    const id = ids[(i * 7919) % ids.length]!;
    const call =
      i % 4 === 3
        ? { method: "eth_call", params: [{ to: registry, data: selector + id.slice(2) }, "latest"] }
        : calls[i % 3]!;
    const started = performance.now();
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: i, ...call }),
    });
    const body = (await response.json()) as { error?: unknown };
    if (body.error) throw new Error(`${call.method}: ${JSON.stringify(body.error)}`);
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
  return { p50: at(50), p99: at(99) };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tierline-growth-"));
  const env = {
    LOG_LEVEL: "warn",
    TIERLINE_RATE_LIMIT_PER_MINUTE: "1000000",
    TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE: "1000000",
  };
  console.log(
    `bench:growth on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${mb(totalmem())} RAM, Node ${process.version}; data in ${dataDir}`,
  );
  const local = await startLocalService({ dataDir, chainPort: await freePort(), apiPort: 0, seed: false, env });
  let chain: EmbeddedChain = local.chain;
  let service: BootedService = local.service;
  const api = async (key: string, route: string, body: unknown) => {
    const response = await fetch(`${local.baseUrl}${route}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, any>;
    if (response.status !== 201) throw new Error(`${route}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const operatorKey = local.operatorKey!;
  const party = (roles: string[], n: number) =>
    api(operatorKey, "/v1/parties", {
      name: `Growth ${roles[0]} ${n}`,
      registryId: `GROWTH-${roles[0]}-${n}-${Date.now()}`,
      industry: "manufacturing",
      roles,
    });
  const debtorView = await party(["debtor"], 0);
  const supplierViews = [];
  for (let i = 0; i < SUPPLIERS; i++) supplierViews.push(await party(["supplier"], i));

  const ctx = () => service.ctx;
  const rowOf = async (id: string) =>
    ctx().db.selectFrom("parties").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const debtorRow = await rowOf(debtorView.id);
  const debtorWallet = new Wallet(ctx().vault.decrypt(debtorRow.encrypted_key!));
  const suppliers = await Promise.all(supplierViews.map((s) => rowOf(s.id)));
  // The registrar's key the service generated for this data directory (kept encrypted there).
  const registrar = new Wallet(
    loadOperatorKeys(ctx().config.dataDir, ctx().vault, {}, { generateHot: true }).registrar,
  );
  const deployment = ctx().chain.deployment;
  const registry = ctx().chain.contracts.registry;
  const domain = {
    name: CONFIRMATION_DOMAIN_NAME,
    version: CONFIRMATION_DOMAIN_VERSION,
    chainId: BigInt(deployment.chainId),
    verifyingContract: deployment.addresses.receivableRegistry,
  };
  const ids: string[] = [];
  const hashes: string[] = [];
  const REFUSED_TOPIC = registry.interface.getEvent("RegistrationRefused")!.topicHash;
  let built = 0;
  let longestNodeWaitMs = 0;
  const node = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const started = performance.now();
    try {
      return await chain.control.call<T>(method, params, NODE_CALL_TIMEOUT_MS);
    } finally {
      longestNodeWaitMs = Math.max(longestNodeWaitMs, performance.now() - started);
    }
  };

  /** Registers receivables until `target` exist. */
  const grow = async (target: number) => {
    const started = performance.now();
    const from = built;
    longestNodeWaitMs = 0;
    const firstTx = hashes.length;
    let nonce = Number(await node<string>("eth_getTransactionCount", [registrar.address, "pending"]));
    let lastPrint = performance.now();
    while (built < target) {
      const pending = await node<{ pending: string }>("txpool_status");
      if (Number(pending.pending) > IN_FLIGHT) {
        await sleep(100);
        continue;
      }
      const latestBlock = await node<{ baseFeePerGas: string }>("eth_getBlockByNumber", ["latest", false]);
      const maxFeePerGas = BigInt(latestBlock.baseFeePerGas) * 4n + 10n ** 9n;
      const rows = [];
      const raws: string[] = [];
      const items: IReceivableRegistry.RegistrationStruct[] = [];
      const count = Math.min(BATCH, target - built);
      for (let k = 0; k < count; k++) {
        const n = built + k;
        const seller = suppliers[n % SUPPLIERS]!;
        const submission = submissionFor(debtorRow.id, n);
        const id = receivableIdOf(seller.legal_id_hash, debtorRow.legal_id_hash, submission.invoice.number);
        const documentHash = documentHashOf(submission);
        const now = nowIso();
        rows.push({
          id,
          seller_id: seller.id,
          debtor_id: debtorRow.id,
          invoice_number: submission.invoice.number,
          invoice_number_normalized: normaliseInvoiceNumber(submission.invoice.number),
          po_number: submission.purchaseOrder.number,
          currency: "USD",
          face_value: submission.invoice.total,
          net_value: submission.invoice.total,
          due_date: toUnixSeconds(submission.invoice.dueDate),
          document_hash: documentHash,
          documents: JSON.stringify(submission),
          verification: JSON.stringify({ outcome: "passed", results: [], note: "bench:growth" }),
          status: "confirming" as const,
          confirmation: null,
          created_at: now,
          updated_at: now,
        });
        const terms = {
          seller: seller.address,
          debtor: debtorRow.address,
          invoiceNumberHash: hashText(normaliseInvoiceNumber(submission.invoice.number)),
          documentHash,
          faceValue: BigInt(submission.invoice.total),
          dueDate: BigInt(toUnixSeconds(submission.invoice.dueDate)),
        };
        const deadline = Math.floor(Date.now() / 1000) + 86_400;
        const signature = await debtorWallet.signTypedData(domain, CONFIRMATION_TYPES, {
          receivableId: id,
          documentHash,
          seller: seller.address,
          debtor: debtorRow.address,
          faceValue: terms.faceValue,
          settlementToken: deployment.addresses.settlementToken,
          dueDate: terms.dueDate,
          nonce: BigInt(id),
          deadline,
        });
        items.push({ terms, confirmation: { nonce: BigInt(id), deadline, signature } });
        ids.push(id);
      }
      for (let k = 0; k < items.length; k += ITEMS_PER_TX) {
        const slice = items.slice(k, k + ITEMS_PER_TX);
        const request = await registry.getFunction("registerBatch").populateTransaction(slice);
        raws.push(
          await registrar.signTransaction({
            ...request,
            chainId: BigInt(deployment.chainId),
            nonce: nonce++,
            gasLimit: GAS_PER_ITEM * BigInt(slice.length) + 100_000n,
            maxFeePerGas,
            maxPriorityFeePerGas: 10n ** 9n,
            type: 2,
          }),
        );
        hashes.push(keccak256(raws.at(-1)!));
      }
      await ctx().db.insertInto("receivables").values(rows).execute();
      const answers = JSON.parse(
        await chain.control.raw(
          JSON.stringify(
            raws.map((raw, i) => ({ jsonrpc: "2.0", id: i, method: "eth_sendRawTransaction", params: [raw] })),
          ),
        ),
      ) as { error?: { message: string } }[];
      const refused = answers.find((a) => a.error);
      if (refused) throw new Error(`a presigned registration was refused: ${refused.error!.message}`);
      built += count;
      if (performance.now() - lastPrint > 5_000) {
        lastPrint = performance.now();
        const rate = (built - from) / ((performance.now() - started) / 1000);
        // The node's memory while it runs: it keeps the chain's history, which a restart (load) drops.
        const rss = procSample(chain.process.pid!).rssBytes;
        console.log(`  ${built.toLocaleString("en")} sent (${rate.toFixed(0)}/s); node RSS ${mb(rss)}`);
      }
    }
    // Every one mined (none waiting, none queued behind a gap), then the index caught up
    // and the rows left "confirming".
    const drainUntil = Date.now() + NODE_CALL_TIMEOUT_MS;
    for (;;) {
      const pool = await node<{ pending: string; queued: string }>("txpool_status");
      if (Number(pool.pending) === 0 && Number(pool.queued) === 0) break;
      if (Date.now() > drainUntil) throw new Error(`the node still holds transactions: ${JSON.stringify(pool)}`);
      await sleep(200);
    }
    // Every batch landed, and registered every item (a refused item would be a RegistrationRefused log).
    for (let i = firstTx; i < hashes.length; i++) {
      const receipt = await node<{ status: string; logs: { topics: string[] }[] } | null>("eth_getTransactionReceipt", [
        hashes[i],
      ]);
      const refused = receipt?.logs.some((log) => log.topics[0] === REFUSED_TOPIC);
      if (receipt?.status !== "0x1" || refused) {
        const tx = await node<unknown>("eth_getTransactionByHash", [hashes[i]]);
        throw new Error(
          `registerBatch #${i} ${refused ? "refused an item" : "did not land"}: receipt status ${receipt?.status}, transaction ${JSON.stringify(tx)?.slice(0, 300)}`,
        );
      }
    }
    await ctx().indexer.sync();
    await ctx()
      .db.updateTable("receivables")
      .set({ status: "registered", updated_at: nowIso() })
      .where("status", "=", "confirming")
      .execute();
    const onChain = await ctx()
      .db.selectFrom("onchain_receivables")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `  built ${(target - from).toLocaleString("en")} registrations in ${seconds.toFixed(1)} s ` +
        `(${((target - from) / seconds).toFixed(0)}/s); indexed: ${Number(onChain.n).toLocaleString("en")}; ` +
        `longest wait for the node: ${(longestNodeWaitMs / 1000).toFixed(1)} s`,
    );
  };

  const tree: ProbeTree = {};
  const measure = async (size: number) => {
    console.log(`\n== ${size.toLocaleString("en")} registered receivables ==`);
    await sleep(3_000); // let the last saves and the risk monitor settle
    const head = Number(await chain.control.call<string>("eth_blockNumber"));
    const dump = await chain.snapshot();
    const rawBytes = gunzipSync(readFileSync(chain.snapshots.current)).length;
    const rest = await atRest(chain.process.pid!);
    const latency = await rpcLatency(chain.url, deployment.addresses.receivableRegistry, ids);
    const book = { debtorId: debtorView.id, debtorKey: debtorView.apiKey, firstReceivableId: ids[0]! };
    const paths = await measureRequestPaths(ctx(), operatorKey, book, tree);

    const chainPort = Number(new URL(chain.url).port);
    await service.close();
    let t = performance.now();
    await chain.stop();
    const stopMs = performance.now() - t;
    t = performance.now();
    chain = await startEmbeddedChain(dataDir, chainPort);
    const startMs = performance.now() - t;
    const config = loadConfig({ TIERLINE_DATA_DIR: dataDir, ...env });
    t = performance.now();
    service = await bootService({
      config,
      log: createLogger("warn"),
      rpcUrl: chain.controlUrl,
      deployIfMissing: false,
    });
    const bootMs = performance.now() - t;
    await service.ctx.indexer.stop();
    t = performance.now();
    const events = await service.ctx.indexer.rebuild();
    const reindexMs = performance.now() - t;
    service.ctx.indexer.start(config.TIERLINE_INDEXER_INTERVAL_MS);

    const figures: [string, string][] = [
      ["blocks", head.toLocaleString("en")],
      ["state snapshot (gzip) / as JSON", `${mb(dump.bytes)} / ${mb(rawBytes)}`],
      ["dump time (anvil_dumpState + fsync + rename)", seconds(dump.ms)],
      ["data directory", mb(directorySize(dataDir))],
      ["node RSS at rest", mb(rest.rssBytes)],
      ["node CPU at rest (5 s)", `${rest.cpuPercent.toFixed(1)} %`],
      ["JSON-RPC p50 / p99 (public endpoint, 400 calls)", `${latency.p50.toFixed(1)} / ${latency.p99.toFixed(1)} ms`],
      [`submit p50 / p99 (${paths.submit.length} new receivables)`, percentiles(paths.submit)],
      [`confirm, accepted answer p50 / p99 (respond-async)`, percentiles(paths.confirm)],
      [`submit to the debtor of all p50 / p99 (${paths.bookSubmit.length} receivables)`, percentiles(paths.bookSubmit)],
      [`confirm by the debtor of all, accepted answer p50 / p99`, percentiles(paths.bookConfirm)],
      [`exposure of the debtor of all ${size.toLocaleString("en")} (p50 of 5)`, ms(median(paths.exposure))],
      [`trace of the first receivable built (p50 of 3)`, ms(median(paths.traceOldest))],
      [`trace of the ${paths.verifiedLeaves.toLocaleString("en")}-leaf tree (p50 of 3)`, ms(median(paths.traceTree))],
      [`verify of a ${paths.verifiedLeaves.toLocaleString("en")}-leaf tree (p50 of 3)`, ms(median(paths.verify))],
      ["chain stop (with the final save) / start (load)", `${seconds(stopMs)} / ${seconds(startMs)}`],
      ["service start-up (boot until ready)", seconds(bootMs)],
      [`reindex (${events.toLocaleString("en")} events)`, seconds(reindexMs)],
    ];
    for (const [name, value] of figures) console.log(`  ${name.padEnd(50)} ${value}`);
  };

  try {
    for (const size of SIZES) {
      await grow(size);
      await measure(size);
    }
  } finally {
    await service.close().catch(() => {});
    await chain.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
