// Stress runs on a hand-built network: losses per certificate, buffers, and the rounds
// of contagion, every figure computed by hand below.
import { expect } from "chai";
import type { CreditExposure } from "../../../server/risk/network/build-graph.js";
import { runStress } from "../../../server/risk/network/contagion.js";

const [C, M, S, T, U] = ["0xC0", "0xA1", "0xB2", "0xD3", "0xE4"].map((p) => p.padEnd(42, "0"));

const cert = (
  certificateId: string,
  holder: string,
  debtor: string,
  outstanding: bigint,
  tier: number,
): CreditExposure => ({
  certificateId,
  receivableId: `0x${certificateId.padStart(64, "0")}`,
  tier,
  holder: holder!,
  debtor: debtor!,
  outstanding,
});

/**
 * C core enterprise; M tier 1 (sells to C, buys from S and T); S tier 2; T tier 3; U a small supplier.
 *   c1  M → C  100  tier 1      c5  T → S  40  tier 1
 *   c2  S → C   30  tier 2      c6  U → T  10  tier 1
 *   c3  S → M   50  tier 1      c7  U → C   5  tier 3
 *   c4  T → M   20  tier 2
 * claims / payables / buffer (claims - payables):
 *   C    0 / 135 / -135
 *   M  100 /  70 /   30
 *   S   80 /  40 /   40
 *   T   60 /  10 /   50
 *   U   15 /   0 /   15
 */
const network = (): CreditExposure[] => [
  cert("1", M!, C!, 100n, 1),
  cert("2", S!, C!, 30n, 2),
  cert("3", S!, M!, 50n, 1),
  cert("4", T!, M!, 20n, 2),
  cert("5", T!, S!, 40n, 1),
  cert("6", U!, T!, 10n, 1),
  cert("7", U!, C!, 5n, 3),
];

describe("network contagion", function () {
  describe("when the core enterprise defaults and 40% is recovered", function () {
    // Loss factor 0.6.
    // Round 1, C: c1 60 (M), c2 18 (S), c7 3 (U).  M 60 > 30: falls.  S 18 <= 40, U 3 <= 15.
    // Round 2, M: c3 30 (S: 48 in all > 40: falls), c4 12 (T: 12 <= 50).
    // Round 3, S: c5 24 (T: 36 in all <= 50). Nobody new: the run ends after 3 rounds.
    const result = runStress(network(), [C!], 0.4);

    it("runs three rounds, each with the parties defaulting in it and the losses they cause", function () {
      expect(result.rounds.map((r) => [r.round, r.defaulting, r.certificates, r.loss])).to.deep.equal([
        [1, [C], 3, 81n],
        [2, [M], 2, 42n],
        [3, [S], 1, 24n],
      ]);
      expect(result.defaulted).to.deep.equal([C, M, S]);
      expect(result.totalLoss).to.equal(147n);
    });

    it("lists every certificate that loses, with its tier, holder, outstanding and loss", function () {
      expect(
        result.certificates.map((c) => [c.certificateId, c.tier, c.holder, c.debtor, c.outstanding, c.loss, c.round]),
      ).to.deep.equal([
        ["1", 1, M, C, 100n, 60n, 1],
        ["2", 2, S, C, 30n, 18n, 1],
        ["7", 3, U, C, 5n, 3n, 1],
        ["3", 1, S, M, 50n, 30n, 2],
        ["4", 2, T, M, 20n, 12n, 2],
        ["5", 1, T, S, 40n, 24n, 3],
      ]);
      expect(result.certificates.some((c) => c.certificateId === "6")).to.equal(false); // T survives: U's claim on T is whole
    });

    it("reports each party's buffer, loss and round of default, defaults first", function () {
      expect(
        result.parties.map((p) => [p.address, p.claims, p.payables, p.buffer, p.loss, p.remaining, p.defaultedInRound]),
      ).to.deep.equal([
        [C, 0n, 135n, -135n, 0n, -135n, 1],
        [M, 100n, 70n, 30n, 60n, -30n, 2],
        [S, 80n, 40n, 40n, 48n, -8n, 3],
        [T, 60n, 10n, 50n, 36n, 14n, null],
        [U, 15n, 0n, 15n, 3n, 12n, null],
      ]);
    });

    it("adds the losses up by tier", function () {
      expect(result.byTier).to.deep.equal([
        { tier: 1, certificates: 3, outstanding: 190n, loss: 114n },
        { tier: 2, certificates: 2, outstanding: 50n, loss: 30n },
        { tier: 3, certificates: 1, outstanding: 5n, loss: 3n },
      ]);
    });
  });

  describe("when a loss exactly uses up a buffer", function () {
    it("keeps the party standing (only below zero defaults)", function () {
      // 70% recovered: c1 loses 30 = M's buffer. S loses 9, U 2 (ceil 1.5).
      const result = runStress(network(), [C!], 0.7);
      expect(result.rounds).to.have.length(1);
      expect(result.parties.find((p) => p.address === M)).to.include({
        loss: 30n,
        remaining: 0n,
        defaultedInRound: null,
      });
      expect(result.certificates.map((c) => c.loss)).to.deep.equal([30n, 9n, 2n]);
    });
  });

  describe("when the party has outside capital", function () {
    it("adds it to the buffer", function () {
      const result = runStress(network(), [C!], 0.4, { capitalOf: (a) => (a === M ? 31n : 0n) });
      expect(result.defaulted).to.deep.equal([C]);
      expect(result.parties.find((p) => p.address === M)).to.include({
        capital: 31n,
        buffer: 61n,
        loss: 60n,
        remaining: 1n,
      });
    });
  });

  describe("when losses are fractional", function () {
    it("rounds each certificate's loss up", function () {
      const result = runStress([cert("1", M!, C!, 7n, 1)], [C!], 0.5);
      expect(result.certificates[0]!.loss).to.equal(4n);
      expect(runStress([cert("1", M!, C!, 1_000_001n, 1)], [C!], 0.333333).certificates[0]!.loss).to.equal(666_668n); // 1,000,001 × 0.666667 = 666,667.67
    });
  });

  describe("when everything or nothing is recovered", function () {
    it("loses nothing at 100% and stops after the first round", function () {
      const result = runStress(network(), [C!], 1);
      expect(result.totalLoss).to.equal(0n);
      expect(result.rounds).to.have.length(1);
      expect(result.defaulted).to.deep.equal([C]);
    });

    it("loses every outstanding unit at 0%", function () {
      const result = runStress(network(), [C!], 0);
      expect(result.certificates.filter((c) => c.round === 1).map((c) => c.loss)).to.deep.equal([100n, 30n, 5n]);
    });
  });

  describe("when parties owe each other in a cycle", function () {
    it("defaults each party once and stops", function () {
      // A ⇄ B 10 each way; B's buffer 10 - 10 = 0, so any loss drops it; then B's debt hits A, already defaulted.
      const [A, B] = [M!, S!];
      const result = runStress([cert("1", A, B, 10n, 1), cert("2", B, A, 10n, 1)], [A], 0.5);
      expect(result.rounds.map((r) => [r.round, r.defaulting, r.loss])).to.deep.equal([
        [1, [A], 5n],
        [2, [B], 5n],
      ]);
      expect(result.parties.map((p) => [p.address, p.defaultedInRound])).to.deep.equal([
        [A, 1],
        [B, 2],
      ]);
    });
  });

  describe("when the recovery rate is out of range", function () {
    it("refuses it", function () {
      expect(() => runStress(network(), [C!], 1.5)).to.throw(RangeError, "recoveryRate");
      expect(() => runStress(network(), [C!], Number.NaN)).to.throw(RangeError);
    });
  });

  describe("when pieces were passed with recourse (issue 16)", function () {
    // D the debtor; S the original seller (endorsed the root before splitting it); T2 took a piece,
    // endorsed it and passed it to T3.
    //   c1  S  → D  40  tier 1 (S's retained piece)     c2  T3 → D  60  tier 3, endorsers [T2, S]
    // At 50% recovery: c1 loses 20 (S, no endorser above its own), c2 loses 30.
    const [D, S2, T2, T3] = ["0xD0", "0x51", "0x72", "0x73"].map((p) => p.padEnd(42, "0"));
    const tree = () => [cert("1", S2!, D!, 40n, 1), cert("2", T3!, D!, 60n, 3)];
    const guarantorsOf = (e: CreditExposure) => (e.certificateId === "2" ? [T2!, S2!] : []);
    const party = (result: ReturnType<typeof runStress>, address: string) =>
      result.parties.find((p) => p.address === address);

    it("moves the tier-3 holder's loss to its nearest endorser, tier 2", function () {
      const capital = new Map([[T2!, 100n]]);
      const result = runStress(tree(), [D!], 0.5, { guarantorsOf, capitalOf: (a) => capital.get(a) ?? 0n });
      const c2 = result.certificates.find((c) => c.certificateId === "2")!;
      expect([c2.holder, c2.loss, c2.bearer, c2.guarantors]).to.deep.equal([T3, 30n, T2, [T2, S2]]);
      expect(party(result, T2!)).to.include({ loss: 30n, recourseLoss: 30n, passedOn: 0n, defaultedInRound: null });
      expect(party(result, T2!)!.remaining).to.equal(70n);
      expect(party(result, T3!), "the holder loses nothing").to.equal(undefined);
      expect(party(result, S2!)).to.include({ loss: 20n, recourseLoss: 0n });
      expect(result.totalLoss).to.equal(50n);
    });

    it("moves it on to the original seller when tier 2 falls", function () {
      // T2 has no buffer: 30 pushes it below zero; in round 2 its guarantee moves up to S.
      const capital = new Map([[S2!, 100n]]);
      const result = runStress(tree(), [D!], 0.5, { guarantorsOf, capitalOf: (a) => capital.get(a) ?? 0n });
      expect(result.rounds.map((r) => [r.round, r.defaulting, r.certificates, r.loss])).to.deep.equal([
        [1, [D], 2, 50n],
        [2, [T2], 0, 0n],
      ]);
      expect(result.certificates.find((c) => c.certificateId === "2")!.bearer).to.equal(S2);
      expect(party(result, T2!)).to.include({ loss: 30n, passedOn: 30n, defaultedInRound: 2 });
      // S: buffer 100 + 40; its own piece's 20 and the guarantee's 30.
      expect(party(result, S2!)).to.include({ loss: 50n, recourseLoss: 30n, remaining: 90n, defaultedInRound: null });
      expect(party(result, T3!)).to.equal(undefined);
    });

    it("leaves the loss with the holder only when every endorser above it has fallen", function () {
      // Nobody has capital: T2 falls in round 2; S (40 - 20 - 30 < 0) falls in round 3; the loss comes back to T3.
      const result = runStress(tree(), [D!], 0.5, { guarantorsOf });
      expect(result.defaulted).to.deep.equal([D, T2, S2]);
      expect(result.certificates.find((c) => c.certificateId === "2")!.bearer).to.equal(T3);
      expect(party(result, S2!)).to.include({ loss: 50n, passedOn: 30n, defaultedInRound: 3 });
      expect(party(result, T3!)).to.include({ loss: 30n, recourseLoss: 0n, remaining: 30n, defaultedInRound: null });
    });

    it("without endorsements, leaves every loss with its holder as before", function () {
      const result = runStress(tree(), [D!], 0.5);
      expect(result.certificates.map((c) => [c.certificateId, c.bearer, c.guarantors])).to.deep.equal([
        ["1", S2, []],
        ["2", T3, []],
      ]);
      expect(party(result, T3!)).to.include({ loss: 30n, defaultedInRound: null });
    });

    it("counts open recourse claims as the guarantor's debts and loses on them when it defaults", function () {
      // T2 already owes T3 an open claim of 10 (a credit note's cut it guarantees).
      const openClaims = [{ claimId: "7", leafId: "2", creditor: T3!, guarantor: T2!, amount: 10n }];
      const capital = new Map([
        [T2!, 25n],
        [S2!, 100n],
      ]);
      const before = runStress(tree(), [D!], 0.5, { guarantorsOf, openClaims, capitalOf: (a) => capital.get(a) ?? 0n });
      // T2's buffer: 25 - 10 = 15; the guarantee's 30 pushes it below zero; in round 2 T3 loses 5 on the
      // claim, and the guarantee moves up to S (which stands).
      expect(party(before, T2!)).to.include({ payables: 10n, buffer: 15n, defaultedInRound: 2 });
      expect(before.recourseClaims.map((c) => [c.claimId, c.creditor, c.loss, c.round])).to.deep.equal([
        ["7", T3, 5n, 2],
      ]);
      expect(party(before, T3!)).to.include({ claims: 70n, loss: 5n });
      expect(before.certificates.find((c) => c.certificateId === "2")!.bearer).to.equal(S2);
      expect(before.totalLoss).to.equal(55n);
    });
  });
});
