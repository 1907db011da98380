// Request paths that read a whole table (issue 12), found by explaining every statement the
// API tests run: a split's answer read its children, a party's recourse claims, the audit's
// claims and credit-note cuts of a tree, a financier's relations to a party, and the retry of
// an interrupted attempt each scanned a table that grows with the whole book. Each is now
// answered from an index (migration 0028, and relationsToParty asks per side). The statements
// are captured as the functions run them, so a new query on these paths is checked too.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { type CompiledQuery, type Kysely } from "kysely";
import { openDatabase } from "../../../server/store/database.js";
import { capturingDatabase, tableScansIn } from "./captured-plans.js";
import type { Database } from "../../../server/store/schema.js";
import type { ServiceContext } from "../../../server/context.js";
import type { Actor } from "../../../server/model/actor.js";
import { relationsToParty } from "../../../server/store/access-relations.js";
import { childrenOf } from "../../../server/domain/certificates.js";
import { listRecourseClaims } from "../../../server/domain/recourse.js";
import { readDilutionAndRecourseIndex } from "../../../server/domain/audit/verify-from-chain.js";
import { buildTrace } from "../../../server/domain/audit/trace.js";
import { retryInterruptedAttempt, sentByInterruptedAttempt } from "../../../server/domain/interrupted-attempt.js";
import { setIndustryRisk } from "../../../server/risk/industry.js";
import { databaseAtMigration } from "../../helpers/engine-database.js";

const HOLDER = "0x00000000000000000000000000000000000000a1";
const DEBTOR = "0x00000000000000000000000000000000000000d1";
const FINANCIER = "0x00000000000000000000000000000000000000f1";
const RECEIVABLE = `0x${"aa".repeat(32)}`;

const partyRow = (id: string, address: string, roles: string[]) => ({
  id,
  name: id,
  registry_id: id,
  legal_id_hash: `0x${id}`,
  industry: "retail",
  roles: JSON.stringify(roles),
  address,
  custodial: 0,
  encrypted_key: null,
  api_key_hash: `h_${id}`,
  related_party_ids: "[]",
  status: "active" as const,
  created_at: "2026-01-01T00:00:00.000Z",
});

const actor = (id: string, address: string, roles: string[]) => ({ id, address, roles }) as unknown as Actor;

/** A registered receivable, its root split in two, one piece offered, a claim and a cut on it. */
async function seedTree(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto("parties")
    .values([
      partyRow("pty_h", HOLDER, ["supplier"]),
      partyRow("pty_d", DEBTOR, ["debtor"]),
      partyRow("pty_f", FINANCIER, ["financier"]),
    ])
    .execute();
  await db
    .insertInto("onchain_receivables")
    .values({
      id: RECEIVABLE,
      seller: HOLDER,
      debtor: DEBTOR,
      registrar: HOLDER,
      face_value: "100",
      repaid_amount: "0",
      due_date: 2_000_000_000,
      document_hash: "0x1",
      root_certificate_id: "10",
      status: "active",
      register_tx_hash: "0x1",
      registered_block: 1,
    })
    .execute();
  for (const [id, parent, state] of [
    ["10", null, "retired"],
    ["11", "10", "live"],
    ["12", "10", "locked"],
  ] as const) {
    await db
      .insertInto("onchain_certificates")
      .values({
        id,
        receivable_id: RECEIVABLE,
        parent_id: parent,
        holder: HOLDER,
        face_value: "50",
        tier: parent ? 2 : 1,
        state,
        issued_tx_hash: "0x1",
        issued_block: 1,
      })
      .execute();
  }
  await db
    .insertInto("onchain_financing_requests")
    .values({
      id: "1",
      certificate_id: "12",
      holder: HOLDER,
      kind: "discount",
      price: "45",
      repay_amount: "50",
      outstanding: "0",
      status: "open",
      financier: null,
      shortfall: null,
      opened_tx_hash: "0x2",
      opened_block: 2,
    })
    .execute();
  await db
    .insertInto("onchain_recourse_claims")
    .values({
      id: "1",
      leaf_id: "11",
      receivable_id: RECEIVABLE,
      kind: "default",
      status: "open",
      creditor: HOLDER,
      guarantor: DEBTOR,
      guarantor_certificate_id: "10",
      endorsement_index: 0,
      amount: "5",
      parent_claim_id: null,
      opened_tx_hash: "0x3",
      opened_block: 3,
      paid_tx_hash: null,
      paid_by: null,
    })
    .execute();
  await db
    .insertInto("onchain_leaf_reductions")
    .values({
      credit_note_id: "1",
      certificate_id: "11",
      receivable_id: RECEIVABLE,
      holder: HOLDER,
      reduction: "1",
      claim: "49",
      retained: 1,
      tx_hash: "0x4",
    })
    .execute();
}

describe("store: request paths read indexes, never a whole table", function () {
  let dir: string;
  let file: string;
  let ran: CompiledQuery[];
  let db: Kysely<Database>;
  let ctx: ServiceContext;

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-request-scans-"));
    file = path.join(dir, "tierline.db");
    await (await openDatabase(file)).destroy(); // migrated to the latest schema
    ran = [];
    db = capturingDatabase(file, ran);
    await seedTree(db);
    const log = { info: () => {}, warn: () => {} };
    ctx = { db, log, indexer: { indexedBlock: async () => 3 }, chain: { provider: {} } } as unknown as ServiceContext;
    ran.length = 0;
  });
  afterEach(async function () {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const expectNoScans = (atLeast: number) => {
    expect(ran.length).to.be.at.least(atLeast);
    const scans = tableScansIn(file, ran);
    expect(scans, scans.join("\n")).to.deep.equal([]);
  };

  it("a financier's relations to a party: asked per side, from indexes, with the same answer", async function () {
    const asHolder = await relationsToParty(db, actor("pty_f", FINANCIER, ["financier"]), {
      id: "pty_h",
      address: HOLDER,
    });
    const asDebtor = await relationsToParty(db, actor("pty_f", FINANCIER, ["financier"]), {
      id: "pty_d",
      address: DEBTOR,
    });
    const stranger = await relationsToParty(db, actor("pty_f", FINANCIER, ["financier"]), {
      id: "pty_x",
      address: "0x0",
    });
    expect([...asHolder]).to.deep.equal(["evaluatingFinancier"]);
    expect([...asDebtor]).to.deep.equal(["evaluatingFinancier"]);
    expect([...stranger]).to.deep.equal([]);
    expectNoScans(6);
    await db.updateTable("onchain_financing_requests").set({ status: "sold", financier: FINANCIER }).execute();
    ran.length = 0;
    const funded = await relationsToParty(db, actor("pty_f", FINANCIER, ["financier"]), {
      id: "pty_d",
      address: DEBTOR,
    });
    expect([...funded]).to.deep.equal(["fundingFinancier"]);
    expectNoScans(2);
  });

  it("a split's answer: the children of a certificate", async function () {
    expect((await childrenOf(db, "10")).map((c) => c.id)).to.deep.equal(["11", "12"]);
    expectNoScans(1);
  });

  it("a party's recourse claims, as creditor and as guarantor", async function () {
    for (const [id, address] of [
      ["pty_h", HOLDER],
      ["pty_d", DEBTOR],
    ] as const) {
      const page = await listRecourseClaims(ctx, actor(id, address, []), { partyId: id, limit: 50 });
      expect(page.items.map((c) => c.id)).to.deep.equal(["1"]);
    }
    expectNoScans(4);
  });

  it("the audit's claims, endorsements and credit-note cuts of a tree", async function () {
    const read = await readDilutionAndRecourseIndex(ctx, RECEIVABLE, ["10", "11", "12"]);
    expect(read).to.be.an("object");
    ran.length = 0;
    await readDilutionAndRecourseIndex(ctx, RECEIVABLE, ["10", "11", "12"]);
    expectNoScans(5);
  });

  it("the trace of a receivable", async function () {
    const trace = await buildTrace(
      ctx,
      actor("pty_a", "0x00000000000000000000000000000000000000a9", ["auditor"]),
      RECEIVABLE,
    );
    expect(trace).to.be.an("object");
    expectNoScans(5);
  });

  it("the retry of an interrupted attempt, looking for what it sent", async function () {
    const attempt = { startedAt: "2026-01-01T00:00:00.000Z", endedBy: "2026-01-02T00:00:00.000Z" };
    const sent = await retryInterruptedAttempt(attempt, () => sentByInterruptedAttempt(ctx, HOLDER, "split", "10"));
    expect(sent).to.deep.equal([]);
    expectNoScans(1);
  });

  it("setting an industry's risk index counts its parties from an index", async function () {
    const set = await setIndustryRisk(ctx, actor("pty_op", "0x0", ["operator"]), "Retail", {
      index: 10,
      threshold: 50,
    });
    expect(set.parties).to.equal(0); // the rows above were written without their key, as no service writes them
    await db.updateTable("parties").set({ industry_key: "retail" }).where("id", "in", ["pty_h", "pty_d"]).execute();
    ran.length = 0;
    const again = await setIndustryRisk(ctx, actor("pty_op", "0x0", ["operator"]), " RETAIL ", {
      index: 10,
      threshold: 50,
    });
    expect(again.parties).to.equal(2);
    expectNoScans(2);
  });
});

describe("store: migration 0028 gives every party its industry's key", function () {
  it("keys the parties written before it, as industryKey does", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "tierline-industry-key-"));
    const { db, migrateToLatest } = await databaseAtMigration("sqlite", dir, "0027_party_owes_by_due");
    try {
      await db
        .insertInto("parties")
        .values([
          { ...partyRow("pty_1", HOLDER, ["supplier"]), industry: "  Retail  Goods " },
          { ...partyRow("pty_2", DEBTOR, ["debtor"]), industry: "ＭＩＮＩＮＧ" },
        ])
        .execute();
      await migrateToLatest();
      const rows = await db.selectFrom("parties").select(["id", "industry_key"]).orderBy("id").execute();
      expect(rows).to.deep.equal([
        { id: "pty_1", industry_key: "retail goods" },
        { id: "pty_2", industry_key: "mining" },
      ]);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
