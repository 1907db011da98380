// Repayment under a crash: the service (a real child process) dies by SIGKILL after the
// debtor's approval, after the repay transaction, or while the indexer writes it, and is
// started again. The debtor pays once — a retry with the same Idempotency-Key answers with
// the payment already made and never pays again — and the keeper then pays the holder its
// share exactly once; the index equals the chain.
import { expect } from "chai";
import { FaultWorld, eventually, sleep } from "./child-service.js";
import { idempotencyKey, registerReceivable } from "./flows.js";

const PART = 40_000_000n; // 40% of the 100,000,000 face value

describe("Faults: a crash while the debtor repays", function () {
  this.timeout(240_000);
  let world: FaultWorld;

  const repaymentsOnChain = async (receivableId: string) =>
    await world.chainEvents(world.contracts.escrow, "RepaymentReceived", receivableId);
  const repaidOnChain = async (receivableId: string) =>
    BigInt((await world.contracts.registry.getFunction("receivableOf")(receivableId)).repaidAmount);
  const balances = async () => ({
    debtor: await world.balanceOf(world.party("debtor").address),
    holder: await world.balanceOf(world.party("tier1").address),
  });

  before(async function () {
    world = await FaultWorld.create();
  });
  after(async function () {
    await world?.close();
  });

  // The indexer's crash point fires at the first block it indexes: the approval's or the
  // repayment's, whichever it reads first. The other two points are exact.
  const cases: Array<{ point: string; paidAtTheCrash: boolean[] }> = [
    { point: "tx-sent:approve", paidAtTheCrash: [false] },
    { point: "tx-sent:repay", paidAtTheCrash: [true] },
    { point: "indexer:before-commit", paidAtTheCrash: [false, true] },
  ];
  for (const { point, paidAtTheCrash } of cases) {
    describe(`when the service is killed at ${point} during a partial repayment`, function () {
      let receivableId: string;
      let rootId: string;
      let key: Record<string, string>;
      let start: { debtor: bigint; holder: bigint };
      const repay = () =>
        world.as("debtor").post(`/v1/receivables/${receivableId}/repayments`, { amount: PART.toString() }, key);

      before(async function () {
        ({ id: receivableId, rootId } = await registerReceivable(world, "tier1", "debtor"));
        key = idempotencyKey("repay");
        start = await balances();
        await world.crashDuring(point, repay);
        await world.start();
      });

      it("finds the payment made at most once on the chain, the debtor charged exactly that", async function () {
        const repayments = await repaymentsOnChain(receivableId);
        expect(repayments.length).to.be.at.most(1);
        const paid = repayments.length === 1;
        expect(paidAtTheCrash).to.include(paid);
        expect(await repaidOnChain(receivableId)).to.equal(paid ? PART : 0n);
        expect((await balances()).debtor - start.debtor).to.equal(paid ? -PART : 0n);
      });

      it("answers a retry with the same Idempotency-Key with one payment in all, never a second", async function () {
        const retried = await repay();
        expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
        expect(retried.body.paid).to.equal(PART.toString());
        const repayments = await repaymentsOnChain(receivableId);
        expect(repayments).to.have.length(1);
        expect(retried.body.txHash).to.equal(repayments[0]!.transactionHash);
        expect(await repaidOnChain(receivableId)).to.equal(PART);
        expect((await balances()).debtor - start.debtor).to.equal(-PART);
        const replayed = await repay();
        expect(replayed.headers.get("idempotent-replayed")).to.equal("true");
        expect(await repaymentsOnChain(receivableId)).to.have.length(1);
      });

      it("has the keeper pay the holder its share exactly once", async function () {
        await eventually("the keeper's payment", async () =>
          (await world.chainEvents(world.contracts.escrow, "LeafSettled", receivableId)).length > 0 ? true : undefined,
        );
        const settled = await world.chainEvents(world.contracts.escrow, "LeafSettled", receivableId);
        expect(settled.map((e) => [String(e.args.certificateId), e.args.toHolder])).to.deep.equal([[rootId, PART]]);
        expect((await balances()).holder - start.holder).to.equal(PART);
        // The index follows the chain within an indexer pass: wait for it rather than race it.
        const served = await eventually("the index to show the payout", async () => {
          const read = await world.as("tier1").get(`/v1/certificates/${rootId}`);
          return read.body.paidOut !== "0" ? read : undefined;
        });
        expect(served.body.paidOut).to.equal(PART.toString());
      });

      it("keeps an index that equals the chain (the auditor's verification)", async function () {
        await world.auditMatches(receivableId);
      });
    });
  }

  describe("when blocks come every 5 s and the service is killed at tx-sent:repay, the payment still pending at the restart", function () {
    const BLOCK_SECONDS = 5;
    let receivableId: string;
    let key: Record<string, string>;
    let start: { debtor: bigint; holder: bigint };
    let pendingAfterTheCrash: number;
    const repay = () =>
      world.as("debtor").post(`/v1/receivables/${receivableId}/repayments`, { amount: PART.toString() }, key);

    before(async function () {
      ({ id: receivableId } = await registerReceivable(world, "tier1", "debtor"));
      key = idempotencyKey("repay-pending");
      start = await balances();
      await world.provider.send("evm_setAutomine", [false]);
      await world.provider.send("evm_setIntervalMining", [BLOCK_SECONDS]);
      await world.crashDuring("tx-sent:repay", repay);
      pendingAfterTheCrash = (await repaymentsOnChain(receivableId)).length;
      await world.start();
    });
    after(async function () {
      await world.provider.send("evm_setIntervalMining", [0]);
      await world.provider.send("evm_setAutomine", [true]);
    });

    it("died with the repayment broadcast but not yet mined", async function () {
      expect(pendingAfterTheCrash).to.equal(0);
    });

    it("answers the retry with the same Idempotency-Key with that payment once it is mined, and never pays again", async function () {
      const retried = await repay();
      expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
      // A second payment, had one been sent, would be mined by the next block.
      await sleep(BLOCK_SECONDS * 1_000 + 1_000);
      const repayments = await repaymentsOnChain(receivableId);
      expect(repayments).to.have.length(1);
      expect(retried.body.txHash).to.equal(repayments[0]!.transactionHash);
      expect(await repaidOnChain(receivableId)).to.equal(PART);
      expect((await balances()).debtor - start.debtor).to.equal(-PART);
    });

    it("keeps an index that equals the chain (the auditor's verification)", async function () {
      await world.auditMatches(receivableId);
    });
  });
  // A retry that takes the key over and then fails itself (the chain is down) must not hide the
  // first attempt's payment from the retry after it (it once did: the takeover restarted the
  // window in which the journal is searched, and the second retry paid again).
  describe("when the service is killed at tx-sent:repay and the first retry fails while the chain is down", function () {
    let receivableId: string;
    let key: Record<string, string>;
    let start: { debtor: bigint; holder: bigint };
    const repay = () =>
      world.as("debtor").post(`/v1/receivables/${receivableId}/repayments`, { amount: PART.toString() }, key);

    before(async function () {
      ({ id: receivableId } = await registerReceivable(world, "tier1", "debtor"));
      key = idempotencyKey("repay-twice-interrupted");
      start = await balances();
      await world.crashDuring("tx-sent:repay", repay);
      await world.start();
    });

    it("answers the first retry 503 while the chain is down, and keeps the key", async function () {
      await world.stopChain();
      try {
        const retry = await repay();
        expect(retry.status, JSON.stringify(retry.body)).to.equal(503);
      } finally {
        await world.startChain();
      }
    });

    it("answers the second retry from the first attempt's payment and never pays again", async function () {
      const answer = await eventually("an answer once the chain is back", async () => {
        const response = await repay();
        return response.status < 500 ? response : undefined;
      });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      const repayments = await repaymentsOnChain(receivableId);
      expect(repayments).to.have.length(1);
      expect(answer.body.txHash).to.equal(repayments[0]!.transactionHash);
      expect(await repaidOnChain(receivableId)).to.equal(PART);
      expect((await balances()).debtor).to.equal(start.debtor - PART);
    });

    it("keeps an index that equals the chain (the auditor's verification)", async function () {
      await world.auditMatches(receivableId);
    });
  });
});
