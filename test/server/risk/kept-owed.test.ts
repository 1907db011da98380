// What a party owes (as debtor) and has sold that is still owed (as seller) is kept by triggers
// (store/party-owed-triggers.ts), so the limit check inside the confirmation's transaction
// reads one row instead of the debtor's whole book (issue 12). The kept sums must equal the
// rows' sums after any sequence of index writes: inserts, every tracked column changing,
// deletes and a reindex's emptying, on both engines. And a book indexed before the triggers
// existed is summed by the migration that adds them.
import { expect } from "chai";
import { sql } from "kysely";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase, type Db } from "../../../server/store/database.js";
import type { PartyRecord } from "../../../server/store/parties-store.js";
import { debtorExposure, supplierExposure } from "../../../server/risk/exposure.js";
import { partyRow } from "../../helpers/party-row.js";
import { databaseAtMigration } from "../../helpers/engine-database.js";
import { KEPT_PARTIES, keptRows, keptSumsDatabase, nonZero, recordingReadsOf } from "../../helpers/kept-sums.js";

const PARTIES = KEPT_PARTIES;
const STATUSES = ["active", "overdue", "defaulted", "repaid"];

interface Row {
  id: string;
  seller: string;
  debtor: string;
  face_value: string;
  credited: string;
  repaid_amount: string;
  status: string;
  due_date?: number; // DUE_DATES[0] when not set
}
const DUE_DATES = [1_780_000_000, 1_780_086_400, 1_785_000_000];

/** A deterministic generator, so a failure names the step that broke and repeats. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  const below = (n: number) => Math.floor(next() * n);
  const pick = <T>(values: readonly T[]): T => values[below(values.length)]!;
  // Mostly ordinary amounts, sometimes zero or one too wide for a 64-bit integer.
  const amount = () => pick(["0", String(1 + below(1_000_000_000)), String(below(100)), "1" + "0".repeat(20)]);
  return { below, pick, amount };
}

/** The rows' sums as the limit checks must see them: max(0, face - credited - repaid), repaid rows aside. */
function expected(rows: Iterable<Row>, side: "debtor" | "seller", address: string): bigint {
  let total = 0n;
  for (const r of rows) {
    if (r[side] !== address || r.status === "repaid") continue;
    const owed = BigInt(r.face_value) - BigInt(r.credited) - BigInt(r.repaid_amount);
    if (owed > 0n) total += owed;
  }
  return total;
}

/**
 * party_owed as each engine keeps it, "owed/wide" by "address side" (rows at 0/0 left out):
 * PostgreSQL sums every amount; SQLite counts a row with an amount past 18 digits in `wide`.
 */
function keptRowsExpected(rows: Iterable<Row>, engine: "sqlite" | "postgres"): Record<string, string> {
  const sums = new Map<string, { owed: bigint; wide: number }>();
  for (const r of rows) {
    if (r.status === "repaid") continue;
    const wide = engine === "sqlite" && [r.face_value, r.credited, r.repaid_amount].some((v) => v.length > 18);
    const owed = BigInt(r.face_value) - BigInt(r.credited) - BigInt(r.repaid_amount);
    for (const side of ["debtor", "seller"] as const) {
      const sum = sums.get(`${r[side]} ${side}`) ?? { owed: 0n, wide: 0 };
      if (wide) sum.wide += 1;
      else if (owed > 0n) sum.owed += owed;
      sums.set(`${r[side]} ${side}`, sum);
    }
  }
  return nonZero([...sums].map(([key, sum]) => [key, `${sum.owed}/${sum.wide}`] as const));
}

/**
 * party_owes_by_due as each engine keeps it, "amount/count/wide" by "debtor due date": a row per
 * due date something is owed on (none left at zero). SQLite counts a receivable with an amount
 * past 18 digits in `wide` only.
 */
function owesByDueExpected(rows: Iterable<Row>, engine: "sqlite" | "postgres"): Record<string, string> {
  const sums = new Map<string, { amount: bigint; count: number; wide: number }>();
  for (const r of rows) {
    if (r.status === "repaid") continue;
    const wide = engine === "sqlite" && [r.face_value, r.credited, r.repaid_amount].some((v) => v.length > 18);
    const owed = BigInt(r.face_value) - BigInt(r.credited) - BigInt(r.repaid_amount);
    if (!wide && owed <= 0n) continue;
    const key = `${r.debtor} ${r.due_date ?? DUE_DATES[0]}`;
    const sum = sums.get(key) ?? { amount: 0n, count: 0, wide: 0 };
    if (wide) sum.wide += 1;
    else ((sum.amount += owed), (sum.count += 1));
    sums.set(key, sum);
  }
  return Object.fromEntries([...sums].map(([key, sum]) => [key, `${sum.amount}/${sum.count}/${sum.wide}`]));
}

function indexRow(id: string, r: Omit<Row, "id">) {
  return {
    id,
    ...r,
    registrar: "0x",
    due_date: r.due_date ?? DUE_DATES[0]!,
    document_hash: "0x",
    root_certificate_id: id,
    register_tx_hash: "0x",
    registered_block: 1,
  };
}

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`risk: the kept sums of what each party owes (${engine})`, function () {
    this.timeout(300_000);
    let dir: string;
    let db: Db;
    let close: () => Promise<void>;

    beforeEach(async function () {
      ({ db, dir, close } = await keptSumsDatabase(engine, "kept-owed"));
    });
    afterEach(async function () {
      await close();
    });

    async function expectSums(rows: Map<string, Row>, step: string) {
      // The kept rows themselves first: where SQLite could not keep a sum the reader sums the
      // rows instead, which would hide a wrong kept one.
      expect(await keptRows(db, "party_owed"), `${step}: the kept rows`).to.deep.equal(
        keptRowsExpected(rows.values(), engine),
      );
      // What each debtor owes per due date, for the exposure report (migration 0027).
      const byDue = await db
        .selectFrom("party_owes_by_due")
        .select(["address", "due_date", sql<string>`cast(amount as text)`.as("amount"), "count", "wide"])
        .execute();
      expect(
        Object.fromEntries(
          byDue.map((r) => [`${r.address} ${r.due_date}`, `${BigInt(r.amount)}/${r.count}/${r.wide}`]),
        ),
        `${step}: the kept sums by due date`,
      ).to.deep.equal(owesByDueExpected(rows.values(), engine));
      for (const party of PARTIES) {
        const owes = (await debtorExposure({ db }, party)).outstanding;
        const sold = (await supplierExposure({ db }, party)).originated;
        expect(owes, `${step}: ${party.id} as debtor`).to.equal(expected(rows.values(), "debtor", party.address));
        expect(sold, `${step}: ${party.id} as seller`).to.equal(expected(rows.values(), "seller", party.address));
      }
    }

    const STEPS = engine === "sqlite" ? 300 : 120;
    it(`equals the rows' sums after each of ${STEPS} random index writes (inserts, changes, deletes, a reindex)`, async function () {
      const { below, pick, amount } = random(engine === "sqlite" ? 12 : 34);
      const rows = new Map<string, Row>();
      const addresses = PARTIES.map((p) => p.address);
      let next = 0;
      for (let step = 0; step < STEPS; step += 1) {
        const ids = [...rows.keys()];
        const roll = below(20);
        let what: string;
        if (ids.length === 0 || roll < 7) {
          next += 1;
          const debtor = pick(addresses);
          const row: Row = {
            id: `r${next}`,
            seller: pick(addresses.filter((a) => a !== debtor)),
            debtor,
            face_value: amount(),
            credited: below(4) === 0 ? amount() : "0",
            repaid_amount: below(4) === 0 ? amount() : "0",
            status: pick(STATUSES),
            due_date: pick(DUE_DATES),
          };
          rows.set(row.id, row);
          await db.insertInto("onchain_receivables").values(indexRow(row.id, row)).execute();
          what = `insert ${row.id}`;
        } else if (roll < 17) {
          const id = pick(ids);
          const column = pick([
            "face_value",
            "credited",
            "repaid_amount",
            "status",
            "debtor",
            "seller",
            "registrar",
            "due_date",
          ] as const);
          const value =
            column === "status"
              ? pick(STATUSES)
              : column === "debtor" || column === "seller"
                ? pick(addresses)
                : column === "due_date"
                  ? pick(DUE_DATES)
                  : amount();
          if (column !== "registrar") rows.set(id, { ...rows.get(id)!, [column]: value });
          await db
            .updateTable("onchain_receivables")
            .set({ [column]: column === "registrar" ? `0x${step}` : value })
            .where("id", "=", id)
            .execute();
          what = `set ${id}.${column}`;
        } else if (roll < 19) {
          const id = pick(ids);
          rows.delete(id);
          await db.deleteFrom("onchain_receivables").where("id", "=", id).execute();
          what = `delete ${id}`;
        } else {
          rows.clear();
          await db.deleteFrom("onchain_receivables").execute();
          what = "empty the index";
        }
        await expectSums(rows, `step ${step} (${what})`);
      }
    });

    it("sums the book already indexed when the triggers are added (migration 0022)", async function () {
      const { db: old, migrateToLatest } = await databaseAtMigration(engine, dir, "0021_receivables_by_pair_created");
      try {
        const [a, b, c] = PARTIES.map((p) => p.address) as [string, string, string];
        const book: Row[] = [
          { id: "r1", seller: a, debtor: b, face_value: "100", credited: "0", repaid_amount: "30", status: "active" },
          { id: "r2", seller: a, debtor: b, face_value: "50", credited: "60", repaid_amount: "0", status: "overdue" },
          { id: "r3", seller: c, debtor: b, face_value: "70", credited: "0", repaid_amount: "70", status: "repaid" },
          { id: "r4", seller: b, debtor: a, face_value: "9", credited: "1", repaid_amount: "0", status: "defaulted" },
        ];
        for (const row of book) await old.insertInto("onchain_receivables").values(indexRow(row.id, row)).execute();
        await migrateToLatest();
        const sums = await old.selectFrom("party_owed").selectAll().execute();
        const owedOf = (side: string, address: string) =>
          String(sums.find((s) => s.side === side && s.address === address)?.owed ?? "0");
        for (const address of [a, b, c])
          for (const side of ["debtor", "seller"] as const)
            expect(owedOf(side, address), `${side} ${address}`).to.equal(String(expected(book, side, address)));
        // And what each debtor owes per due date (migration 0027): b owes 70 on r1, r2 nothing.
        const byDue = await old.selectFrom("party_owes_by_due").selectAll().execute();
        expect(
          Object.fromEntries(byDue.map((r) => [`${r.address} ${r.due_date}`, `${r.amount}/${r.count}/${r.wide}`])),
        ).to.deep.equal(owesByDueExpected(book, engine));
        expect(owesByDueExpected(book, engine)).to.deep.equal({
          [`${b} ${DUE_DATES[0]}`]: "70/1/0",
          [`${a} ${DUE_DATES[0]}`]: "8/1/0",
        });
      } finally {
        await old.destroy();
      }
    });
  });
}

describe("risk: the debtor's limit check reads one row, not its book", function () {
  let dir: string;
  let db: Db;
  let debtor: PartyRecord;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "kept-owed-reads-"));
    db = await openDatabase(path.join(dir, "tierline.db"));
    debtor = PARTIES[0]!;
    await db
      .insertInto("parties")
      .values(PARTIES.map((p) => partyRow(p.id)))
      .execute();
    for (let i = 0; i < 50; i += 1)
      await db
        .insertInto("onchain_receivables")
        .values(
          indexRow(`r${i}`, {
            seller: PARTIES[1]!.address,
            debtor: debtor.address,
            face_value: "1000",
            credited: "0",
            repaid_amount: String(i),
            status: "active",
          }),
        )
        .execute();
  });
  after(async function () {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers the debtor's outstanding and the seller's originated without reading onchain_receivables", async function () {
    // The statements that read the index's receivables themselves (not through a join from a
    // pending confirmation or a certificate, which read a few rows by key).
    const { db: logged, reads: fromBook } = recordingReadsOf(db, "onchain_receivables");
    const owes = await debtorExposure({ db: logged }, debtor);
    const sold = await supplierExposure({ db: logged }, PARTIES[1]!);
    expect(owes.outstanding).to.equal(50n * 1000n - (49n * 50n) / 2n);
    expect(sold.originated).to.equal(owes.outstanding);
    expect(fromBook, fromBook.join("\n")).to.deep.equal([]);
  });
});
