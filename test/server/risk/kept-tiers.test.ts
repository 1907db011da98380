// What a supplier is still owed on the pieces it holds at tier 2 and deeper counts against its
// supplier limit at every confirmation. The check read every certificate the supplier ever
// held, settled and split ones included, inside the transaction that holds the write lock
// (issue 12); triggers now keep the sum in party_sums (store/party-tiers-triggers.ts). The kept
// rows and the check must equal the certificates' sum after any sequence of writes to
// certificates and receivables, on both engines; certificates indexed before the triggers are
// summed by their migration; and the check reads no certificate row.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase, type Db } from "../../../server/store/database.js";
import { supplierExposure } from "../../../server/risk/exposure.js";
import { mulberry32 } from "../../../server/risk/network/centrality.js";
import { partyRow } from "../../helpers/party-row.js";
import { databaseAtMigration } from "../../helpers/engine-database.js";
import { KEPT_PARTIES, keptRows, keptSumsDatabase, nonZero, recordingReadsOf } from "../../helpers/kept-sums.js";

const PARTIES = KEPT_PARTIES;
const STATES = ["live", "locked", "retired", "settled"];
const RECEIVABLE_STATUSES = ["active", "overdue", "defaulted", "repaid"];

interface Piece {
  id: string;
  receivable_id: string;
  holder: string;
  tier: number;
  state: string;
  face_value: string;
  reduction: string;
  paid_out: string;
}

/** "amount/wide" by "address through_tiers" as each engine keeps it (0/0 left out); a piece counts until its receivable's row says repaid. */
function keptExpected(pieces: Iterable<Piece>, statuses: Map<string, string>, engine: "sqlite" | "postgres") {
  const sums = new Map<string, { amount: bigint; wide: number }>();
  for (const c of pieces) {
    if (c.tier < 2 || !["live", "locked"].includes(c.state) || statuses.get(c.receivable_id) === "repaid") continue;
    const key = `${c.holder} through_tiers`;
    const sum = sums.get(key) ?? { amount: 0n, wide: 0 };
    const owed = BigInt(c.face_value) - BigInt(c.reduction) - BigInt(c.paid_out);
    if (engine === "sqlite" && [c.face_value, c.reduction, c.paid_out].some((v) => v.length > 18)) sum.wide += 1;
    else if (owed > 0n) sum.amount += owed;
    sums.set(key, sum);
  }
  return nonZero([...sums].map(([key, sum]) => [key, `${sum.amount}/${sum.wide}`] as const));
}

/** What the check must answer: every amount summed exactly. */
function expected(pieces: Iterable<Piece>, statuses: Map<string, string>, address: string): bigint {
  let total = 0n;
  for (const c of pieces) {
    if (c.holder !== address || c.tier < 2 || !["live", "locked"].includes(c.state)) continue;
    if (statuses.get(c.receivable_id) === "repaid") continue;
    const owed = BigInt(c.face_value) - BigInt(c.reduction) - BigInt(c.paid_out);
    if (owed > 0n) total += owed;
  }
  return total;
}

const pieceRow = (c: Piece) => ({ ...c, parent_id: null, issued_tx_hash: "0x", issued_block: 1 });
const receivableRow = (id: string, status: string) => ({
  id,
  seller: "0xs",
  debtor: "0xd",
  registrar: "0x",
  face_value: "1",
  repaid_amount: "0",
  due_date: 1_780_000_000,
  document_hash: "0x",
  root_certificate_id: "1",
  status,
  register_tx_hash: "0x",
  registered_block: 1,
});

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`risk: the kept sums of what each party is owed through the tiers (${engine})`, function () {
    this.timeout(300_000);
    let dir: string;
    let db: Db;
    let close: () => Promise<void>;

    beforeEach(async function () {
      ({ db, dir, close } = await keptSumsDatabase(engine, "kept-tiers"));
    });
    afterEach(async function () {
      await close();
    });

    it("equals the pieces' sums after each of 300 random writes to certificates and receivables", async function () {
      const random = mulberry32(engine === "sqlite" ? 65 : 87);
      const below = (n: number) => Math.floor(random() * n);
      const pick = <T>(values: readonly T[]): T => values[below(values.length)]!;
      const amount = () => pick(["0", String(1 + below(1_000_000_000)), String(below(100)), "1" + "0".repeat(20)]);
      const pieces = new Map<string, Piece>();
      const statuses = new Map<string, string>();
      const addresses = PARTIES.map((p) => p.address);
      // Pieces name receivables indexed or not (yet): r1..r6.
      const receivableId = () => `r${1 + below(6)}`;
      let next = 0;
      for (let step = 0; step < 300; step += 1) {
        const roll = below(100);
        const ids = [...pieces.keys()];
        let what: string;
        if (ids.length === 0 || roll < 25) {
          next += 1;
          const piece: Piece = {
            id: `c${next}`,
            receivable_id: receivableId(),
            holder: pick(addresses),
            tier: 1 + below(4),
            state: pick(STATES),
            face_value: amount(),
            reduction: below(4) === 0 ? amount() : "0",
            paid_out: below(4) === 0 ? amount() : "0",
          };
          pieces.set(piece.id, piece);
          await db.insertInto("onchain_certificates").values(pieceRow(piece)).execute();
          what = `insert ${piece.id}`;
        } else if (roll < 55) {
          const id = pick(ids);
          const column = pick([
            "holder",
            "tier",
            "state",
            "face_value",
            "reduction",
            "paid_out",
            "receivable_id",
            "issued_block",
          ] as const);
          const value =
            column === "holder"
              ? pick(addresses)
              : column === "tier"
                ? 1 + below(4)
                : column === "state"
                  ? pick(STATES)
                  : column === "receivable_id"
                    ? receivableId()
                    : column === "issued_block"
                      ? step
                      : amount();
          if (column !== "issued_block") pieces.set(id, { ...pieces.get(id)!, [column]: value });
          await db
            .updateTable("onchain_certificates")
            .set({ [column]: value })
            .where("id", "=", id)
            .execute();
          what = `set ${id}.${column}`;
        } else if (roll < 63) {
          const id = pick(ids);
          pieces.delete(id);
          await db.deleteFrom("onchain_certificates").where("id", "=", id).execute();
          what = `delete ${id}`;
        } else if (roll < 98) {
          const id = receivableId();
          const status = pick(RECEIVABLE_STATUSES);
          if (!statuses.has(id)) {
            await db.insertInto("onchain_receivables").values(receivableRow(id, status)).execute();
            statuses.set(id, status);
            what = `insert receivable ${id} (${status})`;
          } else if (roll < 92) {
            await db.updateTable("onchain_receivables").set({ status }).where("id", "=", id).execute();
            statuses.set(id, status);
            what = `receivable ${id} -> ${status}`;
          } else {
            await db.deleteFrom("onchain_receivables").where("id", "=", id).execute();
            statuses.delete(id);
            what = `delete receivable ${id}`;
          }
        } else {
          // A reindex empties the tables, in either order.
          const tables = ["onchain_receivables", "onchain_certificates"] as const;
          for (const table of roll === 98 ? tables : [...tables].reverse()) await db.deleteFrom(table).execute();
          pieces.clear();
          statuses.clear();
          what = "empty the index";
        }
        expect(await keptRows(db, { kinds: ["through_tiers"] }), `step ${step} (${what}): the kept rows`).to.deep.equal(
          keptExpected(pieces.values(), statuses, engine),
        );
        for (const party of PARTIES) {
          const { throughTiers } = await supplierExposure({ db }, party);
          expect(throughTiers, `step ${step} (${what}): ${party.id}`).to.equal(
            expected(pieces.values(), statuses, party.address),
          );
        }
      }
    });

    it("sums the pieces already indexed when the triggers are added (migration 0026)", async function () {
      const { db: old, migrateToLatest } = await databaseAtMigration(engine, dir, "0025_exposure_owes_by_due_date");
      try {
        const [a, b] = PARTIES.map((p) => p.address) as [string, string];
        const statuses = new Map([
          ["r1", "active"],
          ["r2", "repaid"],
        ]);
        const piece = (id: string, receivable: string, holder: string, tier: number, state: string): Piece => ({
          id,
          receivable_id: receivable,
          holder,
          tier,
          state,
          face_value: "100",
          reduction: "10",
          paid_out: "5",
        });
        const book = [
          piece("c1", "r1", a, 2, "live"),
          piece("c2", "r1", a, 3, "locked"),
          piece("c3", "r1", a, 1, "live"), // tier 1: what it sold, counted elsewhere
          piece("c4", "r1", a, 2, "settled"),
          piece("c5", "r2", a, 2, "live"), // its receivable is repaid
          piece("c6", "r1", b, 2, "live"),
        ];
        for (const [id, status] of statuses)
          await old.insertInto("onchain_receivables").values(receivableRow(id, status)).execute();
        for (const c of book) await old.insertInto("onchain_certificates").values(pieceRow(c)).execute();
        await migrateToLatest();
        for (const party of PARTIES.slice(0, 2))
          expect((await supplierExposure({ db: old }, party)).throughTiers, party.id).to.equal(
            expected(book, statuses, party.address),
          );
        expect((await supplierExposure({ db: old }, PARTIES[0]!)).throughTiers).to.equal(170n);
        await old.deleteFrom("party_sums").execute();
        expect((await supplierExposure({ db: old }, PARTIES[0]!)).throughTiers).to.equal(0n);
      } finally {
        await old.destroy();
      }
    });
  });
}

describe("risk: the supplier limit check reads one row for the tiers, not the supplier's certificates", function () {
  it("answers what it is owed through the tiers without reading onchain_certificates", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "kept-tiers-reads-"));
    const db = await openDatabase(path.join(dir, "tierline.db"));
    try {
      const holder = PARTIES[0]!;
      await db.insertInto("parties").values(partyRow(holder.id)).execute();
      await db.insertInto("onchain_receivables").values(receivableRow("r1", "active")).execute();
      for (let i = 0; i < 30; i += 1)
        await db
          .insertInto("onchain_certificates")
          .values(
            pieceRow({
              id: `c${i}`,
              receivable_id: "r1",
              holder: holder.address,
              tier: 1 + (i % 3),
              state: i % 5 === 0 ? "settled" : "live",
              face_value: "100",
              reduction: "0",
              paid_out: "1",
            }),
          )
          .execute();
      const { db: logged, reads: fromCertificates } = recordingReadsOf(db, "onchain_certificates");
      const { throughTiers } = await supplierExposure({ db: logged }, holder);
      // Tiers 2 and 3 (i % 3 = 1, 2): 20 pieces, of which 4 settled (i % 5 = 0).
      expect(throughTiers).to.equal(16n * 99n);
      expect(fromCertificates, fromCertificates.join("\n")).to.deep.equal([]);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
