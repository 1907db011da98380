// `npm run bench:keeper`: what the keeper's search for receivables to settle costs as the book
// grows (issue 12), side by side: the search before migration 0029 (a read of every repaid
// receivable and every certificate) and the search now (the pending ones only, from a partial
// index and the open leaves kept by triggers). The keeper runs it every 2 s, and SQLite answers
// on the event loop, so every request in flight waits for it. The book: four in five
// receivables repaid and settled, the rest active, each a root split in two, and a few pending
// (repaid, not yet distributed or not yet closed; active and past due). Rows are written straight into a SQLite
// file; prints figures, asserts nothing.
//   npm run bench:keeper                                  # 25,000 and 100,000 receivables
//   BENCH_KEEPER_SIZES=10000,250000 npm run bench:keeper
import "../lib/node-version.js";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { openDatabase, type Db } from "../../server/store/database.js";
import type { ServiceContext } from "../../server/context.js";
import { findDueMarks, findSettlementCandidates } from "../../server/keeper/work.js";
import { candidatesByFullRead } from "../lib/settlement-full-read.js";
import { medianMs } from "../lib/median-ms.js";

const SIZES = (process.env.BENCH_KEEPER_SIZES ?? "25000,100000").split(",").map(Number);
const RUNS = 5;
const PENDING_EVERY = 1000;
const NOW = 1_900_000_000n;
const hex = (n: number) => "0x" + n.toString(16).padStart(64, "0");

async function build(db: Db, size: number): Promise<void> {
  for (let i = 0; i < size; i += 500) {
    const receivables = [];
    const certificates = [];
    for (let k = i; k < Math.min(size, i + 500); k++) {
      const repaid = k % 5 !== 0;
      // One in PENDING_EVERY repaid but not yet distributed, one more repaid with its leaves still live.
      const undistributed = repaid && k % PENDING_EVERY === 1;
      const unclosed = repaid && k % PENDING_EVERY === 2;
      receivables.push({
        id: hex(k),
        seller: "0x00000000000000000000000000000000000000a1",
        debtor: "0x00000000000000000000000000000000000000d1",
        registrar: "0x00000000000000000000000000000000000000a1",
        face_value: "100",
        repaid_amount: repaid ? "100" : "0",
        distributed: repaid && !undistributed ? "100" : "0",
        // One active receivable in PENDING_EVERY is past due: the pass marks it overdue.
        due_date: !repaid && k % PENDING_EVERY === 0 ? 1_800_000_000 : 2_000_000_000,
        document_hash: hex(k),
        root_certificate_id: String(3 * k + 1),
        status: repaid ? "repaid" : "active",
        register_tx_hash: hex(k),
        registered_block: k + 1,
      });
      for (const [offset, state] of [
        [1, "retired"],
        [2, repaid && !unclosed && !undistributed ? "settled" : "live"],
        [3, repaid && !unclosed && !undistributed ? "settled" : "live"],
      ] as const) {
        certificates.push({
          id: String(3 * k + offset),
          receivable_id: hex(k),
          parent_id: offset === 1 ? null : String(3 * k + 1),
          holder: "0x00000000000000000000000000000000000000a1",
          face_value: offset === 1 ? "100" : "50",
          tier: offset === 1 ? 1 : 2,
          state,
          issued_tx_hash: hex(k),
          issued_block: k + 1,
        });
      }
    }
    await db.insertInto("onchain_receivables").values(receivables).execute();
    await db.insertInto("onchain_certificates").values(certificates).execute();
  }
}

const median = (run: () => Promise<unknown>) => medianMs(RUNS, run);

console.log(
  `Keeper: the search for receivables to settle, SQLite, ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, Node ${process.version}; median of ${RUNS}\n`,
);
const rows = [
  ["every repaid receivable and every certificate read (before)"],
  ["the pending ones only (now)"],
  ["receivables found (both)"],
  ["the same pass's overdue and default marks: receivables past due read"],
  ["receivables past due"],
];
const header = ["receivables in the book"];
for (const size of SIZES) {
  header.push(size.toLocaleString("en"));
  const dir = mkdtempSync(path.join(tmpdir(), "tierline-bench-keeper-"));
  const db = await openDatabase(path.join(dir, "tierline.db"));
  try {
    await build(db, size);
    const ctx = { db } as unknown as ServiceContext;
    const before = await candidatesByFullRead(db);
    const now = await findSettlementCandidates(ctx);
    if (JSON.stringify(before) !== JSON.stringify(now)) throw new Error(`the two searches disagree at ${size}`);
    rows[0]!.push(`${(await median(() => candidatesByFullRead(db))).toFixed(2)} ms`);
    rows[1]!.push(`${(await median(() => findSettlementCandidates(ctx))).toFixed(2)} ms`);
    rows[2]!.push(String(now.length));
    const marks = await findDueMarks(ctx, NOW, async () => 0n);
    rows[3]!.push(`${(await median(() => findDueMarks(ctx, NOW, async () => 0n))).toFixed(2)} ms`);
    rows[4]!.push(String(marks.length));
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`| ${header.join(" | ")} |`);
console.log(`| --- |${" ---: |".repeat(SIZES.length)}`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
