// What counts against a holder's financing limit (its open requests' prices, its pledges'
// outstanding, the prices of the certificates it sold until they are settled) is kept by
// triggers (store/party-financed-triggers.ts, in party_sums): opening a request read every request the holder
// ever opened, inside the transaction that holds the write lock, and a sold request stays sold
// for good (issue 12). The kept sums must equal the rows' sums after any sequence of index
// writes to requests and certificates, on both engines; a book indexed before the triggers is
// summed by their migration; and the check reads no request row.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase, type Db } from "../../../server/store/database.js";
import { financingExposure, supplierExposure } from "../../../server/risk/exposure.js";
import { mulberry32 } from "../../../server/risk/network/centrality.js";
import { partyRow } from "../../helpers/party-row.js";
import { databaseAtMigration } from "../../helpers/engine-database.js";
import { KEPT_PARTIES, keptRows, keptSumsDatabase, nonZero, recordingReadsOf } from "../../helpers/kept-sums.js";

const PARTIES = KEPT_PARTIES;
const REQUEST_STATUSES = ["open", "cancelled", "sold", "pledged", "released", "foreclosed"];
const CERTIFICATE_STATES = ["live", "locked", "retired", "settled"];

interface Request {
  id: string;
  certificate_id: string;
  holder: string;
  kind: string;
  status: string;
  price: string;
  outstanding: string;
}

interface Certificate {
  state: string;
  face_value: string;
  reduction: string;
}

/** A live pledge's collateral shortfall against its certificate's row; none while the row is missing. */
function shortfallOf(r: Request, certificate: Certificate | undefined): bigint | undefined {
  if (r.kind !== "pledge" || r.status !== "pledged" || !certificate) return undefined;
  const gap = BigInt(r.outstanding) - (BigInt(certificate.face_value) - BigInt(certificate.reduction));
  return gap > 0n ? gap : 0n;
}

/** The sums as the limit checks must see them; a sold request counts until its certificate's row says settled. */
function expected(requests: Iterable<Request>, certificates: Map<string, Certificate>, address: string) {
  const sums = { open: 0n, pledged: 0n, sold: 0n, shortfall: 0n };
  for (const r of requests) {
    if (r.holder !== address) continue;
    sums.shortfall += shortfallOf(r, certificates.get(r.certificate_id)) ?? 0n;
    if (r.status === "open") sums.open += BigInt(r.price);
    else if (r.status === "pledged") sums.pledged += BigInt(r.outstanding);
    else if (r.status === "sold" && certificates.get(r.certificate_id)?.state !== "settled")
      sums.sold += BigInt(r.price);
  }
  return sums;
}

/**
 * The kept rows as each engine keeps them, "amount/wide" by "address kind": PostgreSQL sums every
 * amount; SQLite counts an amount of more than 18 digits in `wide` instead.
 */
function keptRowsExpected(
  requests: Iterable<Request>,
  certificates: Map<string, Certificate>,
  engine: "sqlite" | "postgres",
) {
  const sums = new Map<string, { amount: bigint; wide: number }>();
  const add = (key: string, amount: bigint, wide: boolean) => {
    const sum = sums.get(key) ?? { amount: 0n, wide: 0 };
    if (engine === "sqlite" && wide) sum.wide += 1;
    else sum.amount += amount;
    sums.set(key, sum);
  };
  for (const r of requests) {
    const certificate = certificates.get(r.certificate_id);
    const shortfall = shortfallOf(r, certificate);
    if (shortfall !== undefined) {
      const wide = [r.outstanding, certificate!.face_value, certificate!.reduction].some((v) => v.length > 18);
      add(`${r.holder} pledge_shortfall`, shortfall, wide);
    }
    const status = r.status;
    const counts = status === "open" || status === "pledged" || (status === "sold" && certificate?.state !== "settled");
    if (!counts) continue;
    const value = status === "pledged" ? r.outstanding : r.price;
    add(`${r.holder} financing_${status}`, BigInt(value), value.length > 18);
  }
  return [...sums].map(([key, sum]) => [key, `${sum.amount}/${sum.wide}`] as const);
}

const requestRow = (r: Request) => ({
  ...r,
  repay_amount: "0",
  financier: null,
  shortfall: null,
  opened_tx_hash: "0x",
  opened_block: 1,
  funded_tx_hash: null,
  attested_until: null,
  advance_rate_bps: null,
});

const certificateRow = (id: string, state: string, face_value = "1", reduction = "0") => ({
  id,
  receivable_id: "0x",
  parent_id: null,
  holder: "0x",
  face_value,
  reduction,
  tier: 1,
  state,
  issued_tx_hash: "0x",
  issued_block: 1,
});

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`risk: the kept sums of what each holder has financed (${engine})`, function () {
    this.timeout(300_000);
    let dir: string;
    let db: Db;
    let close: () => Promise<void>;

    beforeEach(async function () {
      ({ db, dir, close } = await keptSumsDatabase(engine, "kept-financed"));
    });
    afterEach(async function () {
      await close();
    });

    const STEPS = 300;
    it(`equals the rows' sums after each of ${STEPS} random writes to requests and certificates`, async function () {
      const random = mulberry32(engine === "sqlite" ? 21 : 43);
      const below = (n: number) => Math.floor(random() * n);
      const pick = <T>(values: readonly T[]): T => values[below(values.length)]!;
      // Mostly ordinary amounts, sometimes zero or one too wide for a 64-bit integer.
      const amount = () => pick(["0", String(1 + below(1_000_000_000)), String(below(100)), "1" + "0".repeat(20)]);
      const requests = new Map<string, Request>();
      const certificates = new Map<string, Certificate>();
      const addresses = PARTIES.map((p) => p.address);
      let next = 0;
      // Requests name certificates indexed or not (yet): c1..c8.
      const certificateId = () => `c${1 + below(8)}`;
      for (let step = 0; step < STEPS; step += 1) {
        const roll = below(100);
        const ids = [...requests.keys()];
        let what: string;
        if (ids.length === 0 || roll < 25) {
          next += 1;
          const request: Request = {
            id: `f${next}`,
            certificate_id: certificateId(),
            holder: pick(addresses),
            kind: pick(["discount", "pledge"]),
            status: pick(REQUEST_STATUSES),
            price: amount(),
            outstanding: amount(),
          };
          requests.set(request.id, request);
          await db.insertInto("onchain_financing_requests").values(requestRow(request)).execute();
          what = `insert ${request.id}`;
        } else if (roll < 50) {
          const id = pick(ids);
          const column = pick([
            "holder",
            "kind",
            "status",
            "price",
            "outstanding",
            "certificate_id",
            "financier",
          ] as const);
          const value =
            column === "holder"
              ? pick(addresses)
              : column === "kind"
                ? pick(["discount", "pledge"])
                : column === "status"
                  ? pick(REQUEST_STATUSES)
                  : column === "certificate_id"
                    ? certificateId()
                    : column === "financier"
                      ? pick(addresses)
                      : amount();
          if (column !== "financier") requests.set(id, { ...requests.get(id)!, [column]: value });
          await db
            .updateTable("onchain_financing_requests")
            .set({ [column]: value })
            .where("id", "=", id)
            .execute();
          what = `set ${id}.${column}`;
        } else if (roll < 58) {
          const id = pick(ids);
          requests.delete(id);
          await db.deleteFrom("onchain_financing_requests").where("id", "=", id).execute();
          what = `delete ${id}`;
        } else if (roll < 98) {
          const id = certificateId();
          const state = pick(CERTIFICATE_STATES);
          const existing = certificates.get(id);
          if (existing && roll < 92) {
            // The state, or a face value or credit-note cut (a split's child, a dilution).
            const column = pick(["state", "state", "face_value", "reduction"] as const);
            const value = column === "state" ? state : amount();
            await db
              .updateTable("onchain_certificates")
              .set({ [column]: value })
              .where("id", "=", id)
              .execute();
            certificates.set(id, { ...existing, [column]: value });
            what = `certificate ${id}.${column} -> ${value}`;
          } else if (existing) {
            await db.deleteFrom("onchain_certificates").where("id", "=", id).execute();
            certificates.delete(id);
            what = `delete certificate ${id}`;
          } else {
            const certificate = { state, face_value: amount(), reduction: below(3) === 0 ? amount() : "0" };
            await db
              .insertInto("onchain_certificates")
              .values(certificateRow(id, state, certificate.face_value, certificate.reduction))
              .execute();
            certificates.set(id, certificate);
            what = `insert certificate ${id} (${state})`;
          }
        } else {
          // A reindex empties the tables, in either order.
          const tables = ["onchain_certificates", "onchain_financing_requests"] as const;
          for (const table of roll === 98 ? tables : [...tables].reverse()) await db.deleteFrom(table).execute();
          requests.clear();
          certificates.clear();
          what = "empty the index";
        }
        // The kept rows themselves (the reader falls back to the requests where SQLite could not
        // keep a sum, which would hide a wrong one), then what the limit check reads.
        const kinds = ["financing_open", "financing_pledged", "financing_sold", "pledge_shortfall"] as const;
        expect(await keptRows(db, { kinds: [...kinds] }), `step ${step} (${what}): the kept rows`).to.deep.equal(
          nonZero(keptRowsExpected(requests.values(), certificates, engine)),
        );
        for (const party of PARTIES) {
          const kept = await financingExposure({ db }, party);
          const { collateralShortfall } = await supplierExposure({ db }, party);
          const want = expected(requests.values(), certificates, party.address);
          expect(
            { open: kept.open, pledged: kept.pledged, sold: kept.sold, shortfall: collateralShortfall },
            `step ${step} (${what}): ${party.id}`,
          ).to.deep.equal(want);
        }
      }
    });

    it("sums the requests already indexed when the triggers are added (migration 0026)", async function () {
      const { db: old, migrateToLatest } = await databaseAtMigration(engine, dir, "0025_exposure_owes_by_due_date");
      try {
        const [a, b] = PARTIES.map((p) => p.address) as [string, string];
        const book: Request[] = [
          {
            id: "f1",
            certificate_id: "c1",
            holder: a,
            kind: "discount",
            status: "open",
            price: "10",
            outstanding: "0",
          },
          {
            id: "f2",
            certificate_id: "c2",
            holder: a,
            kind: "pledge",
            status: "pledged",
            price: "20",
            outstanding: "21",
          },
          {
            id: "f3",
            certificate_id: "c3",
            holder: a,
            kind: "discount",
            status: "sold",
            price: "30",
            outstanding: "0",
          },
          {
            id: "f4",
            certificate_id: "c4",
            holder: a,
            kind: "discount",
            status: "sold",
            price: "40",
            outstanding: "0",
          },
          {
            id: "f5",
            certificate_id: "c5",
            holder: b,
            kind: "discount",
            status: "cancelled",
            price: "50",
            outstanding: "0",
          },
          {
            id: "f6",
            certificate_id: "c6",
            holder: b,
            kind: "discount",
            status: "sold",
            price: "60",
            outstanding: "0",
          },
        ];
        // c2's claim (25 - 10) is 6 below what its pledge still owes (21).
        const certificates = new Map<string, Certificate>([
          ["c2", { state: "locked", face_value: "25", reduction: "10" }],
          ["c3", { state: "settled", face_value: "30", reduction: "0" }],
          ["c4", { state: "live", face_value: "40", reduction: "0" }],
          ["c6", { state: "locked", face_value: "60", reduction: "0" }],
        ]);
        for (const [id, c] of certificates)
          await old
            .insertInto("onchain_certificates")
            .values(certificateRow(id, c.state, c.face_value, c.reduction))
            .execute();
        for (const r of book) await old.insertInto("onchain_financing_requests").values(requestRow(r)).execute();
        await migrateToLatest();
        for (const party of PARTIES.slice(0, 2)) {
          const kept = await financingExposure({ db: old }, party);
          const { collateralShortfall } = await supplierExposure({ db: old }, party);
          expect(
            { open: kept.open, pledged: kept.pledged, sold: kept.sold, shortfall: collateralShortfall },
            party.id,
          ).to.deep.equal(expected(book, certificates, party.address));
        }
        expect((await supplierExposure({ db: old }, PARTIES[0]!)).collateralShortfall).to.equal(6n);
        // The sums came from party_sums: emptied, they read as nothing.
        await old.deleteFrom("party_sums").execute();
        expect((await financingExposure({ db: old }, PARTIES[0]!)).total).to.equal(0n);
      } finally {
        await old.destroy();
      }
    });
  });
}

describe("risk: the financing limit check reads three rows, not the holder's requests", function () {
  it("answers open, pledged and sold without reading onchain_financing_requests", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "kept-financed-reads-"));
    const db = await openDatabase(path.join(dir, "tierline.db"));
    try {
      const holder = PARTIES[0]!;
      await db.insertInto("parties").values(partyRow(holder.id)).execute();
      for (let i = 0; i < 30; i += 1) {
        await db
          .insertInto("onchain_certificates")
          .values(certificateRow(`c${i}`, i % 6 === 0 ? "settled" : "live"))
          .execute();
        await db
          .insertInto("onchain_financing_requests")
          .values(
            requestRow({
              id: `f${i}`,
              certificate_id: `c${i}`,
              holder: holder.address,
              kind: pick3(i) === "pledged" ? "pledge" : "discount",
              status: pick3(i),
              price: "100",
              outstanding: "7",
            }),
          )
          .execute();
      }
      const { db: logged, reads: fromRequests } = recordingReadsOf(db, "onchain_financing_requests");
      const financed = await financingExposure({ db: logged }, holder);
      // i % 3: 0 sold (half of them settled: not counted), 1 open, 2 pledged.
      expect({ open: financed.open, pledged: financed.pledged, sold: financed.sold }).to.deep.equal({
        open: 10n * 100n,
        pledged: 10n * 7n,
        sold: 5n * 100n,
      });
      expect(fromRequests, fromRequests.join("\n")).to.deep.equal([]);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function pick3(i: number): string {
  return ["sold", "open", "pledged"][i % 3]!;
}
