// Repayment: the debtor (or anyone for it) pays into a receivable's escrow, in full, in parts,
// early or after the due date, and the registry keeps the running total and the status.
import { expect } from "chai";
import { network } from "hardhat";
import { DAY, deployWorld, MILLION, type TierlineWorld } from "../helpers/fixture.js";
import { registerReceivable } from "../helpers/lifecycle.js";
import { escrowBooks } from "../helpers/custom-token-world.js";
import { ReceivableStatus } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const ACTIVE = ReceivableStatus.active;
const OVERDUE = ReceivableStatus.overdue;
const DEFAULTED = ReceivableStatus.defaulted;
const REPAID = ReceivableStatus.repaid;
const FACE = 1_000n * MILLION;

async function world(): Promise<TierlineWorld> {
  return deployWorld(ethers);
}

async function withReceivable() {
  const w = await networkHelpers.loadFixture(world);
  const registered = await registerReceivable(w, FACE);
  return { w, ...registered };
}

describe("repay", function () {
  describe("when the debtor pays the face value in one payment", function () {
    it("records it, marks the receivable Repaid and holds the money in escrow", async function () {
      const { w, receivableId } = await withReceivable();
      const debtorBefore = await w.token.balanceOf(w.debtor.address);

      const tx = w.escrow.connect(w.debtor).repay(receivableId, FACE);

      await expect(tx).to.emit(w.escrow, "RepaymentReceived").withArgs(receivableId, w.debtor.address, FACE, FACE);
      await expect(tx).to.emit(w.registry, "RepaymentRecorded").withArgs(receivableId, FACE, FACE);
      await expect(tx).to.emit(w.registry, "ReceivableStatusChanged").withArgs(receivableId, REPAID);
      const receivable = await w.registry.receivableOf(receivableId);
      expect(receivable.status).to.equal(REPAID);
      expect(receivable.repaidAmount).to.equal(FACE);
      expect(debtorBefore - (await w.token.balanceOf(w.debtor.address))).to.equal(FACE);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(FACE);
      const books = await escrowBooks(w, [receivableId]);
      expect(books.balance).to.equal(books.expected);
    });
  });

  describe("when the debtor pays in several parts", function () {
    it("adds up each payment, reports the running total and closes the receivable on the last one", async function () {
      const { w, receivableId } = await withReceivable();
      const parts = [100n * MILLION, 250n * MILLION + 7n, 650n * MILLION - 7n];
      const totals = [100n * MILLION, 350n * MILLION + 7n, FACE];

      for (let i = 0; i < 2; i++) {
        const tx = w.escrow.connect(w.debtor).repay(receivableId, parts[i]!);
        await expect(tx)
          .to.emit(w.escrow, "RepaymentReceived")
          .withArgs(receivableId, w.debtor.address, parts[i]!, totals[i]!);
        await expect(tx).to.emit(w.registry, "RepaymentRecorded").withArgs(receivableId, parts[i]!, totals[i]!);
        await expect(tx).not.to.emit(w.registry, "ReceivableStatusChanged");
        expect(await w.registry.statusOf(receivableId)).to.equal(ACTIVE);
        expect((await w.registry.receivableOf(receivableId)).repaidAmount).to.equal(totals[i]!);
      }

      const last = w.escrow.connect(w.debtor).repay(receivableId, parts[2]!);
      await expect(last)
        .to.emit(w.escrow, "RepaymentReceived")
        .withArgs(receivableId, w.debtor.address, parts[2]!, FACE);
      await expect(last).to.emit(w.registry, "ReceivableStatusChanged").withArgs(receivableId, REPAID);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(FACE);
    });
  });

  describe("when the debtor pays before the due date", function () {
    it("accepts the early payment and closes the receivable at once", async function () {
      const { w, receivableId, terms } = await withReceivable();
      await w.escrow.connect(w.debtor).repay(receivableId, FACE);

      expect(BigInt(await time.latest())).to.be.lessThan(terms.dueDate);
      expect(await w.registry.statusOf(receivableId)).to.equal(REPAID);
    });
  });

  describe("when a third party pays for the debtor", function () {
    it("credits the receivable and takes the money from the payer, not the debtor", async function () {
      const { w, receivableId } = await withReceivable();
      const amount = 400n * MILLION;
      await w.token.connect(w.operator).mint(w.outsider.address, amount);
      await w.token.connect(w.outsider).approve(await w.escrow.getAddress(), amount);
      const debtorBefore = await w.token.balanceOf(w.debtor.address);

      await expect(w.escrow.connect(w.outsider).repay(receivableId, amount))
        .to.emit(w.escrow, "RepaymentReceived")
        .withArgs(receivableId, w.outsider.address, amount, amount);

      expect(await w.token.balanceOf(w.outsider.address)).to.equal(0n);
      expect(await w.token.balanceOf(w.debtor.address)).to.equal(debtorBefore);
      expect((await w.registry.receivableOf(receivableId)).repaidAmount).to.equal(amount);
    });
  });

  describe("when the receivable is overdue", function () {
    it("accepts a partial repayment and leaves it Overdue", async function () {
      const { w, receivableId, terms } = await withReceivable();
      await time.increaseTo(terms.dueDate + 1n);
      await w.registry.markOverdue(receivableId);

      const amount = 300n * MILLION;
      await expect(w.escrow.connect(w.debtor).repay(receivableId, amount))
        .to.emit(w.escrow, "RepaymentReceived")
        .withArgs(receivableId, w.debtor.address, amount, amount);

      const receivable = await w.registry.receivableOf(receivableId);
      expect(receivable.status).to.equal(OVERDUE);
      expect(receivable.repaidAmount).to.equal(amount);
    });

    it("marks it Repaid when the rest is paid", async function () {
      const { w, receivableId, terms } = await withReceivable();
      await time.increaseTo(terms.dueDate + 1n);
      await w.registry.markOverdue(receivableId);
      await w.escrow.connect(w.debtor).repay(receivableId, 300n * MILLION);

      await expect(w.escrow.connect(w.debtor).repay(receivableId, 700n * MILLION))
        .to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(receivableId, REPAID);
    });
  });

  describe("when the amount is zero", function () {
    it("refuses it", async function () {
      const { w, receivableId } = await withReceivable();
      await expect(w.escrow.connect(w.debtor).repay(receivableId, 0n)).to.be.revertedWithCustomError(
        w.escrow,
        "SettlementZeroAmount",
      );
    });
  });

  describe("when the payment is more than what is outstanding", function () {
    it("refuses more than the face value, naming the amount and the outstanding balance", async function () {
      const { w, receivableId } = await withReceivable();
      await expect(w.escrow.connect(w.debtor).repay(receivableId, FACE + 1n))
        .to.be.revertedWithCustomError(w.registry, "RepaymentExceedsOutstanding")
        .withArgs(receivableId, FACE + 1n, FACE);
    });

    it("refuses more than the rest after a partial payment, and keeps the partial payment", async function () {
      const { w, receivableId } = await withReceivable();
      await w.escrow.connect(w.debtor).repay(receivableId, 400n * MILLION);

      await expect(w.escrow.connect(w.debtor).repay(receivableId, 600n * MILLION + 1n))
        .to.be.revertedWithCustomError(w.registry, "RepaymentExceedsOutstanding")
        .withArgs(receivableId, 600n * MILLION + 1n, 600n * MILLION);
      expect((await w.registry.receivableOf(receivableId)).repaidAmount).to.equal(400n * MILLION);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(400n * MILLION);
    });
  });

  describe("when the receivable is already repaid", function () {
    it("refuses any further payment", async function () {
      const { w, receivableId } = await withReceivable();
      await w.escrow.connect(w.debtor).repay(receivableId, FACE);

      await expect(w.escrow.connect(w.debtor).repay(receivableId, 1n))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(receivableId, REPAID);
    });
  });

  describe("when the receivable has defaulted", function () {
    // Deliberately changed (trust model, item 5): late payment after default is accepted.
    it("takes a late payment and keeps it on the receivable's books", async function () {
      const { w, receivableId, terms } = await withReceivable();
      await w.escrow.connect(w.debtor).repay(receivableId, 100n * MILLION);
      await time.increaseTo(terms.dueDate + (await w.registry.gracePeriod()) + 1n);
      await w.registry.markDefaulted(receivableId);

      await expect(w.escrow.connect(w.debtor).repay(receivableId, 100n * MILLION))
        .to.emit(w.escrow, "RepaymentReceived")
        .withArgs(receivableId, w.debtor.address, 100n * MILLION, 200n * MILLION);
      expect((await w.registry.receivableOf(receivableId)).repaidAmount).to.equal(200n * MILLION);
      expect(await w.registry.statusOf(receivableId)).to.equal(DEFAULTED);
    });
  });

  describe("when the receivable does not exist", function () {
    it("refuses the payment", async function () {
      const w = await networkHelpers.loadFixture(world);
      const unknown = ethers.id("no such receivable");
      await expect(w.escrow.connect(w.debtor).repay(unknown, MILLION))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotFound")
        .withArgs(unknown);
    });
  });

  describe("when the payer has not approved the escrow", function () {
    it("refuses the payment and records nothing", async function () {
      const { w, receivableId } = await withReceivable();
      await w.token.connect(w.operator).mint(w.outsider.address, MILLION);
      const escrowAddress = await w.escrow.getAddress();

      await expect(w.escrow.connect(w.outsider).repay(receivableId, MILLION))
        .to.be.revertedWithCustomError(w.token, "ERC20InsufficientAllowance")
        .withArgs(escrowAddress, 0n, MILLION);
      expect((await w.registry.receivableOf(receivableId)).repaidAmount).to.equal(0n);
    });
  });

  describe("when someone other than the escrow records a repayment", function () {
    it("refuses it", async function () {
      const { w, receivableId } = await withReceivable();
      await expect(w.registry.connect(w.debtor).recordRepayment(receivableId, FACE))
        .to.be.revertedWithCustomError(w.registry, "CallerNotEscrow")
        .withArgs(w.debtor.address);
    });
  });

  describe("when the receivable is paid late but within grace", function () {
    it("still takes the payment while it is only Active past its due date", async function () {
      const { w, receivableId, terms } = await withReceivable();
      await time.increaseTo(terms.dueDate + 10n * DAY);
      expect(await w.registry.statusOf(receivableId)).to.equal(ACTIVE);

      await w.escrow.connect(w.debtor).repay(receivableId, FACE);
      expect(await w.registry.statusOf(receivableId)).to.equal(REPAID);
    });
  });
});
