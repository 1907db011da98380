// `npm run bench:exposure`: what a party's exposure report costs as its side of the book grows
// (issue 12), side by side: the report as it is now (totals: what a debtor owes from the sums
// kept per due date, the rest over every row; each list's first page of 50), every page of a list read one after another (200 a page: what a client that wants
// the whole list now pays, and what the report sent in one answer before), and one later page
// alone; and two of the supplier's limit checks, from its rows against the sums kept by
// triggers (migration 0026): financing, and what it is owed through the tiers and owes beyond
// its pledged claims. Three parties: the debtor that owes the whole book, the supplier that holds most of it,
// and a financier that bought a quarter and lent against another quarter. Rows are written
// straight into a SQLite file (no chain, no documents); prints figures, asserts nothing.
//   npm run bench:exposure                  # 5,000 and 25,000 receivables
//   BENCH_EXPOSURE_SIZES=100000 npm run bench:exposure
import "../lib/node-version.js";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { openDatabase, type Db } from "../../server/store/database.js";
import { findPartyById } from "../../server/store/parties-store.js";
import type { ServiceContext } from "../../server/context.js";
import type { Actor } from "../../server/model/actor.js";
import { partyExposure } from "../../server/domain/audit/exposure.js";
import {
  collateralShortfallOwedBy,
  financingExposure,
  summedFinanced,
  summedThroughTiers,
  supplierExposure,
} from "../../server/risk/exposure.js";
import { exposureListPage, type ExposureList } from "../../server/domain/audit/exposure-lists.js";
import { fundedRequestRow, partyRow } from "../lib/sample-rows.js";
import { medianMs } from "../lib/median-ms.js";

const SIZES = (process.env.BENCH_EXPOSURE_SIZES ?? "5000,25000").split(",").map(Number);
const RUNS = 5;
const NOW = 1_775_000_000;
const debtor = partyRow("pty_debtor");
const seller = partyRow("pty_seller");
const financier = partyRow("pty_financier");
const operator = { id: "pty_operator", roles: ["operator"], address: "0x" + "0".repeat(40) } as unknown as Actor;
const hex = (n: number) => "0x" + n.toString(16).padStart(64, "0");

/** Every receivable owed by the debtor to the seller; every 4th root sold to the financier, every 4th after it pledged to it. */
async function build(db: Db, size: number): Promise<void> {
  await db.insertInto("parties").values([debtor, seller, financier]).execute();
  for (let i = 0; i < size; i += 500) {
    const receivables = [];
    const certificates = [];
    const requests = [];
    for (let k = i; k < Math.min(size, i + 500); k++) {
      const sold = k % 4 === 0;
      const pledged = k % 4 === 1;
      receivables.push({
        id: hex(k),
        seller: seller.address,
        debtor: debtor.address,
        registrar: seller.address,
        face_value: "10000000",
        repaid_amount: "0",
        due_date: NOW + (k % 200) * 86_400,
        document_hash: hex(k),
        root_certificate_id: String(k + 1),
        status: "active",
        register_tx_hash: hex(k),
        registered_block: k + 1,
      });
      certificates.push({
        id: String(k + 1),
        receivable_id: hex(k),
        parent_id: null,
        holder: sold ? financier.address : seller.address,
        face_value: "10000000",
        tier: 1,
        state: pledged ? "locked" : "live",
        issued_tx_hash: hex(k),
        issued_block: k + 1,
      });
      if (sold || pledged)
        requests.push(
          fundedRequestRow(String(k + 1), seller.address, financier.address, sold ? "discount" : "pledge", k + 1),
        );
    }
    await db.insertInto("onchain_receivables").values(receivables).execute();
    await db.insertInto("onchain_certificates").values(certificates).execute();
    if (requests.length) await db.insertInto("onchain_financing_requests").values(requests).execute();
  }
}

const median = (run: () => Promise<unknown>) => medianMs(RUNS, run);

const CASES: Array<[string, string, ExposureList]> = [
  ["debtor of the whole book", debtor.id, "receivables"],
  ["supplier holding most of it", seller.id, "certificates"],
  ["financier (its purchases)", financier.id, "purchases"],
];

console.log(
  `Exposure report, SQLite, ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, Node ${process.version}; median of ${RUNS}\n`,
);
const rows: string[][] = CASES.flatMap(([who]) => [
  [`${who}: report, first pages`],
  [`  its JSON`],
  [`  every page of its list, 200 a page`],
  [`  that list's JSON in all`],
  [`  one later page`],
]);
rows.push(
  ["supplier's financing limit check: its requests summed (before)"],
  ["  kept by triggers (now)"],
  ["supplier limit check, tiers and pledge shortfalls: its certificates and pledges read (before)"],
  ["  the whole supplier check, kept by triggers (now)"],
);
const header = ["receivables in the book"];
for (const size of SIZES) {
  header.push(size.toLocaleString("en"));
  const dir = mkdtempSync(path.join(tmpdir(), "tierline-bench-exposure-"));
  const db = await openDatabase(path.join(dir, "tierline.db"));
  try {
    await build(db, size);
    const ctx = {
      db,
      indexer: { indexedBlock: async () => size },
      chain: { provider: { getBlock: async () => ({ timestamp: NOW }) } },
      now: () => new Date(NOW * 1000),
    } as unknown as ServiceContext;
    let row = 0;
    for (const [, partyId, list] of CASES) {
      if (!(await findPartyById(db, partyId))) throw new Error(`no party ${partyId}`);
      let bytes = 0;
      const report = await median(async () => {
        bytes = JSON.stringify(await partyExposure(ctx, operator, partyId, { limit: 50 })).length;
      });
      let listBytes = 0;
      let middle: string | undefined;
      const everyPage = await median(async () => {
        listBytes = 0;
        let pages = 0;
        let cursor: string | undefined;
        do {
          const page = await exposureListPage(ctx, operator, partyId, list, { cursor, limit: 200 });
          listBytes += JSON.stringify(page).length;
          if (++pages === 10) middle = cursor;
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
      });
      const later = await median(() => exposureListPage(ctx, operator, partyId, list, { cursor: middle, limit: 50 }));
      const ms = (v: number) => `${v.toFixed(1)} ms`;
      const mb = (v: number) => (v < 100_000 ? `${(v / 1000).toFixed(1)} kB` : `${(v / 1e6).toFixed(2)} MB`);
      for (const cell of [ms(report), mb(bytes), ms(everyPage), mb(listBytes), ms(later)]) rows[row++]!.push(cell);
    }
    // The seller opened a request on half its certificates (a quarter sold, a quarter pledged).
    const supplier = (await findPartyById(db, seller.id))!;
    const ms2 = (v: number) => `${v.toFixed(v < 1 ? 2 : 1)} ms`;
    rows[row++]!.push(ms2(await median(() => summedFinanced({ db }, supplier.address))));
    rows[row++]!.push(ms2(await median(() => financingExposure({ db }, supplier))));
    rows[row++]!.push(
      ms2(
        await median(async () => {
          await summedThroughTiers({ db }, supplier.address);
          await collateralShortfallOwedBy({ db }, supplier.address);
        }),
      ),
    );
    rows[row++]!.push(ms2(await median(() => supplierExposure({ db }, supplier))));
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
const width = Math.max(...[header, ...rows].map((r) => r[0]!.length));
for (const [label, ...cells] of [header, ...rows])
  console.log(`  ${label!.padEnd(width)}  ${cells.map((c) => c.padStart(12)).join("")}`);
