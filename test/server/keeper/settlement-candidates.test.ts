// Every keeper pass (each 2 s) looks for receivables to settle: money repaid but not all
// distributed, or repaid with leaves not yet closed. It read every repaid receivable and every
// certificate to find them (47 ms at 100,000 receivables). Migration 0029 keeps, per
// receivable with live or locked leaves, their count and whether it is repaid
// (store/open-leaves-triggers.ts); the search reads only what is pending. On both engines: the
// kept rows equal the tables' own after random index writes (in either order: a certificate's
// row may come before its receivable's), the search finds exactly what the old full read
// found, and the kept rows are counted when the triggers are added.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { mulberry32 } from "../../../server/risk/network/centrality.js";
import type { CompiledQuery, Kysely } from "kysely";
import type { ServiceContext } from "../../../server/context.js";
import { openDatabase } from "../../../server/store/database.js";
import { findSettlementCandidates } from "../../../server/keeper/work.js";
import { candidatesByFullRead } from "../../../scripts/lib/settlement-full-read.js";
import { databaseAtMigration, openEngineDatabase, type Engine } from "../../helpers/engine-database.js";
import { capturingDatabase, tableScansIn } from "../store/captured-plans.js";

const RECEIVABLES = 12;
const STEPS = 300;
const CERTIFICATE_STATES = ["live", "locked", "retired", "settled"] as const;
const RECEIVABLE_STATUSES = ["active", "overdue", "defaulted", "repaid"] as const;
const receivableId = (n: number) => "0x" + n.toString(16).padStart(64, "0");

const receivableRow = (n: number, status: string, repaid: string, distributed: string) => ({
  id: receivableId(n),
  seller: "0x00000000000000000000000000000000000000a1",
  debtor: "0x00000000000000000000000000000000000000d1",
  registrar: "0x00000000000000000000000000000000000000a1",
  face_value: "100",
  repaid_amount: repaid,
  distributed,
  due_date: 2_000_000_000,
  document_hash: "0x1",
  root_certificate_id: String(n * 100),
  status,
  register_tx_hash: "0x1",
  registered_block: 1000 - n, // not id order: the search answers oldest first
});

const certificateRow = (id: number, n: number, state: string) => ({
  id: String(id),
  receivable_id: receivableId(n),
  parent_id: null,
  holder: "0x00000000000000000000000000000000000000a1",
  face_value: "10",
  tier: 1,
  state,
  issued_tx_hash: "0x1",
  issued_block: 1,
});

/** receivable -> "open/repaid", as the triggers keep it and as the tables say. */
async function kept(db: Kysely<any>): Promise<Record<string, string>> {
  const rows = await db.selectFrom("receivable_open_leaves").selectAll().execute();
  return Object.fromEntries(rows.map((r) => [r.receivable_id, `${r.open_leaves}/${r.repaid}`]));
}
async function counted(db: Kysely<any>): Promise<Record<string, string>> {
  const open = await db
    .selectFrom("onchain_certificates as c")
    .leftJoin("onchain_receivables as r", "r.id", "c.receivable_id")
    .select(["c.receivable_id", "r.status", (eb) => eb.fn.countAll().as("n")])
    .where("c.state", "in", ["live", "locked"])
    .groupBy(["c.receivable_id", "r.status"])
    .execute();
  return Object.fromEntries(open.map((r) => [r.receivable_id, `${Number(r.n)}/${r.status === "repaid" ? 1 : 0}`]));
}

for (const engine of ["sqlite", "postgres"] as Engine[]) {
  describe(`keeper: the receivables to settle, found from what is pending (${engine})`, function () {
    let dir: string;
    beforeEach(function () {
      dir = mkdtempSync(path.join(tmpdir(), "tierline-open-leaves-"));
    });
    afterEach(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it(`keeps the open leaves and finds what the full read found, after each of ${STEPS} random index writes`, async function () {
      const db = await openEngineDatabase(engine, dir);
      try {
        const next = mulberry32(engine === "sqlite" ? 5 : 9);
        const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
        const ctx = { db } as unknown as ServiceContext;
        let certificateId = 1;
        for (let step = 0; step < STEPS; step++) {
          const n = 1 + Math.floor(next() * RECEIVABLES);
          const exists = await db
            .selectFrom("onchain_receivables")
            .select("id")
            .where("id", "=", receivableId(n))
            .executeTakeFirst();
          const certificates = (await db.selectFrom("onchain_certificates").select("id").execute()).map((c) => c.id);
          const roll = next();
          if (roll < 0.3) {
            // A certificate, whether or not its receivable's row is there yet.
            await db
              .insertInto("onchain_certificates")
              .values(certificateRow(certificateId++, n, pick(CERTIFICATE_STATES)))
              .execute();
          } else if (roll < 0.5 && certificates.length) {
            await db
              .updateTable("onchain_certificates")
              .set({ state: pick(CERTIFICATE_STATES) })
              .where("id", "=", pick(certificates))
              .execute();
          } else if (roll < 0.55 && certificates.length) {
            await db.deleteFrom("onchain_certificates").where("id", "=", pick(certificates)).execute();
          } else if (!exists) {
            const repaid = pick(["0", "40", "100"]);
            await db
              .insertInto("onchain_receivables")
              .values(receivableRow(n, pick(RECEIVABLE_STATUSES), repaid, pick(["0", repaid])))
              .execute();
          } else if (roll < 0.9) {
            const repaid = pick(["0", "40", "100"]);
            await db
              .updateTable("onchain_receivables")
              .set({ status: pick(RECEIVABLE_STATUSES), repaid_amount: repaid, distributed: pick(["0", repaid]) })
              .where("id", "=", receivableId(n))
              .execute();
          } else {
            await db.deleteFrom("onchain_receivables").where("id", "=", receivableId(n)).execute();
          }
          expect(await kept(db), `kept rows after step ${step}`).to.deep.equal(await counted(db));
          expect(await findSettlementCandidates(ctx), `candidates after step ${step}`).to.deep.equal(
            await candidatesByFullRead(db),
          );
        }
        expect((await findSettlementCandidates(ctx)).length, "some candidates at the end").to.be.at.least(1);
      } finally {
        await db.destroy();
      }
    });

    it("counts the open leaves already indexed when the triggers are added (migration 0029)", async function () {
      const { db, migrateToLatest } = await databaseAtMigration(engine, dir, "0028_request_path_indexes");
      try {
        for (let n = 1; n <= 4; n++) {
          await db
            .insertInto("onchain_receivables")
            .values(receivableRow(n, n % 2 ? "repaid" : "active", "100", "100"))
            .execute();
          for (let k = 0; k < 3; k++)
            await db
              .insertInto("onchain_certificates")
              .values(certificateRow(n * 10 + k, n, CERTIFICATE_STATES[(n + k) % 4]!))
              .execute();
        }
        await migrateToLatest();
        expect(await kept(db)).to.deep.equal(await counted(db));
        expect(Object.keys(await kept(db))).to.have.length(4);
      } finally {
        await db.destroy();
      }
    });
  });
}

describe("keeper: the search for receivables to settle reads indexes only", function () {
  it("has no scan of a whole table in any statement it runs", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "tierline-candidates-plan-"));
    const file = path.join(dir, "tierline.db");
    const ran: CompiledQuery[] = [];
    const db = capturingDatabase(file, ran);
    try {
      await (await openDatabase(file)).destroy(); // migrated to the latest schema
      await findSettlementCandidates({ db } as unknown as ServiceContext);
      expect(ran.length).to.be.at.least(1);
      const scans = tableScansIn(file, ran);
      expect(scans, scans.join("\n")).to.deep.equal([]);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
