// Stress-run benchmark (issue 16): runStress over a synthetic supply chain in which suppliers
// pass pieces of their receivables down the tiers, half of them endorsed with recourse, so each
// loss may land on an endorser and move up when that endorser falls. Prints figures; asserts
// nothing. `npm run bench:stress` (PARTIES=100000 by default).
import "../lib/node-version.js";
import os from "node:os";
import type { CreditExposure } from "../../server/risk/network/build-graph.js";
import { runStress, runStressReading } from "../../server/risk/network/contagion.js";

const PARTIES = Number(process.env.PARTIES ?? 100_000);
const CORES = Math.max(1, Math.round(PARTIES / 1_000));
const TIERS = 5;
const M = 1_000_000n;

/** Deterministic (mulberry32), so every run stresses the same chain. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(16);
const address = (i: number) => `0x${i.toString(16).padStart(40, "0")}`;
// Tier t holds parties [start[t], start[t + 1]); the cores are tier 0, each tier ~2.2x the one above.
const weights = Array.from({ length: TIERS }, (_, t) => 2.2 ** t);
const total = weights.reduce((a, b) => a + b, 0);
const start = [0, CORES];
for (let t = 1; t < TIERS; t++) start.push(start[t]! + Math.round(((PARTIES - CORES) * weights[t]!) / total));
start.push(PARTIES);
const pick = (tier: number) => start[tier]! + Math.floor(random() * (start[tier + 1]! - start[tier]!));

const exposures: CreditExposure[] = [];
const chains = new Map<string, string[]>();
let certificate = 0;
let endorsedPieces = 0;
/** `holder` keeps part of a claim on `debtor` and passes the rest down to its own suppliers. */
function passDown(holder: number, tier: number, debtor: number, receivable: string, amount: bigint, above: string[]) {
  const endorsed = random() < 0.5;
  const guarantors = endorsed ? [address(holder), ...above] : above;
  const suppliers = tier < TIERS - 1 && random() < 0.6 ? 1 + Math.floor(random() * 3) : 0;
  const share = amount / BigInt(suppliers + 1);
  for (let s = 0; s < suppliers; s++) passDown(pick(tier + 1), tier + 1, debtor, receivable, share, guarantors);
  const id = String(++certificate);
  exposures.push({
    certificateId: id,
    receivableId: receivable,
    tier,
    holder: address(holder),
    debtor: address(debtor),
    outstanding: amount - share * BigInt(suppliers),
  });
  if (above.length) {
    chains.set(id, above);
    endorsedPieces += 1;
  }
}
const started = performance.now();
for (let seller = CORES; seller < start[2]!; seller++) {
  for (let r = 0; r < 2; r++) {
    const debtor = Math.floor(random() * CORES);
    passDown(seller, 1, debtor, `0x${seller.toString(16)}${r}`, BigInt(10 + Math.floor(random() * 990)) * M, []);
  }
}
// Tier-2 and deeper suppliers also sell to their own buyers (the tier above): receivables of their own.
for (let seller = start[2]!; seller < PARTIES; seller++) {
  const tier = start.findIndex((s, t) => seller >= s && seller < start[t + 1]!);
  passDown(seller, 1, pick(tier - 1), `0x${seller.toString(16)}`, BigInt(1 + Math.floor(random() * 99)) * M, []);
}
const generated = performance.now() - started;

// The largest core defaults, 40% recovered.
const owed = new Map<string, bigint>();
for (const e of exposures) owed.set(e.debtor, (owed.get(e.debtor) ?? 0n) + e.outstanding);
const [largest] = [...owed.entries()].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0))[0]!;

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const value = f();
  return [value, performance.now() - t0];
};
const [plain, plainMs] = time(() => runStress(exposures, [largest], 0.4));
const [withRecourse, recourseMs] = time(() =>
  runStress(exposures, [largest], 0.4, { guarantorsOf: (e) => chains.get(e.certificateId) ?? [] }),
);
const moved = withRecourse.certificates.filter((c) => c.bearer !== c.holder).length;
// As the API runs it: endorsers read before each round for the pieces about to lose (here from
// memory, so the figure is the run's own cost; the index reads come on top).
const loaded = new Map<string, string[]>();
let readRounds = 0;
const t0 = performance.now();
const reading = await runStressReading(
  exposures,
  [largest],
  0.4,
  { guarantorsOf: (e) => loaded.get(e.certificateId) ?? [] },
  async (due) => {
    readRounds += 1;
    for (const e of due) if (chains.has(e.certificateId)) loaded.set(e.certificateId, chains.get(e.certificateId)!);
  },
);
const readingMs = performance.now() - t0;
if (reading.totalLoss !== withRecourse.totalLoss) throw new Error("the reading run differs from the plain run");

console.log(
  `# Stress benchmark: ${PARTIES.toLocaleString("en")} parties, node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}`,
);
console.log(
  `${exposures.length.toLocaleString("en")} certificates (${endorsedPieces.toLocaleString("en")} guaranteed by at least one endorser), generated in ${generated.toFixed(0)} ms`,
);
console.log(`| run | time | rounds | defaulted | certificates losing | borne by an endorser | total loss (tUSD) |`);
console.log(`| - | -: | -: | -: | -: | -: | -: |`);
for (const [name, result, ms] of [
  ["without recourse", plain, plainMs],
  ["with recourse", withRecourse, recourseMs],
  [`with recourse, read before each of ${readRounds} rounds`, reading, readingMs],
] as const) {
  console.log(
    `| ${name} | ${ms.toFixed(0)} ms | ${result.rounds.length} | ${result.defaulted.length.toLocaleString("en")} | ${result.certificates.length.toLocaleString("en")} | ${(name === "without recourse" ? 0 : moved).toLocaleString("en")} | ${(result.totalLoss / M).toLocaleString("en")} |`,
  );
}
