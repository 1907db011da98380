// `npm run bench:history`: what a limit check pays to read the risk history of the debtor
// that owes the whole book (issue 12), side by side: read in full (as on PostgreSQL, and as
// on SQLite before the history rows were kept) and kept, with one receivable changed since the
// last look (a month-end confirmation) and with nothing changed; the score summed from a
// history read in full; a rescore after one change, from a history read in full (PostgreSQL
// before round 9), summed from every kept row (before round 8) and from
// the totals kept with the rows (now); and the debtor's exposure summed row by row in
// JavaScript (before), by the database in one statement (round 8) and read from the sums the
// triggers keep (now, migration 0022). Rows are written straight into
// a SQLite file, or a throwaway PostgreSQL database (no chain, no documents verified); prints
// figures, asserts nothing.
//   npm run bench:history                  # 5,000 and 25,000 receivables, SQLite
//   BENCH_HISTORY_SIZES=100000 npm run bench:history
//   BENCH_HISTORY_DATABASE=postgres npm run bench:history
import "../lib/node-version.js";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { openDatabase, type Db } from "../../server/store/database.js";
import { toParty, type PartyRecord } from "../../server/store/parties-store.js";
import { forgetHistoryRows } from "../../server/risk/history-rows.js";
import { loadPartyHistory } from "../../server/risk/history.js";
import { scoringInputFor } from "../../server/risk/kept-scoring.js";
import { computeScore } from "../../server/risk/scoring.js";
import { debtorExposure } from "../../server/risk/exposure.js";
import { documentHashOf } from "../../server/model/receivable-schema.js";
import { partyRow, tradeDocuments } from "../lib/sample-rows.js";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../db/embedded-postgres.js";
import type { ServiceContext } from "../../server/context.js";
import { medianMs } from "../lib/median-ms.js";

const SIZES = (process.env.BENCH_HISTORY_SIZES ?? "5000,25000").split(",").map(Number);
const SUPPLIERS = 20;
const RUNS = 7;
const ENGINE = process.env.BENCH_HISTORY_DATABASE ?? "sqlite";
if (ENGINE !== "sqlite" && ENGINE !== "postgres") throw new Error("BENCH_HISTORY_DATABASE must be sqlite or postgres");

async function build(db: Db, size: number, debtor: PartyRecord): Promise<void> {
  const sellers = Array.from({ length: SUPPLIERS }, (_, i) => partyRow(`pty_seller${i}`));
  await db
    .insertInto("parties")
    .values([partyRow("pty_debtor"), ...sellers])
    .execute();
  for (let i = 0; i < size; i += 500) {
    const submitted = [];
    const owed = [];
    for (let k = i; k < Math.min(size, i + 500); k++) {
      const doc = tradeDocuments(k, 10, "2026-01-04T00:00:00.000Z");
      const seller = sellers[k % SUPPLIERS]!;
      submitted.push({
        id: `rcv_${k}`,
        seller_id: seller.id,
        debtor_id: debtor.id,
        invoice_number: `INV-${k}`,
        invoice_number_normalized: `INV-${k}`,
        po_number: `PO-${k}`,
        currency: "USD",
        face_value: "10000000",
        net_value: "10000000",
        due_date: 1_775_347_200,
        document_hash: documentHashOf(doc),
        documents: JSON.stringify(doc),
        verification: "{}",
        status: "registered" as const,
        confirmation: null,
        created_at: "2026-01-06T00:00:00.000Z",
        updated_at: "2026-01-06T00:00:00.000Z",
      });
      owed.push({
        id: `rcv_${k}`,
        seller: seller.address,
        debtor: debtor.address,
        registrar: "0x",
        face_value: "10000000",
        repaid_amount: "0",
        due_date: 1_775_347_200,
        document_hash: "0x",
        root_certificate_id: String(k + 1),
        status: "active",
        register_tx_hash: "0x",
        registered_block: k,
      });
    }
    await db.insertInto("receivables").values(submitted).execute();
    await db.insertInto("onchain_receivables").values(owed).execute();
  }
}

const median = (run: () => Promise<unknown>) => medianMs(RUNS, run);

console.log(
  `bench:history on ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, ${ENGINE}; median of ${RUNS}`,
);
const postgres: ThrowawayPostgres | undefined = ENGINE === "postgres" ? await startThrowawayPostgres() : undefined;
const rows: Array<[string, ...string[]]> = [
  ["receivables owed by the debtor"],
  ["history read in full"],
  ["history kept, one receivable changed since"],
  ["history kept, nothing changed"],
  ["score from the history (computeScore)"],
  ["rescore, one receivable changed: history read in full and summed"],
  ["rescore, one receivable changed: kept history read and summed (before)"],
  ["rescore, one receivable changed: kept totals (now)"],
  ["debtor exposure, rows summed in JavaScript (before)"],
  ["debtor exposure, summed by the database (round 8)"],
  ["debtor exposure, kept by triggers (limit check now)"],
];
for (const size of SIZES) {
  const dir = mkdtempSync(path.join(tmpdir(), "tierline-history-"));
  const db = await openDatabase(
    postgres ? { url: await postgres.createDatabase(), file: "" } : path.join(dir, "tierline.db"),
  );
  try {
    const ctx = { db, now: () => new Date("2026-02-01T00:00:00.000Z") } as unknown as ServiceContext;
    const debtor = toParty(partyRow("pty_debtor"));
    await build(db, size, debtor);
    await loadPartyHistory(ctx, debtor); // the document facts are kept from here on, in both columns
    const full = await median(() => {
      forgetHistoryRows(db);
      return loadPartyHistory(ctx, debtor);
    });
    await loadPartyHistory(ctx, debtor);
    let flip = 0;
    const changed = await median(async () => {
      await db
        .updateTable("receivables")
        .set({ status: flip++ % 2 === 0 ? "confirming" : "registered" })
        .where("id", "=", "rcv_7")
        .execute();
      return loadPartyHistory(ctx, debtor);
    });
    const unchanged = await median(() => loadPartyHistory(ctx, debtor));
    const history = await loadPartyHistory(ctx, debtor);
    const score = await median(async () => computeScore(history));
    const flipOne = () =>
      db
        .updateTable("receivables")
        .set({ status: flip++ % 2 === 0 ? "confirming" : "registered" })
        .where("id", "=", "rcv_7")
        .execute();
    const rescoredInFull = await median(async () => {
      await flipOne();
      forgetHistoryRows(db);
      return computeScore(await loadPartyHistory(ctx, debtor));
    });
    await loadPartyHistory(ctx, debtor); // kept again
    const rescoredBefore = await median(async () => {
      await flipOne();
      return computeScore(await loadPartyHistory(ctx, debtor));
    });
    await scoringInputFor(ctx, debtor); // the totals are kept from here on
    const rescoredNow = await median(async () => {
      await flipOne();
      return computeScore(await scoringInputFor(ctx, debtor));
    });
    const summedHere = await median(async () => {
      const rows = await db
        .selectFrom("onchain_receivables")
        .select(["face_value", "credited", "repaid_amount"])
        .where("debtor", "=", debtor.address)
        .where("status", "!=", "repaid")
        .execute();
      let owed = 0n;
      for (const r of rows) {
        const left = BigInt(r.face_value) - BigInt(r.credited) - BigInt(r.repaid_amount);
        if (left > 0n) owed += left;
      }
      return owed;
    });
    const summedThere = await median(() =>
      postgres
        ? sql<{ owed: string }>`
        select coalesce(sum(greatest(0, face_value::numeric - credited::numeric - repaid_amount::numeric)), 0)::text as owed
        from onchain_receivables where debtor = ${debtor.address} and status != 'repaid'`.execute(db)
        : sql<{ owed: string }>`
        select cast(coalesce(sum(max(0, cast(face_value as integer) - cast(credited as integer) - cast(repaid_amount as integer))), 0) as text) as owed
        from onchain_receivables where debtor = ${debtor.address} and status != 'repaid'`.execute(db),
    );
    const exposure = await median(() => debtorExposure(ctx, debtor));
    const cells = [
      size.toLocaleString("en"),
      ...[
        full,
        changed,
        unchanged,
        score,
        rescoredInFull,
        rescoredBefore,
        rescoredNow,
        summedHere,
        summedThere,
        exposure,
      ].map((ms) => `${ms.toFixed(ms < 1 ? 2 : 1)} ms`),
    ];
    cells.forEach((cell, i) => rows[i]!.push(cell));
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
const width = Math.max(...rows.map((r) => r[0].length));
for (const [label, ...cells] of rows)
  console.log(`  ${label.padEnd(width)}  ${cells.map((c) => c.padStart(12)).join("")}`);
await postgres?.stop();
