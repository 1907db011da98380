// verifyReceivable: one report per submission, every family listed, reproducible.
import { expect } from "chai";
import { loadConfig } from "../../../server/config.js";
import { documentHashOf } from "../../../server/model/receivable-schema.js";
import { SubmitReceivableSchema } from "../../../server/model/receivable-schema.js";
import { DEFAULT_VERIFICATION_CONFIG, verifyReceivable } from "../../../server/verification/verify.js";
import { earlier, FakeHistory } from "./fake-history.js";
import { DEBTOR_ID, FAMILIES, findingsOf, NOW, sampleInput, sampleSubmission, verify } from "./sample-submission.js";

describe("verification: the report", function () {
  describe("when the documents are clean", function () {
    it("passes with exactly one pass result per family, in family order", async function () {
      const input = sampleInput();
      const report = await verify(input, new FakeHistory());
      expect(report.outcome).to.equal("passed");
      expect(report.results.map((r) => [r.rule, r.code, r.outcome])).to.deep.equal(
        FAMILIES.map((family) => [family, `${family}_PASSED`, "pass"]),
      );
      for (const result of report.results) expect(result.fields, result.rule).to.not.be.empty;
    });

    it("records version, time of checking, receivable id, document hash and configuration", async function () {
      const input = sampleInput();
      const report = await verify(input, new FakeHistory());
      expect(report.version).to.equal(1);
      expect(report.checkedAt).to.equal("2026-11-10T12:00:00.000Z");
      expect(report.receivableId)
        .to.equal(input.receivableId)
        .and.match(/^0x[0-9a-f]{64}$/);
      expect(report.documentHash)
        .to.equal(documentHashOf(sampleSubmission()))
        .and.match(/^0x[0-9a-f]{64}$/);
      expect(report.config).to.deep.equal(DEFAULT_VERIFICATION_CONFIG);
    });

    it("starts from a submission the API schema accepts unchanged", function () {
      expect(SubmitReceivableSchema.parse(sampleSubmission())).to.deep.equal(sampleSubmission());
    });
  });

  describe("when families find problems of both kinds", function () {
    it("is rejected if anything fails, listing failures and holds in family order", async function () {
      const input = sampleInput((i) => {
        i.seller.relatedPartyIds = [DEBTOR_ID]; // FRAUD_SIGNAL hold
        i.submission.invoice.total = "330000001"; // THREE_WAY_MATCH fail
        i.submission.delivery.receivedAt = "2026-10-16T00:00:00Z"; // CHRONOLOGY fail
      });
      const report = await verify(input, new FakeHistory());
      expect(report.outcome).to.equal("rejected");
      expect(report.results.map((r) => [r.rule, r.code])).to.deep.equal([
        ["PARTIES", "PARTIES_PASSED"],
        ["THREE_WAY_MATCH", "INVOICE_TOTAL_MISMATCH"],
        ["PO_CAPACITY", "PO_CAPACITY_PASSED"],
        ["DELIVERY", "DELIVERY_PASSED"],
        ["CHRONOLOGY", "CHRONOLOGY_ORDER"],
        ["DUPLICATE", "DUPLICATE_PASSED"],
        ["FRAUD_SIGNAL", "RELATED_PARTY"],
      ]);
    });

    it("is held if there are holds and no failures", async function () {
      const report = await verify(
        sampleInput((i) => (i.debtor!.relatedPartyIds = ["party-tier1"])),
        new FakeHistory(),
      );
      expect(report.outcome).to.equal("held");
      expect(findingsOf(report).map((f) => f.outcome)).to.deep.equal(["hold"]);
    });
  });

  describe("when the same submission is verified again", function () {
    it("gives a deep-equal report and leaves its inputs untouched", async function () {
      const input = sampleInput((i) => (i.submission.invoice.lines[0]!.unitPrice = "2600000"));
      const history = new FakeHistory().add(
        earlier("rcv-1", { faceValue: 10n }),
        earlier("rcv-2", { faceValue: 10n }),
        earlier("rcv-3", { faceValue: 10n }),
        earlier("rcv-4", { poNumber: "PO-2026-0117", invoiceNumber: "INV-9", faceValue: 330_000_000n }),
      );
      history.extraEdges.push({ sellerId: DEBTOR_ID, debtorId: "party-tier1" });
      const inputBefore = structuredClone(input);
      const config = { ...DEFAULT_VERIFICATION_CONFIG };

      const first = await verifyReceivable(input, history, config);
      const second = await verifyReceivable(structuredClone(input), history, { ...config });

      expect(first.outcome).to.equal("rejected");
      expect(findingsOf(first).length).to.be.greaterThan(3);
      expect(second).to.deep.equal(first);
      expect(JSON.parse(JSON.stringify(second, (_, v) => (typeof v === "bigint" ? v.toString() : v)))).to.deep.equal(
        JSON.parse(JSON.stringify(first, (_, v) => (typeof v === "bigint" ? v.toString() : v))),
      );
      expect(input).to.deep.equal(inputBefore);
      expect(config).to.deep.equal(DEFAULT_VERIFICATION_CONFIG);
    });

    it("does not share the configuration object with the report", async function () {
      const config = { ...DEFAULT_VERIFICATION_CONFIG };
      const report = await verify(sampleInput(), new FakeHistory(), config);
      config.priceToleranceBps = 9_999;
      expect(report.config.priceToleranceBps).to.equal(50);
    });

    it("records the time it was given, not the clock", async function () {
      const report = await verify(
        sampleInput((i) => (i.now = new Date(NOW.getTime() + 1_000))),
        new FakeHistory(),
      );
      expect(report.checkedAt).to.equal("2026-11-10T12:00:01.000Z");
    });
  });

  describe("the default configuration", function () {
    it("matches the service configuration's defaults", function () {
      const service = loadConfig({}, "/tmp");
      expect({
        currency: DEFAULT_VERIFICATION_CONFIG.currency,
        priceToleranceBps: DEFAULT_VERIFICATION_CONFIG.priceToleranceBps,
        quantityToleranceBps: DEFAULT_VERIFICATION_CONFIG.quantityToleranceBps,
        minTenorDays: DEFAULT_VERIFICATION_CONFIG.minTenorDays,
        maxTenorDays: DEFAULT_VERIFICATION_CONFIG.maxTenorDays,
      }).to.deep.equal({
        currency: service.TIERLINE_CURRENCY,
        priceToleranceBps: service.TIERLINE_PRICE_TOLERANCE_BPS,
        quantityToleranceBps: service.TIERLINE_QUANTITY_TOLERANCE_BPS,
        minTenorDays: service.TIERLINE_MIN_TENOR_DAYS,
        maxTenorDays: service.TIERLINE_MAX_TENOR_DAYS,
      });
    });

    it("holds the fraud-signal thresholds and cannot be changed by accident", function () {
      expect(DEFAULT_VERIFICATION_CONFIG).to.include({
        volumeSpikeFactor: 5,
        volumeSpikeMinHistory: 3,
        brushingWindowHours: 24,
        brushingMaxCount: 10,
      });
      expect(Object.isFrozen(DEFAULT_VERIFICATION_CONFIG)).to.equal(true);
    });
  });
});
