// markOverdue / markDefaulted: anyone may tell the chain a receivable is late, but only
// once it really is; repayment is recorded by the escrow alone.
import { expect } from "chai";
import { network } from "hardhat";
import { asAdmin, DAY, deployWorld, MILLION } from "../helpers/fixture.js";
import { registerReceivable } from "../helpers/lifecycle.js";
import { ReceivableStatus } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const FACE = 1_000n * MILLION;
const DEFAULT_GRACE = 30n * DAY;
const STATUS = {
  None: ReceivableStatus.none,
  Active: ReceivableStatus.active,
  Overdue: ReceivableStatus.overdue,
  Defaulted: ReceivableStatus.defaulted,
  Repaid: ReceivableStatus.repaid,
};

/** The world with one Active receivable of 1,000 tUSD from tier1 on the debtor, due in 90 days. */
async function registeredWorld() {
  const w = await deployWorld(ethers);
  const registered = await registerReceivable(w, FACE, { tenor: 90n * DAY });
  return { w, id: registered.receivableId, dueDate: registered.terms.dueDate };
}

describe("overdue and default", function () {
  describe("when the receivable is not yet past its due date", function () {
    it("refuses to mark it overdue at the due date itself, naming due date + 1 as the earliest time", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(registeredWorld);
      await time.setNextBlockTimestamp(dueDate);
      await expect(w.registry.markOverdue(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotYetDue")
        .withArgs(id, dueDate + 1n, dueDate);
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Active);
    });

    it("refuses to mark it overdue well before the due date", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(registeredWorld);
      const at = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(at);
      await expect(w.registry.markOverdue(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotYetDue")
        .withArgs(id, dueDate + 1n, at);
    });
  });

  describe("when the due date has passed", function () {
    it("lets anyone mark it overdue one second later and emits ReceivableStatusChanged", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(registeredWorld);
      await time.setNextBlockTimestamp(dueDate + 1n);
      await expect(w.registry.connect(w.outsider).markOverdue(id))
        .to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(id, STATUS.Overdue);
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Overdue);
      expect((await w.registry.receivableOf(id)).status).to.equal(STATUS.Overdue);
    });

    it("refuses to mark it overdue twice", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(registeredWorld);
      await time.increaseTo(dueDate + 1n);
      await w.registry.markOverdue(id);
      await expect(w.registry.markOverdue(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(id, STATUS.Overdue);
    });

    it("refuses to default it before the grace period ends, naming due date + grace + 1", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(registeredWorld);
      expect(await w.registry.gracePeriod()).to.equal(DEFAULT_GRACE);
      await time.increaseTo(dueDate + 1n);
      await w.registry.markOverdue(id);

      await time.setNextBlockTimestamp(dueDate + DEFAULT_GRACE);
      await expect(w.registry.markDefaulted(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotYetDue")
        .withArgs(id, dueDate + DEFAULT_GRACE + 1n, dueDate + DEFAULT_GRACE);
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Overdue);
    });

    it("lets anyone default an overdue receivable once the grace period has passed", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(registeredWorld);
      await time.increaseTo(dueDate + 1n);
      await w.registry.markOverdue(id);
      await time.setNextBlockTimestamp(dueDate + DEFAULT_GRACE + 1n);
      await expect(w.registry.connect(w.financier).markDefaulted(id))
        .to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(id, STATUS.Defaulted);
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Defaulted);
    });

    it("lets anyone default an Active receivable directly, without marking it overdue first", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(registeredWorld);
      await time.setNextBlockTimestamp(dueDate + DEFAULT_GRACE + 1n);
      await expect(w.registry.connect(w.outsider).markDefaulted(id))
        .to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(id, STATUS.Defaulted);
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Defaulted);
    });

    it("refuses to default it before its due date even with no grace period", async function () {
      const { w } = await networkHelpers.loadFixture(registeredWorld);
      await asAdmin(w, w.registry, "setGracePeriod", [0n]);
      // The grace period is frozen at registration: only a receivable registered now has none.
      const { receivableId: id, terms } = await registerReceivable(w, FACE);
      const dueDate = terms.dueDate;
      expect((await w.registry.receivableOf(id)).gracePeriod).to.equal(0n);
      await time.setNextBlockTimestamp(dueDate);
      await expect(w.registry.markDefaulted(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotYetDue")
        .withArgs(id, dueDate + 1n, dueDate);
    });
  });

  describe("when the receivable is defaulted", function () {
    async function defaultedWorld() {
      const world = await registeredWorld();
      await time.increaseTo(world.dueDate + DEFAULT_GRACE + 1n);
      await world.w.registry.markDefaulted(world.id);
      return world;
    }

    it("refuses to default it again", async function () {
      const { w, id } = await networkHelpers.loadFixture(defaultedWorld);
      await expect(w.registry.markDefaulted(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(id, STATUS.Defaulted);
    });

    it("refuses to mark it overdue", async function () {
      const { w, id } = await networkHelpers.loadFixture(defaultedWorld);
      await expect(w.registry.markOverdue(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(id, STATUS.Defaulted);
    });

    // Deliberately changed (trust model, item 5): a debtor that pays late after default still
    // pays the holders; the receivable then closes as Repaid.
    it("accepts a late repayment, and is Repaid once paid in full", async function () {
      const { w, id } = await networkHelpers.loadFixture(defaultedWorld);
      await expect(w.escrow.connect(w.debtor).repay(id, 400n * MILLION))
        .to.emit(w.registry, "RepaymentRecorded")
        .withArgs(id, 400n * MILLION, 400n * MILLION)
        .and.not.to.emit(w.registry, "ReceivableStatusChanged");
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Defaulted);
      await expect(w.escrow.connect(w.debtor).repay(id, 600n * MILLION))
        .to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(id, STATUS.Repaid);
      await expect(w.escrow.connect(w.debtor).repay(id, 1n))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(id, STATUS.Repaid);
    });
  });

  describe("when the receivable was repaid in full", function () {
    async function repaidWorld() {
      const world = await registeredWorld();
      await world.w.escrow.connect(world.w.debtor).repay(world.id, FACE);
      return world;
    }

    it("is Repaid, recorded through the escrow with RepaymentRecorded and ReceivableStatusChanged", async function () {
      const { w, id } = await networkHelpers.loadFixture(registeredWorld);
      await expect(w.escrow.connect(w.debtor).repay(id, FACE))
        .to.emit(w.registry, "RepaymentRecorded")
        .withArgs(id, FACE, FACE)
        .and.to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(id, STATUS.Repaid);
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Repaid);
      expect((await w.registry.receivableOf(id)).repaidAmount).to.equal(FACE);
    });

    it("refuses to default it, even long after due date and grace", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(repaidWorld);
      await time.increaseTo(dueDate + DEFAULT_GRACE + 365n * DAY);
      await expect(w.registry.markDefaulted(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(id, STATUS.Repaid);
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Repaid);
    });

    it("refuses to mark it overdue", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(repaidWorld);
      await time.increaseTo(dueDate + 1n);
      await expect(w.registry.markOverdue(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(id, STATUS.Repaid);
    });

    it("refuses more money than the face value", async function () {
      const { w, id } = await networkHelpers.loadFixture(registeredWorld);
      await w.escrow.connect(w.debtor).repay(id, FACE - 1n);
      await expect(w.escrow.connect(w.debtor).repay(id, 2n))
        .to.be.revertedWithCustomError(w.registry, "RepaymentExceedsOutstanding")
        .withArgs(id, 2n, 1n);
    });
  });

  describe("when the receivable is repaid in part or late", function () {
    it("stays Active after a partial repayment and can still become overdue", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(registeredWorld);
      await expect(w.escrow.connect(w.debtor).repay(id, 400n * MILLION))
        .to.emit(w.registry, "RepaymentRecorded")
        .withArgs(id, 400n * MILLION, 400n * MILLION)
        .and.not.to.emit(w.registry, "ReceivableStatusChanged");
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Active);
      await time.increaseTo(dueDate + 1n);
      await expect(w.registry.markOverdue(id))
        .to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(id, STATUS.Overdue);
    });

    it("becomes Repaid when an overdue receivable is paid in full", async function () {
      const { w, id, dueDate } = await networkHelpers.loadFixture(registeredWorld);
      await time.increaseTo(dueDate + 1n);
      await w.registry.markOverdue(id);
      await expect(w.escrow.connect(w.debtor).repay(id, FACE))
        .to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(id, STATUS.Repaid);
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Repaid);
    });
  });

  describe("when the receivable does not exist", function () {
    it("refuses to mark it overdue", async function () {
      const { w } = await networkHelpers.loadFixture(registeredWorld);
      const unknown = ethers.id("no such receivable");
      await expect(w.registry.markOverdue(unknown))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotFound")
        .withArgs(unknown);
    });

    it("refuses to mark it defaulted", async function () {
      const { w } = await networkHelpers.loadFixture(registeredWorld);
      const unknown = ethers.id("no such receivable");
      await expect(w.registry.markDefaulted(unknown))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotFound")
        .withArgs(unknown);
    });

    it("refuses a repayment through the escrow", async function () {
      const { w } = await networkHelpers.loadFixture(registeredWorld);
      const unknown = ethers.id("no such receivable");
      await expect(w.escrow.connect(w.debtor).repay(unknown, 1n))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotFound")
        .withArgs(unknown);
    });
  });

  describe("when the admin changes the grace period", function () {
    it("emits GracePeriodSet and applies the new period to receivables registered afterwards", async function () {
      const { w } = await networkHelpers.loadFixture(registeredWorld);
      const grace = 7n * DAY;
      await expect(asAdmin(w, w.registry, "setGracePeriod", [grace]))
        .to.emit(w.registry, "GracePeriodSet")
        .withArgs(grace);
      expect(await w.registry.gracePeriod()).to.equal(grace);
      const { receivableId: id, terms } = await registerReceivable(w, FACE);
      const dueDate = terms.dueDate;

      await time.setNextBlockTimestamp(dueDate + grace);
      await expect(w.registry.markDefaulted(id))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotYetDue")
        .withArgs(id, dueDate + grace + 1n, dueDate + grace);
      await time.setNextBlockTimestamp(dueDate + grace + 1n);
      await expect(w.registry.markDefaulted(id))
        .to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(id, STATUS.Defaulted);
    });

    it("refuses a period above 2^32 - 1 seconds, what each receivable stores", async function () {
      const { w } = await networkHelpers.loadFixture(registeredWorld);
      const max = 2n ** 32n - 1n;
      await expect(asAdmin(w, w.registry, "setGracePeriod", [max + 1n]))
        .to.be.revertedWithCustomError(w.registry, "GracePeriodTooLong")
        .withArgs(max + 1n, max);
      await expect(asAdmin(w, w.registry, "setGracePeriod", [max]))
        .to.emit(w.registry, "GracePeriodSet")
        .withArgs(max);
    });

    it("refuses a caller without DEFAULT_ADMIN_ROLE", async function () {
      const { w } = await networkHelpers.loadFixture(registeredWorld);
      await expect(w.registry.connect(w.debtor).setGracePeriod(365n * DAY))
        .to.be.revertedWithCustomError(w.registry, "AccessControlUnauthorizedAccount")
        .withArgs(w.debtor.address, await w.registry.DEFAULT_ADMIN_ROLE());
      expect(await w.registry.gracePeriod()).to.equal(DEFAULT_GRACE);
    });
  });

  describe("when anyone but the escrow records a repayment", function () {
    it("refuses the operator", async function () {
      const { w, id } = await networkHelpers.loadFixture(registeredWorld);
      await expect(w.registry.connect(w.operator).recordRepayment(id, FACE))
        .to.be.revertedWithCustomError(w.registry, "CallerNotEscrow")
        .withArgs(w.operator.address);
      expect((await w.registry.receivableOf(id)).repaidAmount).to.equal(0n);
    });

    it("refuses the debtor itself", async function () {
      const { w, id } = await networkHelpers.loadFixture(registeredWorld);
      await expect(w.registry.connect(w.debtor).recordRepayment(id, FACE))
        .to.be.revertedWithCustomError(w.registry, "CallerNotEscrow")
        .withArgs(w.debtor.address);
      expect(await w.registry.statusOf(id)).to.equal(STATUS.Active);
    });
  });
});
