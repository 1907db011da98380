// The risk history reads each receivable's document facts (order, receipt and invoice times,
// short delivery) once per document hash and keeps them (risk/history.ts): a kept fact must
// always be the one its own documents give — for a new receivable, for one whose documents
// differ from another's in a single quantity, and for rows without a real hash, which are
// never kept.
import { expect } from "chai";
import { partyRow as party, tradeDocuments as documents } from "../../helpers/party-row.js";
import { openDatabase, type Db } from "../../../server/store/database.js";
import { toParty } from "../../../server/store/parties-store.js";
import { keepDocumentFacts, loadPartyHistory } from "../../../server/risk/history.js";
import { canonicalJson, documentHashOf, type ReceivableSubmission } from "../../../server/model/receivable-schema.js";
import type { ServiceContext } from "../../../server/context.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CompiledQuery, Kysely } from "kysely";
import type { Database } from "../../../server/store/schema.js";
import { capturingDatabase } from "../store/captured-plans.js";

async function addReceivable(db: Db, id: string, submission: ReceivableSubmission, hash = documentHashOf(submission)) {
  await db
    .insertInto("receivables")
    .values({
      id,
      seller_id: "pty_s",
      debtor_id: "pty_d",
      invoice_number: id,
      invoice_number_normalized: id,
      po_number: "PO",
      currency: "USD",
      face_value: "1",
      net_value: "1",
      due_date: 0,
      document_hash: hash,
      documents: JSON.stringify(submission),
      verification: "{}",
      status: "awaiting_confirmation",
      confirmation: null,
      created_at: "2026-01-06T00:00:00.000Z",
      updated_at: "2026-01-06T00:00:00.000Z",
    })
    .execute();
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

describe("Risk history: document facts kept by document hash", function () {
  let db: Db;
  let ctx: ServiceContext;
  const seller = toParty(party("pty_s"));
  const facts = async () =>
    Object.fromEntries(
      (await loadPartyHistory(ctx, seller)).trades.map((t) => [
        t.receivableId,
        { shortDelivery: t.shortDelivery, receivedAt: t.receivedAt },
      ]),
    );

  beforeEach(async function () {
    db = await openDatabase(":memory:");
    ctx = { db, now: () => new Date("2026-02-01T00:00:00.000Z") } as unknown as ServiceContext;
    await db
      .insertInto("parties")
      .values([party("pty_s"), party("pty_d")])
      .execute();
  });
  afterEach(async function () {
    await db.destroy();
  });

  it("reads a new receivable's facts from its own documents, and the same facts again once kept", async function () {
    await addReceivable(db, "r1", documents(1, 10, "2026-01-04T00:00:00.000Z"));
    const first = await facts();
    expect(first).to.deep.equal({ r1: { shortDelivery: false, receivedAt: seconds("2026-01-04T00:00:00.000Z") } });
    await addReceivable(db, "r2", documents(2, 7, "2026-01-09T00:00:00.000Z"));
    expect(await facts()).to.deep.equal({
      r1: first.r1,
      r2: { shortDelivery: true, receivedAt: seconds("2026-01-09T00:00:00.000Z") },
    });
  });

  it("tells apart documents that differ in one delivered quantity (their hashes differ)", async function () {
    const full = documents(3, 10, "2026-01-04T00:00:00.000Z");
    const short = documents(3, 9, "2026-01-04T00:00:00.000Z");
    expect(canonicalJson(full)).to.not.equal(canonicalJson(short));
    await addReceivable(db, "full", full);
    await facts(); // keeps the full delivery's facts
    await addReceivable(db, "short", short);
    const read = await facts();
    expect([read.full!.shortDelivery, read.short!.shortDelivery]).to.deep.equal([false, true]);
  });

  it("never keeps the facts of rows without a real document hash", async function () {
    await addReceivable(db, "a", documents(4, 10, "2026-01-04T00:00:00.000Z"), "0x");
    await addReceivable(db, "b", documents(5, 6, "2026-01-10T00:00:00.000Z"), "0x");
    const read = await facts();
    expect(read).to.deep.equal({
      a: { shortDelivery: false, receivedAt: seconds("2026-01-04T00:00:00.000Z") },
      b: { shortDelivery: true, receivedAt: seconds("2026-01-10T00:00:00.000Z") },
    });
  });
});

describe("Risk history: more documents than are kept", function () {
  let dir: string;
  let db: Kysely<Database>;
  let ctx: ServiceContext;
  const ran: CompiledQuery[] = [];
  const seller = toParty(party("pty_s"));
  /** The receivables whose documents were read (parsed) since the last look. */
  const documentsRead = () =>
    ran.filter((q) => /select "id", "documents" from "receivables"/.test(q.sql)).flatMap((q) => q.parameters);

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-history-kept-"));
    const file = path.join(dir, "tierline.db");
    await (await openDatabase(file)).destroy(); // migrated
    db = capturingDatabase(file, ran);
    ctx = { db, now: () => new Date("2026-02-01T00:00:00.000Z") } as unknown as ServiceContext;
    await db
      .insertInto("parties")
      .values([party("pty_s"), party("pty_d")])
      .execute();
    for (let n = 0; n < 5; n++)
      await addReceivable(db as unknown as Db, `r${n}`, documents(10 + n, 10, "2026-01-04T00:00:00.000Z"));
    keepDocumentFacts(3);
    ran.length = 0;
  });
  afterEach(async function () {
    keepDocumentFacts(250_000);
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads again only what it could not keep (a FIFO read every row on every rescore)", async function () {
    await loadPartyHistory(ctx, seller);
    expect(documentsRead(), "the first rescore reads every document").to.have.length(5);
    ran.length = 0;
    const history = await loadPartyHistory(ctx, seller);
    expect(history.trades).to.have.length(5);
    expect(documentsRead(), "three kept, two read again").to.have.length(2);
  });
});
