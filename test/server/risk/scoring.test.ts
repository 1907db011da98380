// Credit scores from a constructed history, through the API and the chain: a seller with
// late and short deliveries, a related buyer and a rejected submission; a debtor that pays
// on time, pays late and defaults. Every expected value is worked out by hand in the
// comments. Scores refresh from new data (the risk monitor), not only when read.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import { advanceChainTime, mint } from "../repayment-scenario.js";
import { confirm, DAY_MS, eventually, factorsOf, registered, submit, T, trade } from "./risk-scenario.js";

describe("Risk: credit scores", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let auditor: TestParty;

  const storedScore = (partyId: string) =>
    t.service.ctx.db.selectFrom("risk_scores").selectAll().where("party_id", "=", partyId).executeTakeFirst();
  const riskOf = async (partyId: string) => {
    const response = await api.as(auditor.apiKey).get(`/v1/risk/parties/${partyId}`);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    auditor = await createTestParty(operator, ["auditor"]);
  });
  after(async function () {
    await t?.close();
  });

  describe("when a new party has no history", function () {
    it("scores the base 600, band C, with every factor but tenure not applying", async function () {
      const fresh = await createTestParty(operator, ["supplier"]);
      const view = await riskOf(fresh.id);
      expect(view.score).to.include({ value: 600, band: "C", base: 600, unclamped: 600 });
      expect(
        view.score.factors.filter((f: { applies: boolean }) => f.applies).map((f: { name: string }) => f.name),
      ).to.deep.equal(["tenure"]);
      expect(view.score.factors.every((f: { contribution: number }) => f.contribution === 0)).to.equal(true);
      expect(view.alerts).to.deep.equal([]);
    });
  });

  describe("when a seller has delivered late, short, to a related party and had a submission rejected", function () {
    let seller: TestParty;
    let d1: TestParty;
    let d2: TestParty;
    let related: TestParty;

    before(async function () {
      seller = await createTestParty(operator, ["supplier"]);
      // A party that joined 73 days ago (tenure is the only factor the API cannot make older).
      await t.service.ctx.db
        .updateTable("parties")
        .set({ created_at: new Date(Date.now() - 73 * DAY_MS).toISOString() })
        .where("id", "=", seller.id)
        .execute();
      d1 = await createTestParty(operator, ["debtor"]);
      d2 = await createTestParty(operator, ["debtor"]);
      related = await createTestParty(operator, ["debtor"], { relatedPartyIds: [seller.id] });

      // #1 D1 100 tUSD: ordered 30 days ago, received 15 days ago -> on time.
      await registered(api, seller, d1);
      // #2 D1 100 tUSD: ordered 50 days ago, received 8 days ago (42 days) -> late.
      await registered(api, seller, d1, { orderedDays: -50, shippedDays: -45, receivedDays: -8, invoicedDays: -5 });
      // #3 D2 90 tUSD: 100 ordered, 90 delivered and invoiced -> short delivery.
      await registered(api, seller, d2, { ordered: 100, delivered: 90 });
      // #4 DR 100 tUSD: the buyer lists the seller as related -> held, then approved.
      const heldThenApproved = await submit(api, seller, trade(related.id), "held_for_review");
      const approved = await operator.post(`/v1/receivables/${heldThenApproved}/review`, {
        decision: "approve",
        note: "known group company",
      });
      expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
      // #5 D2 200 tUSD: invoiced 120 days ago, in the 90 days before the last 90.
      await registered(api, seller, d2, {
        ordered: 200,
        orderedDays: -150,
        shippedDays: -140,
        receivedDays: -130,
        invoicedDays: -120,
        dueDays: 50,
      });
      // #6 DR 100 tUSD: held, then rejected in review -> a dispute.
      const heldThenRejected = await submit(api, seller, trade(related.id), "held_for_review");
      const rejected = await operator.post(`/v1/receivables/${heldThenRejected}/review`, {
        decision: "reject",
        note: "no delivery evidence",
      });
      expect(rejected.status, JSON.stringify(rejected.body)).to.equal(200);
    });

    it("shows each factor with its inputs and the contribution computed by hand", async function () {
      const f = factorsOf(await riskOf(seller.id));
      // 4 of the 5 accepted sales on time: 300 x (0.80 - 0.90) = -30
      expect(f.onTimeDelivery).to.deep.include({ applies: true, contribution: -30 });
      expect(f.onTimeDelivery!.inputs).to.deep.equal({ deliveries: 5, onTime: 4, onTimeDays: 30, rateBps: 8_000 });
      // 1 short delivery of 5: -200 x 0.20 = -40
      expect(f.returns).to.deep.include({ contribution: -40 });
      expect(f.returns!.inputs).to.deep.equal({ deliveries: 5, shortDeliveries: 1, rateBps: 2_000 });
      // 1 rejected of 6 submissions: floor(10,000 / 6) = 1,666 bps; -round(300 x 0.1666 = 49.98) = -50
      expect(f.disputes).to.deep.include({ contribution: -50 });
      expect(f.disputes!.inputs).to.deep.equal({
        submissions: 6,
        rejectedInReview: 1,
        heldForReview: 0,
        rateBps: 1_666,
      });
      // D1 200, D2 290, DR 100: HHI (200² + 290² + 100²) / 590² = 3,852 bps; -round(100 x 1,352 / 7,500 = 18.03) = -18
      expect(f.concentration).to.deep.include({ contribution: -18 });
      expect(f.concentration!.inputs).to.deep.equal({ buyers: 3, hhiBps: 3_852 });
      // 100 of 590 with the related buyer: 1,694 bps; -round(150 x 0.1694 = 25.41) = -25
      expect(f.relatedParty).to.deep.include({ contribution: -25 });
      expect(f.relatedParty!.inputs).to.deep.equal({
        volume: T(590).toString(),
        relatedVolume: T(100).toString(),
        shareBps: 1_694,
      });
      // 73 days: round(100 x 73 / 365) = 20
      expect(f.tenure).to.deep.include({ contribution: 20 });
      expect(f.tenure!.inputs).to.deep.equal({ days: 73, fullAfterDays: 365 });
      // 390 invoiced in the last 90 days against 200 before: ratio 1.95 -> round(25 x 0.95 = 23.75) = 24
      expect(f.volumeTrend).to.deep.include({ contribution: 24 });
      expect(f.volumeTrend!.inputs).to.deep.equal({
        windowDays: 90,
        recentVolume: T(390).toString(),
        previousVolume: T(200).toString(),
        ratioBps: 19_500,
      });
      // Never a debtor: no repayment record, nothing outstanding.
      expect(f.repayment).to.deep.include({ applies: false, contribution: 0 });
      expect(f.overdue).to.deep.include({ applies: false, contribution: 0 });
    });

    it("adds them to 600 - 30 - 40 - 50 - 18 - 25 + 20 + 24 = 481, band E, and halves its supplier limit", async function () {
      const view = await riskOf(seller.id);
      expect(view.score).to.include({ value: 481, band: "E", unclamped: 481 });
      // Band E: 0.5 x the default 10,000,000 tUSD. Sold and registered: 100 + 100 + 90 + 200 = 490 tUSD.
      expect(view.limits.supplier).to.include({
        base: T(10_000_000).toString(),
        source: "default",
        bandMultiplierBps: 5_000,
        industryCutBps: 10_000,
      });
      expect(view.limits.supplier.limit).to.equal(T(5_000_000).toString());
      expect(view.limits.supplier.exposure).to.equal(T(490).toString());
      expect(view.limits.supplier.available).to.equal((T(5_000_000) - T(490)).toString());
      expect(view.limits.supplier.exposureParts).to.deep.equal({
        originated: T(490).toString(),
        throughTiers: "0",
        recourse: "0",
        collateralShortfall: "0",
        pending: "0",
      });
    });

    it("scores the buyer whose purchases fell: 90 recent against 200 before -> -round(50 x 0.55 = 27.5) = -28, 572, band D", async function () {
      const view = await riskOf(d2.id);
      const f = factorsOf(view);
      expect(f.volumeTrend!.inputs).to.include({ ratioBps: 4_500 });
      expect(f.volumeTrend!.contribution).to.equal(-28);
      expect(view.score).to.include({ value: 572, band: "D" });
      // Owes 90 + 200 tUSD, all active.
      expect(view.limits.debtor.exposure).to.equal(T(290).toString());
      expect(view.overdueShareBps).to.equal(0);
    });
  });

  describe("when a debtor pays on time, pays late and defaults", function () {
    let seller: TestParty;
    let debtor: TestParty;
    const receivables: Record<string, string> = {};

    before(async function () {
      seller = await createTestParty(operator, ["supplier"]);
      debtor = await createTestParty(operator, ["debtor"]);
      await mint(t, debtor.address, T(10_000));
    });

    it("refreshes the seller's stored score when its first submission arrives, without anyone reading it", async function () {
      const before = await eventually(
        () => storedScore(seller.id),
        (row) => row !== undefined,
      );
      expect(before!.score).to.equal(600);
      // Submitted only: nothing on this path calls the risk engine.
      receivables.onTime = await submit(api, seller, trade(debtor.id, { dueDays: 60 }));
      // One sale, on time, one buyer: 600 + 30 - 100 (HHI 1) = 530; nobody has asked for it.
      const after = await eventually(
        () => storedScore(seller.id),
        (row) => row?.score === 530,
      );
      expect(after).to.include({ score: 530, band: "D", reason: "event" });
      await confirm(api, debtor, receivables.onTime);
    });

    it("scores 25 - 50 - 300 = -325 for the record and -100 for half its outstanding overdue: 175, band F", async function () {
      receivables.late = (await registered(api, seller, debtor, { dueDays: 10 })).id;
      receivables.defaulted = (await registered(api, seller, debtor, { dueDays: 20 })).id;
      receivables.active = (await registered(api, seller, debtor, { dueDays: 90, ordered: 200 })).id;
      receivables.overdue = (await registered(api, seller, debtor, { dueDays: 30 })).id;
      const repay = async (id: string) => {
        const response = await api
          .as(debtor.apiKey)
          .post(`/v1/receivables/${id}/repayments`, { amount: T(100).toString() });
        expect(response.status, JSON.stringify(response.body)).to.equal(200);
      };
      await repay(receivables.onTime!); // due in 60 days: on time
      await advanceChainTime(t, 12 * 86_400);
      await repay(receivables.late!); // due 10 days in, paid on day 12: late (tolerance 1 day)
      await advanceChainTime(t, 40 * 86_400); // day 52
      await t.service.keeper.runOnce();
      // due day 20 + 30 days' grace = 50 < 52: overdue then defaulted; due day 30: overdue only.
      const statusOf = async (id: string) =>
        (
          await t.service.ctx.db
            .selectFrom("onchain_receivables")
            .select("status")
            .where("id", "=", id)
            .executeTakeFirstOrThrow()
        ).status;
      expect(await statusOf(receivables.defaulted!)).to.equal("defaulted");
      expect(await statusOf(receivables.overdue!)).to.equal("overdue");
      expect(await statusOf(receivables.active!)).to.equal("active");

      // The monitor follows the chain's status events: no read needed.
      const stored = await eventually(
        () => storedScore(debtor.id),
        (row) => row?.score === 175,
      );
      expect(stored!.score).to.equal(175);
      expect(stored!.overdue_share_bps).to.equal(5_000);

      const view = await riskOf(debtor.id);
      const f = factorsOf(view);
      expect(f.repayment!.inputs).to.include({ repaidOnTime: 1, repaidLate: 1, defaulted: 1, repaidTimingUnknown: 0 });
      expect(f.repayment!.contribution).to.equal(-325);
      // Outstanding: defaulted 100 + overdue 100 + active 200 = 400; overdue or defaulted 200 -> 5,000 bps -> -100.
      expect(f.overdue!.inputs).to.deep.equal({
        outstanding: T(400).toString(),
        overdueOutstanding: T(200).toString(),
        shareBps: 5_000,
      });
      expect(f.overdue!.contribution).to.equal(-100);
      expect(view.score).to.include({ value: 175, band: "F" });
      expect(view.overdueShareBps).to.equal(5_000);
      // Band F: 0.25 x the default 100,000,000 tUSD.
      expect(view.limits.debtor).to.include({
        bandMultiplierBps: 2_500,
        limit: T(25_000_000).toString(),
        exposure: T(400).toString(),
      });
      // Claims on it: band F's 50 % advance rate, 180 days.
      expect(view.financingOnItsDebts).to.deep.equal({
        advanceRate: { bandRateBps: 5_000, industryCutBps: 0, allowedBps: 5_000 },
        maxTenorDays: 180,
      });
    });

    it("raised one SCORE_BELOW_THRESHOLD alert and OVERDUE_SHARE_ROSE up to 5,000 bps, shown in the risk view and the feed", async function () {
      const view = await riskOf(debtor.id);
      const below = view.alerts.filter((a: { kind: string }) => a.kind === "SCORE_BELOW_THRESHOLD");
      expect(below).to.have.length(1);
      expect(below[0].details.scoreBefore).to.be.at.least(500);
      expect(below[0].details.scoreAfter).to.be.below(500);
      const rose = view.alerts.filter((a: { kind: string }) => a.kind === "OVERDUE_SHARE_ROSE");
      expect(rose.length).to.be.at.least(1);
      expect(rose[0].details.overdueShareBpsAfter).to.equal(5_000); // newest first
      for (const alert of rose)
        expect(alert.details.overdueShareBpsAfter).to.be.above(alert.details.overdueShareBpsBefore);

      const feed = await api.as(auditor.apiKey).get(`/v1/risk/alerts?partyId=${debtor.id}`);
      expect(feed.status).to.equal(200);
      expect(feed.body.alerts.map((a: { id: number }) => a.id)).to.deep.equal(
        view.alerts.map((a: { id: number }) => a.id),
      );
      expect(feed.body.alerts.every((a: { partyId: string }) => a.partyId === debtor.id)).to.equal(true);
      expect(feed.body.items).to.deep.equal(feed.body.alerts);

      // Page by page, one alert at a time: the same alerts in the same order, then the end.
      const paged: number[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: any } = await api
          .as(auditor.apiKey)
          .get(`/v1/risk/alerts?partyId=${debtor.id}&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
        expect(page.status, JSON.stringify(page.body)).to.equal(200);
        expect(page.body.items.length).to.be.at.most(1);
        paged.push(...page.body.items.map((a: { id: number }) => a.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(paged).to.deep.equal(view.alerts.map((a: { id: number }) => a.id));
    });

    it("raises nothing more when nothing changes", async function () {
      const count = async () =>
        (await t.service.ctx.db.selectFrom("risk_alerts").select("id").where("party_id", "=", debtor.id).execute())
          .length;
      const before = await count();
      await riskOf(debtor.id);
      await riskOf(debtor.id);
      expect(await count()).to.equal(before);
    });

    it("keeps the score's history, newest first", async function () {
      const view = await riskOf(debtor.id);
      expect(view.history[0]).to.include({ score: 175, band: "F", overdueShareBps: 5_000 });
      expect(view.history.at(-1)).to.include({ score: 600 });
    });
  });
});
