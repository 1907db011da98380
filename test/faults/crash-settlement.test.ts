// Settlement under a crash: the keeper of the service (a real child process) dies by
// SIGKILL right after broadcasting a settle transaction, or between two settle batches of
// a receivable split into 60 leaves (the escrow takes at most 50 per call), and the
// service is started again. Every leaf is paid exactly once (one LeafSettled per leaf on
// the chain), every holder's balance grew by exactly its share, and the index equals the
// chain.
import { expect } from "chai";
import { FaultWorld, eventually, sleep, type CastRole } from "./child-service.js";
import { registerReceivable, split, statusOnChain, type Part } from "./flows.js";

const FACE = 100_000_000n;
const HOLDERS: CastRole[] = ["tier1", "tier2", "tier3"];

describe("Faults: a crash while the keeper settles", function () {
  this.timeout(240_000);
  let world: FaultWorld;

  const holderBalances = async () =>
    Object.fromEntries(
      await Promise.all(HOLDERS.map(async (h) => [h, await world.balanceOf(world.party(h).address)] as const)),
    );

  /** Every leaf of `receivableId` with what it should be paid: its face value (the debt is repaid in full). */
  const leavesOf = async (receivableId: string) => {
    const { certificates } = world.contracts;
    const issued = await world.chainEvents(certificates, "CertificateIssued", null, receivableId);
    const retired = new Set(
      (await world.chainEvents(certificates, "CertificateSplit")).map((e) => String(e.args.parentId)),
    );
    return issued
      .filter((e) => !retired.has(String(e.args.certificateId)))
      .map((e) => ({
        id: String(e.args.certificateId),
        holder: String(e.args.holder),
        face: BigInt(e.args.faceValue),
      }));
  };

  /** Repays in full through the API with the keeper armed to crash at `point`, then restarts and waits for every leaf to be paid. */
  const repayThroughACrash = async (receivableId: string, point: string) => {
    await world.crashDuring(
      point,
      () => world.as("debtor").post(`/v1/receivables/${receivableId}/repayments`, { amount: FACE.toString() }),
      { requestDropped: false },
    );
    const leaves = await leavesOf(receivableId);
    const settledAtTheCrash = (await world.chainEvents(world.contracts.escrow, "LeafSettled", receivableId)).length;
    await world.start();
    await eventually(
      "every leaf paid",
      async () =>
        (await world.chainEvents(world.contracts.escrow, "LeafSettled", receivableId)).length >= leaves.length
          ? true
          : undefined,
      60_000,
    );
    // A few more keeper passes: none of them may pay anything again.
    await sleep(1_000);
    return { leaves, settledAtTheCrash };
  };

  /** One LeafSettled per leaf, each paying the leaf's face value to its holder; the holders' gains add up per party. */
  const expectEveryLeafPaidOnce = async (
    receivableId: string,
    leaves: Array<{ id: string; holder: string; face: bigint }>,
    start: Record<string, bigint>,
  ) => {
    const settled = await world.chainEvents(world.contracts.escrow, "LeafSettled", receivableId);
    expect(settled.map((e) => String(e.args.certificateId)).sort()).to.deep.equal(leaves.map((l) => l.id).sort());
    for (const leaf of leaves) {
      const event = settled.find((e) => String(e.args.certificateId) === leaf.id)!;
      expect({ holder: String(event.args.holder), toHolder: BigInt(event.args.toHolder) }).to.deep.equal({
        holder: leaf.holder,
        toHolder: leaf.face,
      });
    }
    const after = await holderBalances();
    const gained = Object.fromEntries(HOLDERS.map((h) => [h, after[h]! - start[h]!]));
    const owed = Object.fromEntries(
      HOLDERS.map((h) => [
        h,
        leaves.filter((l) => l.holder === world.party(h).address).reduce((s, l) => s + l.face, 0n),
      ]),
    );
    expect(gained).to.deep.equal(owed);
    expect(await statusOnChain(world, receivableId)).to.equal(4); // Repaid
    expect(BigInt(await world.contracts.escrow.getFunction("distributedOf")(receivableId))).to.equal(FACE);
  };

  before(async function () {
    // 60 leaves of one small receivable need pieces below the default minimum piece size (1.00).
    world = await FaultWorld.create({ TIERLINE_MIN_PIECE_SIZE: "1" });
  });
  after(async function () {
    await world?.close();
  });

  describe("when the service is killed at tx-sent:keeper.settle, right after the keeper broadcasts a settlement", function () {
    let receivableId: string;
    let leaves: Array<{ id: string; holder: string; face: bigint }>;
    let start: Record<string, bigint>;
    let settledAtTheCrash: number;

    before(async function () {
      let rootId: string;
      ({ id: receivableId, rootId } = await registerReceivable(world, "tier1", "debtor"));
      const [toTier2] = await split(world, "tier1", rootId, [
        { to: "tier2", amount: 60_000_000n },
        { to: "tier1", amount: 40_000_000n },
      ]);
      await split(world, "tier2", toTier2!, [
        { to: "tier3", amount: 25_000_000n },
        { to: "tier2", amount: 35_000_000n },
      ]);
      start = await holderBalances();
      ({ leaves, settledAtTheCrash } = await repayThroughACrash(receivableId, "tx-sent:keeper.settle"));
    });

    it("had paid the three leaves in the transaction it sent before dying", async function () {
      expect(leaves).to.have.length(3);
      expect(settledAtTheCrash).to.equal(3);
    });

    it("pays every leaf exactly once, each holder exactly its share", async function () {
      await expectEveryLeafPaidOnce(receivableId, leaves, start);
    });

    it("serves every leaf as settled and paid out", async function () {
      for (const leaf of leaves) {
        const served = await world.as("tier1").get(`/v1/certificates/${leaf.id}`);
        expect({ state: served.body.state, paidOut: served.body.paidOut }).to.deep.equal({
          state: "settled",
          paidOut: leaf.face.toString(),
        });
      }
    });

    it("keeps an index that equals the chain (the auditor's verification)", async function () {
      await world.auditMatches(receivableId);
    });
  });

  describe("when the service is killed at keeper:between-batches while settling 60 leaves", function () {
    let receivableId: string;
    let leaves: Array<{ id: string; holder: string; face: bigint }>;
    let start: Record<string, bigint>;
    let settledAtTheCrash: number;

    before(async function () {
      let rootId: string;
      ({ id: receivableId, rootId } = await registerReceivable(world, "tier1", "debtor"));
      // 31 pieces of 3,000,000 around the three tiers, and one of 7,000,000 split again in 29: 60 leaves.
      const first: Part[] = [
        ...Array.from({ length: 31 }, (_, i): Part => ({ to: HOLDERS[i % 3]!, amount: 3_000_000n })),
        { to: "tier1", amount: 7_000_000n },
      ];
      const children = await split(world, "tier1", rootId, first);
      const second: Part[] = [
        ...Array.from({ length: 28 }, (_, i): Part => ({ to: HOLDERS[i % 3]!, amount: 240_000n })),
        { to: "tier1", amount: 280_000n },
      ];
      await split(world, "tier1", children[31]!, second);
      start = await holderBalances();
      ({ leaves, settledAtTheCrash } = await repayThroughACrash(receivableId, "keeper:between-batches"));
    });

    it("had paid the first batch of 50 before dying, and no more", async function () {
      expect(leaves).to.have.length(60);
      expect(settledAtTheCrash).to.equal(50);
    });

    it("pays every leaf exactly once after the restart, each holder exactly its share", async function () {
      await expectEveryLeafPaidOnce(receivableId, leaves, start);
    });

    it("needed two settle transactions in all: the batch before the crash and the rest after", async function () {
      const settled = await world.chainEvents(world.contracts.escrow, "LeafSettled", receivableId);
      const perTransaction = new Map<string, number>();
      for (const e of settled) perTransaction.set(e.transactionHash, (perTransaction.get(e.transactionHash) ?? 0) + 1);
      expect([...perTransaction.values()]).to.deep.equal([50, 10]);
    });

    it("keeps an index that equals the chain (the auditor's verification)", async function () {
      await world.auditMatches(receivableId);
    });
  });
});
