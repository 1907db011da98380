// The limit checks' sums of what a debtor owes and a supplier sold are taken by the database
// (risk/exposure.ts), on SQLite in 64-bit integers and on PostgreSQL in numeric. Money is
// never approximated: each case is compared with the exact sum worked out here, with amounts
// at the edges — a credit note above what is left (counts as zero, not as a negative), repaid
// receivables (not counted), another party's rows, amounts of 19 digits and more (beyond a
// 64-bit integer), and a sum that overflows one though each amount fits.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Db } from "../../../server/store/database.js";
import { toParty } from "../../../server/store/parties-store.js";
import { debtorExposure, supplierExposure } from "../../../server/risk/exposure.js";
import { partyRow } from "../../helpers/party-row.js";
import { openEngineDatabase } from "../../helpers/engine-database.js";

interface Owed {
  face: string;
  credited?: string;
  repaid?: string;
  status?: string;
  debtor?: string;
}

const debtor = toParty(partyRow("pty_d"));
const seller = toParty(partyRow("pty_s"));
const other = toParty(partyRow("pty_o"));

let next = 0;
async function owe(db: Db, rows: Owed[]): Promise<void> {
  for (const r of rows) {
    next += 1;
    await db
      .insertInto("onchain_receivables")
      .values({
        id: `r${next}`,
        seller: seller.address,
        debtor: r.debtor ?? debtor.address,
        registrar: "0x",
        face_value: r.face,
        credited: r.credited ?? "0",
        repaid_amount: r.repaid ?? "0",
        due_date: 1_780_000_000,
        document_hash: "0x",
        root_certificate_id: String(next),
        status: r.status ?? "active",
        register_tx_hash: "0x",
        registered_block: next,
      })
      .execute();
  }
}

/** The exact sum the limit checks must see: each row's face - credited - repaid, above zero, repaid rows aside. */
function expected(rows: Owed[], debtorAddress = debtor.address): bigint {
  return rows
    .filter((r) => (r.debtor ?? debtor.address) === debtorAddress && (r.status ?? "active") !== "repaid")
    .map((r) => BigInt(r.face) - BigInt(r.credited ?? "0") - BigInt(r.repaid ?? "0"))
    .filter((v) => v > 0n)
    .reduce((a, b) => a + b, 0n);
}

const CASES: Record<string, Owed[]> = {
  "ordinary amounts, partly repaid and credited": [
    { face: "60000000" },
    { face: "25000000", repaid: "5000000" },
    { face: "10000000", credited: "2500000", repaid: "1" },
    { face: "99000000", status: "overdue" },
  ],
  "a credit note above what is left counts as zero, and repaid receivables not at all": [
    { face: "10000000", credited: "9000000", repaid: "2000000" },
    { face: "50000000", repaid: "50000000", status: "repaid" },
    { face: "7" },
  ],
  "another debtor's receivables are its own": [{ face: "1000" }, { face: "2000", debtor: other.address }],
  "amounts of 19 and 30 digits, beyond a 64-bit integer": [
    { face: "1000000000000000000000000000000" },
    { face: "9999999999999999999", credited: "1" },
    { face: "123" },
  ],
  // Alone, a 64-bit cast would clip it to 2^63 - 1 and the sum would not overflow: wrong, silently.
  "one amount of 19 digits, nothing else": [{ face: "9999999999999999999" }],
  "a sum that overflows a 64-bit integer though each amount fits": Array.from({ length: 12 }, () => ({
    face: "999999999999999999",
  })),
  "nothing owed": [],
};

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`Risk exposure sums, exact (${engine})`, function () {
    this.timeout(120_000);
    let dir: string;
    let db: Db;

    beforeEach(async function () {
      dir = mkdtempSync(path.join(tmpdir(), "exposure-sums-"));
      db = await openEngineDatabase(engine, dir);
      await db
        .insertInto("parties")
        .values([partyRow("pty_d"), partyRow("pty_s"), partyRow("pty_o")])
        .execute();
    });
    afterEach(async function () {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const [name, rows] of Object.entries(CASES)) {
      it(`${name}: the debtor's outstanding and the seller's originated are the exact sums`, async function () {
        await owe(db, rows);
        expect((await debtorExposure({ db }, debtor)).outstanding).to.equal(expected(rows));
        expect((await debtorExposure({ db }, other)).outstanding).to.equal(expected(rows, other.address));
        // Every row was sold by the seller, so it originated them all, whoever owes them.
        const sold = rows.map((r) => ({ ...r, debtor: undefined }));
        expect((await supplierExposure({ db }, seller)).originated).to.equal(expected(sold));
      });
    }
  });
}
