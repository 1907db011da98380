// The risk model's arithmetic on small constructed histories, against values computed by
// hand (the working is in each comment). No chain, no database: the pure functions that
// the service's scores, limits and quotes are made of.
import { expect } from "chai";
import {
  concentrationFactor,
  disputesFactor,
  onTimeDeliveryFactor,
  overdueFactor,
  relatedPartyFactor,
  repaymentFactor,
  returnsFactor,
  tenureFactor,
  volumeTrendFactor,
  type DebtRecord,
  type PartyHistory,
  type TradeRecord,
} from "../../../server/risk/factors.js";
import { advanceRateFor, effectiveLimit, maxTenorDaysFor, tenorDaysOf } from "../../../server/risk/limits.js";
import { divRound, hhiBps, shareBps } from "../../../server/risk/math.js";
import { bandOf } from "../../../server/risk/policy.js";
import { computeQuote } from "../../../server/risk/quotes.js";
import { computeScore } from "../../../server/risk/scoring.js";
import { detectAlerts } from "../../../server/risk/alerts.js";
import { isShortDelivery } from "../../../server/risk/history.js";

const DAY = 86_400;
const NOW = 1_800_000_000; // a fixed "now", unix seconds
const T = (units: number) => BigInt(units) * 1_000_000n; // tUSD

function sale(overrides: Partial<TradeRecord> = {}): TradeRecord {
  return {
    receivableId: `0x${Math.random().toString(16).slice(2)}`,
    role: "seller",
    counterpartyId: "D1",
    faceValue: T(100),
    status: "awaiting_confirmation",
    orderedAt: NOW - 30 * DAY,
    receivedAt: NOW - 15 * DAY, // 15 days after the order: on time
    invoicedAt: NOW - 10 * DAY,
    shortDelivery: false,
    related: false,
    ...overrides,
  };
}

function debt(overrides: Partial<DebtRecord> = {}): DebtRecord {
  return {
    receivableId: "0x01",
    faceValue: T(100),
    repaidAmount: 0n,
    dueDate: NOW - 10 * DAY,
    status: "active",
    repaidAt: null,
    ...overrides,
  };
}

const history = (trades: TradeRecord[] = [], debts: DebtRecord[] = [], createdAt = NOW): PartyHistory => ({
  partyId: "P",
  createdAt,
  now: NOW,
  trades,
  debts,
});

/**
 * The seller of the service's scoring scenario, as pure records: six submissions, one of
 * them rejected in review.
 *   #1 D1 100, on time          #2 D1 100, late (42 days)     #3 D2 90, short delivery
 *   #4 DR 100, related party     #5 D2 200, invoiced 120 days ago (the previous window)
 *   #6 DR 100, rejected in review
 */
function scenarioSeller(): PartyHistory {
  return history(
    [
      sale({ counterpartyId: "D1" }),
      sale({ counterpartyId: "D1", orderedAt: NOW - 50 * DAY, receivedAt: NOW - 8 * DAY, invoicedAt: NOW - 5 * DAY }),
      sale({ counterpartyId: "D2", faceValue: T(90), shortDelivery: true }),
      sale({ counterpartyId: "DR", related: true }),
      sale({
        counterpartyId: "D2",
        faceValue: T(200),
        orderedAt: NOW - 150 * DAY,
        receivedAt: NOW - 130 * DAY,
        invoicedAt: NOW - 120 * DAY,
      }),
      sale({ counterpartyId: "DR", related: true, status: "rejected" }),
    ],
    [],
    NOW - 73 * DAY,
  );
}

describe("Risk model (pure arithmetic)", function () {
  describe("when rounding", function () {
    it("rounds halves away from zero and floors shares to whole basis points", function () {
      expect(divRound(7, 2)).to.equal(4);
      expect(divRound(-7, 2)).to.equal(-4);
      expect(divRound(266_800, 7_500)).to.equal(36); // 35.57
      expect(divRound(1, 3)).to.equal(0);
      expect(shareBps(1, 3)).to.equal(3_333);
      expect(shareBps(5, 0)).to.equal(0);
      // (200^2 + 290^2) / 490^2 = 124,100 / 240,100 = 0.51686...
      expect(hhiBps([T(200), T(290)])).to.equal(5_168);
      expect(hhiBps([T(1), T(1), T(1), T(1)])).to.equal(2_500);
    });
  });

  describe("when a seller delivers", function () {
    it("scores 3 of 4 deliveries on time at 300 x (0.75 - 0.90) = -45", function () {
      const h = history([sale(), sale(), sale(), sale({ orderedAt: NOW - 50 * DAY, receivedAt: NOW - 8 * DAY })]);
      const f = onTimeDeliveryFactor(h);
      expect(f.inputs).to.deep.equal({ deliveries: 4, onTime: 3, onTimeDays: 30, rateBps: 7_500 });
      expect(f.contribution).to.equal(-45);
    });

    it("counts a receipt exactly 30 days after the order as on time and one a second later as late", function () {
      const onTheDay = sale({ orderedAt: NOW - 40 * DAY, receivedAt: NOW - 10 * DAY });
      const aSecondLate = sale({ orderedAt: NOW - 40 * DAY, receivedAt: NOW - 10 * DAY + 1 });
      expect(onTimeDeliveryFactor(history([onTheDay])).contribution).to.equal(30); // 300 x 0.10
      expect(onTimeDeliveryFactor(history([aSecondLate])).contribution).to.equal(-270); // 300 x -0.90
    });

    it("leaves a party with no sales out of the delivery, returns, disputes and concentration factors", function () {
      const h = history();
      for (const f of [onTimeDeliveryFactor(h), returnsFactor(h), disputesFactor(h), concentrationFactor(h)]) {
        expect(f.applies, f.name).to.equal(false);
        expect(f.contribution, f.name).to.equal(0);
      }
    });

    it("reads a short delivery from ordered against delivered quantities per sku", function () {
      const po = (lines: Array<[string, number]>) => ({
        purchaseOrder: { lines: lines.map(([sku, quantity]) => ({ sku, quantity, unitPrice: "1" })) },
      });
      const delivery = (lines: Array<[string, number]>) => ({
        delivery: { lines: lines.map(([sku, quantity]) => ({ sku, quantity })) },
      });
      const docs = (o: Array<[string, number]>, d: Array<[string, number]>) => ({ ...po(o), ...delivery(d) }) as never;
      expect(isShortDelivery(docs([["A", 100]], [["A", 100]]))).to.equal(false);
      expect(
        isShortDelivery(
          docs(
            [["A", 100]],
            [
              ["A", 60],
              ["A", 40],
            ],
          ),
        ),
      ).to.equal(false);
      expect(isShortDelivery(docs([["A", 100]], [["A", 90]]))).to.equal(true);
      expect(
        isShortDelivery(
          docs(
            [
              ["A", 10],
              ["B", 5],
            ],
            [["A", 10]],
          ),
        ),
      ).to.equal(true);
    });
  });

  describe("when the scenario seller is scored", function () {
    const h = scenarioSeller();
    const byName = Object.fromEntries(computeScore(h).factors.map((f) => [f.name, f]));

    it("computes on-time delivery over the 5 accepted sales: 4 on time -> 300 x (0.80 - 0.90) = -30", function () {
      expect(byName.onTimeDelivery!.inputs).to.include({ deliveries: 5, onTime: 4, rateBps: 8_000 });
      expect(byName.onTimeDelivery!.contribution).to.equal(-30);
    });

    it("computes returns: 1 short delivery of 5 -> -200 x 0.20 = -40", function () {
      expect(byName.returns!.inputs).to.include({ shortDeliveries: 1, rateBps: 2_000 });
      expect(byName.returns!.contribution).to.equal(-40);
    });

    it("computes disputes over all 6 submissions: 1 rejected -> floor(1/6) = 1,666 bps -> -round(49.98) = -50", function () {
      expect(byName.disputes!.inputs).to.include({
        submissions: 6,
        rejectedInReview: 1,
        heldForReview: 0,
        rateBps: 1_666,
      });
      expect(byName.disputes!.contribution).to.equal(-50);
    });

    it("computes concentration: D1 200, D2 290, DR 100 -> HHI 134,100 / 348,100 = 3,852 bps -> -round(100 x 1,352 / 7,500) = -18", function () {
      expect(byName.concentration!.inputs).to.deep.equal({ buyers: 3, hhiBps: 3_852 });
      expect(byName.concentration!.contribution).to.equal(-18);
    });

    it("computes related-party trade: 100 of 590 -> 1,694 bps -> -round(150 x 0.1694) = -25", function () {
      expect(byName.relatedParty!.inputs).to.deep.equal({
        volume: T(590).toString(),
        relatedVolume: T(100).toString(),
        shareBps: 1_694,
      });
      expect(byName.relatedParty!.contribution).to.equal(-25);
    });

    it("computes tenure: 73 days -> round(100 x 73 / 365) = 20", function () {
      expect(byName.tenure!.inputs).to.deep.equal({ days: 73, fullAfterDays: 365 });
      expect(byName.tenure!.contribution).to.equal(20);
    });

    it("computes the volume trend: 390 in the last 90 days against 200 before -> ratio 1.95 -> round(25 x 0.95) = 24", function () {
      expect(byName.volumeTrend!.inputs).to.deep.equal({
        windowDays: 90,
        recentVolume: T(390).toString(),
        previousVolume: T(200).toString(),
        ratioBps: 19_500,
      });
      expect(byName.volumeTrend!.contribution).to.equal(24);
    });

    it("adds up to 600 - 30 - 40 - 50 - 18 - 25 + 20 + 24 = 481, band E", function () {
      const score = computeScore(h);
      expect(score.score).to.equal(481);
      expect(score.band).to.equal("E");
      expect(score.factors.filter((f) => !f.applies).map((f) => f.name)).to.deep.equal(["repayment", "overdue"]);
    });
  });

  describe("when a debtor repays, pays late and defaults", function () {
    it("scores 1 on time, 1 late, 1 defaulted as 25 - 50 - 300 = -325", function () {
      const h = history(
        [],
        [
          debt({ status: "repaid", repaidAmount: T(100), repaidAt: NOW - 11 * DAY }),
          debt({ status: "repaid", repaidAmount: T(100), repaidAt: NOW - 10 * DAY + DAY + 1 }),
          debt({ status: "defaulted" }),
        ],
      );
      const f = repaymentFactor(h);
      expect(f.inputs).to.include({ repaidOnTime: 1, repaidLate: 1, defaulted: 1 });
      expect(f.contribution).to.equal(-325);
    });

    it("counts a repayment up to one day after the due date as on time, and caps on-time points at 150", function () {
      const onTime = Array.from({ length: 7 }, () =>
        debt({ status: "repaid", repaidAmount: T(100), repaidAt: NOW - 10 * DAY + DAY }),
      );
      const f = repaymentFactor(history([], onTime));
      expect(f.inputs).to.include({ repaidOnTime: 7, repaidLate: 0 });
      expect(f.contribution).to.equal(150); // min(150, 7 x 25 = 175)
    });

    it("computes the overdue share: (60 + 100) of (200 + 60 + 100) = 4,444 bps -> -round(200 x 0.4444) = -89", function () {
      const h = history(
        [],
        [
          debt({ faceValue: T(200) }),
          debt({ status: "overdue", repaidAmount: T(40) }),
          debt({ status: "defaulted" }),
          debt({ status: "repaid", repaidAmount: T(100), repaidAt: NOW }),
        ],
      );
      const f = overdueFactor(h);
      expect(f.inputs).to.deep.equal({
        outstanding: T(360).toString(),
        overdueOutstanding: T(160).toString(),
        shareBps: 4_444,
      });
      expect(f.contribution).to.equal(-89);
      expect(computeScore(h).overdueShareBps).to.equal(4_444);
    });
  });

  describe("when concentration, tenure and trend move", function () {
    it("takes the full -100 for a single buyer and nothing for four equal buyers", function () {
      expect(concentrationFactor(history([sale(), sale()])).contribution).to.equal(-100);
      const four = ["A", "B", "C", "D"].map((id) => sale({ counterpartyId: id }));
      expect(concentrationFactor(history(four)).contribution).to.equal(0);
    });

    it("gives 0 for a new party and caps tenure at 100 after a year", function () {
      expect(tenureFactor(history([], [], NOW)).contribution).to.equal(0);
      expect(tenureFactor(history([], [], NOW - 400 * DAY)).contribution).to.equal(100);
    });

    it("takes -round(50 x 0.75) = -38 when volume falls to a quarter, and has no trend without a previous window", function () {
      const falling = history([
        sale({ invoicedAt: NOW - 10 * DAY }),
        sale({ faceValue: T(400), invoicedAt: NOW - 100 * DAY }),
      ]);
      const f = volumeTrendFactor(falling);
      expect(f.inputs).to.include({ ratioBps: 2_500 });
      expect(f.contribution).to.equal(-38);
      expect(volumeTrendFactor(history([sale()])).applies).to.equal(false);
    });

    it("counts related trade as seller and as debtor alike", function () {
      const h = history([
        sale({ faceValue: T(300) }),
        sale({ role: "debtor", counterpartyId: "S9", related: true, faceValue: T(100) }),
      ]);
      const f = relatedPartyFactor(h);
      expect(f.inputs).to.include({ shareBps: 2_500 });
      expect(f.contribution).to.equal(-38); // -round(150 x 0.25 = 37.5)
    });
  });

  describe("when the score is banded and clamped", function () {
    it("puts 800 in A, 799 in B, 600 in C, 599 in D, 400 in E and 399 in F", function () {
      expect([800, 799, 700, 699, 600, 599, 500, 499, 400, 399, 0].map(bandOf)).to.deep.equal([
        "A",
        "B",
        "B",
        "C",
        "C",
        "D",
        "D",
        "E",
        "E",
        "F",
        "F",
      ]);
    });

    it("clamps a sum below zero to 0", function () {
      const defaults = Array.from({ length: 3 }, () => debt({ status: "defaulted" }));
      const score = computeScore(history([], defaults));
      expect(score.unclamped).to.equal(600 - 900 - 200);
      expect(score.score).to.equal(0);
      expect(score.band).to.equal("F");
    });
  });

  describe("when limits are computed", function () {
    it("multiplies the base by the band and, over the industry threshold, by 0.5", function () {
      expect(effectiveLimit(100_000_000_000_000n, "C", false)).to.deep.equal({
        bandMultiplierBps: 10_000,
        industryCutBps: 10_000,
        limit: 100_000_000_000_000n,
      });
      expect(effectiveLimit(T(150), "D", false).limit).to.equal(T(112) + 500_000n); // 150 x 0.75
      expect(effectiveLimit(T(300), "A", true)).to.deep.equal({
        bandMultiplierBps: 15_000,
        industryCutBps: 5_000,
        limit: T(225),
      }); // 300 x 1.5 x 0.5
      expect(effectiveLimit(1_000_001n, "F", true).limit).to.equal(125_000n); // floor(1,000,001 x 0.25 x 0.5 = 125,000.125)
    });

    it("allows 99.50 % advance for band C, 89.50 % over the threshold, 180 days or 90", function () {
      expect(advanceRateFor("C", false)).to.deep.equal({ bandRateBps: 9_950, industryCutBps: 0, allowedBps: 9_950 });
      expect(advanceRateFor("C", true)).to.deep.equal({ bandRateBps: 9_950, industryCutBps: 1_000, allowedBps: 8_950 });
      expect(advanceRateFor("F", true).allowedBps).to.equal(4_000);
      expect(maxTenorDaysFor(false)).to.equal(180);
      expect(maxTenorDaysFor(true)).to.equal(90);
    });

    it("counts a started day of tenor as a day", function () {
      expect(tenorDaysOf(NOW + 60 * DAY, NOW)).to.equal(60);
      expect(tenorDaysOf(NOW + 60 * DAY + 1, NOW)).to.equal(61);
      expect(tenorDaysOf(NOW - 5, NOW)).to.equal(0);
    });
  });

  describe("when a quote is computed", function () {
    it("prices 100 tUSD at 61 days, band C, a single-debtor holder: 500 + 200 + 200 + 75 = 975 bps", function () {
      const q = computeQuote({
        faceValue: T(100),
        tenorDays: 61,
        debtorBand: "C",
        debtorIndustryStressed: false,
        holderClaimsHhiBps: 10_000,
      });
      expect(q.discountRate).to.deep.equal({
        baseRateBps: 500,
        riskPremiumBps: 200,
        concentrationPremiumBps: 200,
        tenorPremiumBps: 75,
        totalBps: 975,
      });
      // floor(100,000,000 x (3,650,000 - 975 x 61) / 3,650,000) = floor(98,370,547.9)
      expect(q.discountedPrice).to.equal(98_370_547n);
      expect(q.discount).to.equal(1_629_453n);
      expect(q.maxAdvance).to.equal(99_500_000n);
      expect(q.binding).to.equal("discount");
      expect(q.price).to.equal(98_370_547n);
    });

    it("lets the advance rate bind when the debtor's industry is over its threshold: 89.50 % of face", function () {
      const q = computeQuote({
        faceValue: T(100),
        tenorDays: 61,
        debtorBand: "C",
        debtorIndustryStressed: true,
        holderClaimsHhiBps: 10_000,
      });
      expect(q.advanceRate.allowedBps).to.equal(8_950);
      expect(q.maxAdvance).to.equal(89_500_000n);
      expect(q.binding).to.equal("advanceRate");
      expect(q.price).to.equal(89_500_000n);
    });

    it("charges round(200 x 2,500 / 7,500) = 67 bps for two equal debtors and nothing at HHI 0.25", function () {
      const two = computeQuote({
        faceValue: T(100),
        tenorDays: 30,
        debtorBand: "D",
        debtorIndustryStressed: false,
        holderClaimsHhiBps: 5_000,
      });
      expect(two.discountRate).to.deep.equal({
        baseRateBps: 500,
        riskPremiumBps: 400,
        concentrationPremiumBps: 67,
        tenorPremiumBps: 25,
        totalBps: 992,
      });
      const spread = computeQuote({
        faceValue: T(100),
        tenorDays: 30,
        debtorBand: "D",
        debtorIndustryStressed: false,
        holderClaimsHhiBps: 2_500,
      });
      expect(spread.discountRate.concentrationPremiumBps).to.equal(0);
    });
  });

  describe("when alerts are derived from a change of score", function () {
    const next = (score: number, overdueShareBps = 0) => ({
      partyId: "P",
      score,
      band: bandOf(score),
      overdueShareBps,
    });

    it("raises SCORE_BELOW_THRESHOLD when the score falls from 500 or above to below 500, once", function () {
      const drafts = detectAlerts({ score: 530, overdueShareBps: 0 }, next(380));
      expect(drafts.map((d) => d.kind)).to.deep.equal(["SCORE_BELOW_THRESHOLD"]);
      expect(drafts[0]!.details).to.deep.equal({ scoreBefore: 530, scoreAfter: 380, threshold: 500, band: "F" });
      expect(detectAlerts({ score: 380, overdueShareBps: 0 }, next(370))).to.deep.equal([]);
      expect(detectAlerts({ score: 500, overdueShareBps: 0 }, next(500))).to.deep.equal([]);
    });

    it("treats a party never scored as 600 with nothing overdue", function () {
      expect(detectAlerts(undefined, next(450)).map((d) => d.kind)).to.deep.equal(["SCORE_BELOW_THRESHOLD"]);
      expect(detectAlerts(undefined, next(600, 2_500)).map((d) => d.kind)).to.deep.equal(["OVERDUE_SHARE_ROSE"]);
    });

    it("raises OVERDUE_SHARE_ROSE on a rise only", function () {
      const rose = detectAlerts({ score: 600, overdueShareBps: 2_500 }, next(600, 5_000));
      expect(rose.map((d) => d.kind)).to.deep.equal(["OVERDUE_SHARE_ROSE"]);
      expect(rose[0]!.details).to.deep.include({ overdueShareBpsBefore: 2_500, overdueShareBpsAfter: 5_000 });
      expect(detectAlerts({ score: 600, overdueShareBps: 5_000 }, next(600, 5_000))).to.deep.equal([]);
      expect(detectAlerts({ score: 600, overdueShareBps: 5_000 }, next(600, 2_500))).to.deep.equal([]);
    });
  });
});
