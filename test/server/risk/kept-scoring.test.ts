// The score of a party whose rows are kept (500 receivables or more, SQLite) is computed from
// totals kept beside the rows and brought up to date from the receivables that changed
// (risk/kept-scoring.ts, risk/factor-totals.ts), not summed from every row at each look. It must
// always be the score a full sum of the same history gives: after new receivables, status,
// amount and party changes, deletions, on-chain rows changing and being repaid, a repayment
// time becoming known, a counterparty naming the party as related, and the clock moving the
// volume windows. And a look after one change must not read every receivable's documents.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CompiledQuery } from "kysely";
import { partyRow as party, receivableRow, tradeDocuments } from "../../helpers/party-row.js";
import { openDatabase, type Db } from "../../../server/store/database.js";
import { findPartyById } from "../../../server/store/parties-store.js";
import { forgetHistoryRows } from "../../../server/risk/history-rows.js";
import { keepDocumentFacts, loadPartyHistory } from "../../../server/risk/history.js";
import { scoringInputFor } from "../../../server/risk/kept-scoring.js";
import { keepRepaymentTimes } from "../../../server/risk/repayment-times.js";
import { computeScore } from "../../../server/risk/scoring.js";
import type { ServiceContext } from "../../../server/context.js";
import { capturingDatabase } from "../store/captured-plans.js";
import { mulberry32 } from "../../../server/risk/network/centrality.js";

const PARTIES = ["pty_d", "pty_s", "pty_x"];
const DAY = 86_400_000;
const START = Date.parse("2026-01-01T00:00:00.000Z");

/** Documents ordered, received and invoiced on days drawn from `random`, some delivered short. */
function documents(n: number, random: () => number) {
  const doc = tradeDocuments(n, random() < 0.2 ? 7 : 10, new Date(START + random() * 300 * DAY).toISOString());
  doc.purchaseOrder.issuedAt = new Date(START + random() * 200 * DAY).toISOString();
  doc.invoice.issuedAt = new Date(START + random() * 300 * DAY + Math.floor(random() * 86_400) * 1000).toISOString();
  return doc;
}

function receivable(id: string, seller: string, debtor: string, face: number, random: () => number) {
  const row = receivableRow(id, seller, debtor, documents(Number(id.slice(1)), random));
  return { ...row, face_value: String(face), net_value: String(face) };
}

function onchain(id: string, debtor: string, face: number) {
  return {
    id,
    seller: party("pty_s").address,
    debtor: party(debtor).address,
    registrar: "0x",
    face_value: String(face),
    repaid_amount: "0",
    due_date: Math.floor((START + 150 * DAY) / 1000),
    document_hash: "0x",
    root_certificate_id: id,
    status: "active",
    register_tx_hash: "0x",
    registered_block: 1,
  };
}

describe("Risk: the score of a kept history, from totals kept with its rows", function () {
  this.timeout(120_000);
  let dir: string;
  let file: string;
  let db: Db;
  let ctx: ServiceContext;
  let now: Date;

  beforeEach(async function () {
    keepDocumentFacts(250_000);
    keepRepaymentTimes(250_000);
    dir = mkdtempSync(path.join(tmpdir(), "kept-scoring-"));
    file = path.join(dir, "tierline.db");
    db = await openDatabase(file);
    now = new Date(START + 200 * DAY);
    ctx = { db, now: () => now, chain: { provider: {} } } as unknown as ServiceContext;
    await db.insertInto("parties").values(PARTIES.map(party)).execute();
    const random = mulberry32(7);
    const rows = Array.from({ length: 600 }, (_, i) =>
      receivable(`r${i}`, i % 3 === 0 ? "pty_x" : "pty_s", "pty_d", 1_000 + i, random),
    );
    for (let i = 0; i < rows.length; i += 200)
      await db
        .insertInto("receivables")
        .values(rows.slice(i, i + 200))
        .execute();
    await db
      .insertInto("onchain_receivables")
      .values(Array.from({ length: 300 }, (_, i) => onchain(`r${i}`, "pty_d", 1_000 + i)))
      .execute();
  });
  afterEach(async function () {
    forgetHistoryRows(db);
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The score from the kept totals, and the score summed from the same history in full. */
  async function bothScores(partyId: string) {
    const record = (await findPartyById(db, partyId))!;
    const kept = computeScore(await scoringInputFor(ctx, record));
    const full = computeScore(await loadPartyHistory(ctx, record));
    return { kept, full };
  }

  it("is, after each of 300 random changes, the score a full sum of the history gives, for every party", async function () {
    const random = mulberry32(21); // seeded: every run replays the same changes
    const pick = <T>(values: T[]) => values[Math.floor(random() * values.length)]!;
    let next = 600;
    const ids = () => Array.from({ length: next }, (_, i) => `r${i}`);
    const changes: Array<() => Promise<unknown>> = [
      () =>
        db
          .insertInto("receivables")
          .values(receivable(`r${next++}`, pick(PARTIES), pick(PARTIES), Math.floor(random() * 1e6), random))
          .execute(),
      () =>
        db
          .updateTable("receivables")
          .set({
            status: pick(["confirming", "registered", "rejected", "held_for_review", "awaiting_confirmation"]) as never,
          })
          .where("id", "=", pick(ids()))
          .execute(),
      () =>
        db
          .updateTable("receivables")
          .set({ face_value: String(Math.floor(random() * 1e6)) })
          .where("id", "=", pick(ids()))
          .execute(),
      () =>
        db
          .updateTable("receivables")
          .set({ seller_id: pick(PARTIES) })
          .where("id", "=", pick(ids()))
          .execute(),
      () => db.deleteFrom("receivables").where("id", "=", pick(ids())).execute(),
      () =>
        db
          .insertInto("onchain_receivables")
          .values(onchain(pick(ids()), pick(PARTIES), Math.floor(random() * 1e6)))
          .onConflict((oc) => oc.doNothing())
          .execute(),
      () =>
        db
          .updateTable("onchain_receivables")
          .set({ status: pick(["active", "overdue", "defaulted", "repaid"]) })
          .where("id", "=", pick(ids()))
          .execute(),
      () =>
        db
          .updateTable("onchain_receivables")
          .set({ repaid_amount: String(Math.floor(random() * 2_000)) })
          .where("id", "=", pick(ids()))
          .execute(),
      // A repayment's time becomes known without its row changing.
      async () => {
        const timeUnknown = await db
          .selectFrom("onchain_receivables as o")
          .leftJoin("risk_repayment_times as t", "t.receivable_id", "o.id")
          .select("o.id")
          .where("o.status", "=", "repaid")
          .where("t.receivable_id", "is", null)
          .execute();
        if (timeUnknown.length === 0) return;
        await db
          .insertInto("risk_repayment_times")
          .values({
            receivable_id: pick(timeUnknown).id,
            repaid_at: Math.floor((START + random() * 300 * DAY) / 1000),
            block_number: 1,
            block_hash: "0x",
          })
          .execute();
      },
      // A counterparty names the debtor as related, or stops: every trade with it changes flag.
      () =>
        db
          .updateTable("parties")
          .set({ related_party_ids: JSON.stringify(random() < 0.5 ? ["pty_d"] : []) })
          .where("id", "=", pick(["pty_s", "pty_x"]))
          .execute(),
      // The clock moves: the volume windows with it.
      async () => {
        now = new Date(now.getTime() + Math.floor(random() * 20 * DAY));
      },
    ];
    for (let step = 0; step < 300; step++) {
      await pick(changes)();
      for (const id of PARTIES) {
        const { kept, full } = await bothScores(id);
        expect(kept, `step ${step}, party ${id}`).to.deep.equal(full);
      }
    }
    // The debtor's factors moved along the way: the comparison was not of two constants.
    const { kept } = await bothScores("pty_d");
    expect(kept.factors.filter((f) => f.applies).length).to.be.at.least(5);
  });

  it("ends at the score of a full sum when looks overlap while changes land", async function () {
    const debtor = (await findPartyById(db, "pty_d"))!;
    await scoringInputFor(ctx, debtor); // kept from here on
    const random = mulberry32(5);
    const looks: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      await db
        .updateTable("receivables")
        .set({ status: i % 2 === 0 ? "rejected" : "registered", face_value: String(10 + i) })
        .where("id", "=", `r${Math.floor(random() * 600)}`)
        .execute();
      looks.push(scoringInputFor(ctx, debtor));
    }
    await Promise.all(looks);
    const { kept, full } = await bothScores("pty_d");
    expect(kept).to.deep.equal(full);
  });

  it("reads the documents of the receivable that changed, not of every one the debtor owes", async function () {
    const ran: CompiledQuery[] = [];
    const capturing = capturingDatabase(file, ran) as unknown as Db;
    const reading = { ...ctx, db: capturing } as ServiceContext;
    try {
      const debtor = (await findPartyById(capturing, "pty_d"))!;
      await scoringInputFor(reading, debtor); // kept from here on
      keepDocumentFacts(250_000); // nothing remembered outside the kept scoring
      await db
        .insertInto("receivables")
        .values(receivable("r900", "pty_s", "pty_d", 5_000, mulberry32(3)))
        .execute();
      ran.length = 0;
      const input = await scoringInputFor(reading, debtor);
      expect(input.totals.submissions + input.totals.acceptedTrades).to.be.greaterThan(600);
      const documentReads = ran.filter((q) => /select "id", "documents" from "receivables"/.test(q.sql));
      expect(documentReads.map((q) => q.parameters.length)).to.deep.equal([1]);
    } finally {
      forgetHistoryRows(capturing);
      await capturing.destroy();
    }
  });
});
