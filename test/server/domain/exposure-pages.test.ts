// A party's exposure report sent every list whole: a debtor of the whole book got each of its
// tens of thousands of receivables in one 7.5 MB answer (issue 12). The report now carries each
// list's first page; the list routes page the rest. Walked to the end, the pages must hold
// exactly the rows the totals count, once each and in the list's order, on both engines,
// whatever rows are added between two pages.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Db } from "../../../server/store/database.js";
import type { ServiceContext } from "../../../server/context.js";
import type { Actor } from "../../../server/model/actor.js";
import { partyExposure } from "../../../server/domain/audit/exposure.js";
import { exposureListPage, type ExposureList } from "../../../server/domain/audit/exposure-lists.js";
import { AppError } from "../../../server/model/errors.js";
import { fundedRequestRow, partyRow } from "../../helpers/party-row.js";
import { openEngineDatabase } from "../../helpers/engine-database.js";
import { recordingReadsOf } from "../../helpers/kept-sums.js";

const NOW = 1_780_000_000;
const DAY = 86_400;
const hex = (n: number) => "0x" + n.toString(16).padStart(64, "0");
const debtor = partyRow("pty_debtor");
const seller = partyRow("pty_seller");
const financier = partyRow("pty_fin");
const operator = { id: "pty_op", roles: ["operator"], address: "0x" + "0".repeat(40) } as unknown as Actor;

/**
 * `count` receivables owed by the debtor to the seller, due on scattered days; root certificates
 * held by the seller, except every fourth (sold to the financier) and every fourth after it
 * (pledged to the financier); every seventh receivable owes nothing (credited and repaid in
 * full, not yet marked repaid), every eleventh is repaid; issued out of id order.
 */
async function writeBook(db: Db, from: number, count: number, lastBlock = 1000): Promise<void> {
  for (let k = from; k < from + count; k++) {
    const block = lastBlock - (k - from); // blocks and ids in opposite orders: the lists follow the blocks
    const settledOut = k % 7 === 3;
    await db
      .insertInto("onchain_receivables")
      .values({
        id: hex(k),
        seller: seller.address,
        debtor: debtor.address,
        registrar: seller.address,
        face_value: "10000000",
        repaid_amount: settledOut ? "6000000" : "0",
        credited: settledOut ? "4000000" : "0",
        due_date: NOW + ((k * 37) % 250) * DAY - DAY,
        document_hash: hex(k),
        root_certificate_id: String(k + 1),
        status: k % 11 === 5 ? "repaid" : "active",
        register_tx_hash: hex(k),
        registered_block: block,
      })
      .execute();
    const sold = k % 4 === 0;
    const pledged = k % 4 === 1;
    await db
      .insertInto("onchain_certificates")
      .values({
        id: String(k + 1),
        receivable_id: hex(k),
        parent_id: null,
        holder: sold ? financier.address : seller.address,
        face_value: "10000000",
        tier: 1 + (k % 3),
        state: pledged ? "locked" : "live",
        issued_tx_hash: hex(k),
        issued_block: block,
      })
      .execute();
    if (sold || pledged) {
      const request = fundedRequestRow(
        String(k + 1),
        seller.address,
        financier.address,
        sold ? "discount" : "pledge",
        block,
      );
      await db.insertInto("onchain_financing_requests").values(request).execute();
    }
  }
}

const idOf: Record<ExposureList, (item: Record<string, unknown>) => string> = {
  certificates: (item) => item.certificateId as string,
  receivables: (item) => item.receivableId as string,
  pledges: (item) => item.requestId as string,
  purchases: (item) => item.requestId as string,
};

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`audit: a party's exposure, its lists in pages (${engine})`, function () {
    this.timeout(120_000);
    let dir: string;
    let db: Db;
    let ctx: ServiceContext;

    beforeEach(async function () {
      dir = mkdtempSync(path.join(tmpdir(), "exposure-pages-"));
      db = await openEngineDatabase(engine, dir);
      await db.insertInto("parties").values([debtor, seller, financier]).execute();
      ctx = {
        db,
        indexer: { indexedBlock: async () => 1000 },
        chain: { provider: { getBlock: async () => ({ timestamp: NOW }) } },
        now: () => new Date(NOW * 1000),
      } as unknown as ServiceContext;
    });
    afterEach(async function () {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Every page of `list`, `limit` at a time; `between` runs after each page. */
    async function walk(list: ExposureList, partyId: string, limit: number, between?: () => Promise<void>) {
      const items: Record<string, unknown>[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await exposureListPage(ctx, operator, partyId, list, { cursor, limit });
        expect(page.items.length).to.be.at.most(limit);
        items.push(...(page.items as Record<string, unknown>[]));
        if (page.nextCursor === null) return items;
        cursor = page.nextCursor;
        await between?.();
      }
      throw new Error(`${list} never reached its last page`);
    }

    it("sends at most `limit` items of each list, with the cursor to the rest", async function () {
      await writeBook(db, 0, 23);
      const debtorReport = await partyExposure(ctx, operator, debtor.id, { limit: 5 });
      expect(debtorReport.owes.receivables).to.have.length(5);
      expect(debtorReport.owes.receivablesNextCursor).to.be.a("string");
      const sellerReport = await partyExposure(ctx, operator, seller.id, { limit: 5 });
      expect(sellerReport.owed.certificates).to.have.length(5);
      expect(sellerReport.owed.certificatesNextCursor).to.be.a("string");
      const financierReport = await partyExposure(ctx, operator, financier.id, { limit: 2 });
      expect(financierReport.asFinancier.pledges).to.have.length(2);
      expect(financierReport.asFinancier.purchases).to.have.length(2);
      expect(financierReport.asFinancier.pledgesNextCursor).to.be.a("string");
      expect(financierReport.asFinancier.purchasesNextCursor).to.be.a("string");
      // A list that fits its first page says so.
      const whole = await partyExposure(ctx, operator, financier.id, { limit: 200 });
      expect(whole.asFinancier.pledgesNextCursor).to.equal(null);
      expect(whole.owed.certificatesNextCursor).to.equal(null);
    });

    it("pages each list to the end: every row the totals count, once, in the list's order", async function () {
      await writeBook(db, 0, 23);
      const reports = {
        debtor: await partyExposure(ctx, operator, debtor.id, { limit: 4 }),
        seller: await partyExposure(ctx, operator, seller.id, { limit: 4 }),
        financier: await partyExposure(ctx, operator, financier.id, { limit: 4 }),
      };

      const receivables = await walk("receivables", debtor.id, 4);
      const outstanding = receivables.map((r) => BigInt(r.outstanding as string));
      expect(receivables).to.have.length(reports.debtor.owes.count);
      expect(outstanding.reduce((a, b) => a + b, 0n).toString()).to.equal(reports.debtor.owes.total);
      expect(outstanding.every((o) => o > 0n)).to.equal(true);
      const due = receivables.map((r) => `${r.dueDate as string} ${r.receivableId as string}`);
      expect(due).to.deep.equal([...due].sort());
      expect(receivables.slice(0, 4)).to.deep.equal(reports.debtor.owes.receivables);

      for (const party of [seller, financier]) {
        const report = party === seller ? reports.seller : reports.financier;
        const certificates = await walk("certificates", party.id, 4);
        expect(certificates).to.have.length(report.owed.count);
        const owed = certificates.map((c) => BigInt(c.owed as string)).reduce((a, b) => a + b, 0n);
        expect(owed.toString()).to.equal(report.owed.total);
        expect(certificates.slice(0, 4)).to.deep.equal(report.owed.certificates);
        // Issued from block 1000 down: the last-issued receivable (the highest id) comes first.
        const ids = certificates.map((c) => Number(c.certificateId));
        expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
      }

      const pledges = await walk("pledges", financier.id, 2);
      expect(pledges).to.have.length(reports.financier.asFinancier.pledgeCount);
      expect(
        pledges
          .map((p) => BigInt(p.outstanding as string))
          .reduce((a, b) => a + b, 0n)
          .toString(),
      ).to.equal(reports.financier.asFinancier.pledgesOutstanding);
      const purchases = await walk("purchases", financier.id, 2);
      expect(purchases).to.have.length(reports.financier.asFinancier.certificatesBought.count);
      expect(
        purchases
          .map((p) => BigInt(p.price as string))
          .reduce((a, b) => a + b, 0n)
          .toString(),
      ).to.equal(reports.financier.asFinancier.certificatesBought.pricePaid);
      for (const [list, items] of [
        ["receivables", receivables],
        ["pledges", pledges],
        ["purchases", purchases],
      ] as const) {
        const ids = items.map(idOf[list]);
        expect(new Set(ids).size, list).to.equal(ids.length);
      }
    });

    it("neither repeats nor skips a row when rows are added between two pages", async function () {
      await writeBook(db, 0, 12);
      const before = await walk("certificates", seller.id, 100);
      let added = 0;
      // Each new receivable is issued in a later block: a row at the end of the order, which
      // the walk must still reach, after every row it served once.
      const seen = await walk("certificates", seller.id, 3, async () => {
        added += 1;
        await writeBook(db, 100 + added, 1, 2000 + added);
      });
      const after = await walk("certificates", seller.id, 100);
      expect(added).to.be.at.least(3);
      expect(after.length).to.be.above(before.length);
      const ids = seen.map(idOf.certificates);
      expect(ids).to.deep.equal(after.map(idOf.certificates));
      expect(ids.slice(0, before.length)).to.deep.equal(before.map(idOf.certificates));
    });

    it("counts what the debtor owes from the sums kept per due date: it reads only its first page of receivables", async function () {
      await writeBook(db, 0, 23);
      const { db: logged, reads } = recordingReadsOf(db, "onchain_receivables");
      const report = await partyExposure({ ...ctx, db: logged } as ServiceContext, operator, debtor.id, { limit: 3 });
      expect(report.owes.count).to.be.above(3);
      // The one statement on the receivables is the first page's: an index range with a limit.
      expect(reads).to.have.length(1);
      expect(reads[0]).to.include('"LimitNode"');
    });

    it("refuses a cursor it did not hand out, and another list's cursor shape", async function () {
      await writeBook(db, 0, 8);
      const report = await partyExposure(ctx, operator, debtor.id, { limit: 2 });
      for (const cursor of ["bm90LWEta2V5", Buffer.from('["x","y"]').toString("base64url")]) {
        const refused = await exposureListPage(ctx, operator, debtor.id, "receivables", { cursor, limit: 2 }).then(
          () => null,
          (error: unknown) => error,
        );
        expect(refused).to.be.instanceOf(AppError);
        expect(refused).to.include({ status: 400, code: "INVALID_CURSOR" });
      }
      // The report's cursor goes on where its first page stopped.
      const next = await exposureListPage(ctx, operator, debtor.id, "receivables", {
        cursor: report.owes.receivablesNextCursor!,
        limit: 2,
      });
      expect(next.items.map(idOf.receivables)).not.to.include.members(report.owes.receivables.map(idOf.receivables));
    });
  });
}
