// Recourse under a crash (issue 16): the service (a real child process) dies by SIGKILL between
// the two transactions of a recourse write — after the leaf's approval and before the default
// claim is opened, after the settlement token's approval and before the claim is paid, after the
// leaf's approval and before the claim is passed up — or right after the second one, and is
// started again. A retry with the same Idempotency-Key sends neither transaction twice (one
// approval, one call on the chain), answers as an uninterrupted call would, the claim is paid
// once and every balance moved exactly once.
//
// The chain of endorsers: tier 1 registers the receivable, endorses the root and passes it to
// the financier, which endorses it too and passes it to financier 2. The receivable defaults;
// financier 2 claims on the financier (the nearest endorser), the financier pays and passes the
// claim up to tier 1, which pays in turn.
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { BaseContract } from "ethers";
import { FaultWorld, eventually, type CastRole } from "./child-service.js";
import { idempotencyKey, ownerOnChain, registerReceivable, statusOnChain } from "./flows.js";
import type { Credentials } from "../../server/seed.js";

const FACE = 100_000_000n;
const RECEIVABLE_DEFAULTED = 3;

describe("Faults: a crash between the two transactions of a recourse write", function () {
  this.timeout(360_000);
  let world: FaultWorld;
  let ledger: BaseContract;
  let ledgerAddress: string;

  const address = (role: CastRole) => world.party(role).address;
  /** ERC-721 approvals of `leafId` by `owner` to the recourse ledger, from the chain's logs. */
  const leafApprovals = (owner: CastRole, leafId: string) =>
    world.chainEvents(world.contracts.certificates, "Approval", address(owner), ledgerAddress, leafId);
  /** Settlement-token approvals of the recourse ledger by `owner`, from the chain's logs. */
  const tokenApprovals = (owner: CastRole) =>
    world.chainEvents(world.contracts.token, "Approval", address(owner), ledgerAddress);
  const claimsOpenedOn = (leafId: string) => world.chainEvents(ledger, "RecourseClaimOpened", null, leafId);
  const claimPayments = (claimId: string) => world.chainEvents(ledger, "RecourseClaimPaid", claimId);
  const allowanceOf = async (owner: CastRole) =>
    BigInt(await world.contracts.token.getFunction("allowance")(address(owner), ledgerAddress));
  const kinds = (body: { transactions: Array<{ kind: string }> }) => body.transactions.map((x) => x.kind);
  const hashes = (body: { transactions: Array<{ hash: string }> }) => body.transactions.map((x) => x.hash);

  /** Runs `request` with the service armed to die at `point` (or not at all), restarts, retries with the same key. */
  async function throughACrash(point: string | undefined, request: (key: Record<string, string>) => Promise<unknown>) {
    const key = idempotencyKey("recourse");
    if (point) {
      await world.crashDuring(point, () => request(key));
      await world.start();
    }
    return (await request(key)) as { status: number; body: any };
  }

  /** A receivable of tier 1, endorsed by tier 1 and the financier, held by financier 2. */
  async function chainOfEndorsers(): Promise<{ receivableId: string; leafId: string }> {
    const { id: receivableId, rootId } = await registerReceivable(world, "tier1", "debtor");
    const endorseAndPass = async (holder: CastRole, to: CastRole) => {
      const granted = await world.as(holder).post(`/v1/certificates/${rootId}/recourse`);
      expect(granted.status, JSON.stringify(granted.body)).to.equal(200);
      const moved = await world
        .as(holder)
        .post(`/v1/certificates/${rootId}/transfer`, { toPartyId: world.party(to).id });
      expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    };
    await endorseAndPass("tier1", "financier");
    await endorseAndPass("financier", "financier2");
    return { receivableId, leafId: rootId };
  }

  /** Moves the chain's clock past the receivables' due dates and grace, and waits for the keeper to default them. */
  async function defaultAll(receivableIds: string[]): Promise<void> {
    const now = (await world.provider.getBlock("latest"))!.timestamp;
    let past = 0;
    for (const id of receivableIds) {
      const onChain = await world.contracts.registry.getFunction("receivableOf")(id);
      past = Math.max(past, Number(onChain.dueDate) + Number(onChain.gracePeriod) - now + 60);
    }
    await world.provider.send("evm_increaseTime", [past]);
    await world.provider.send("evm_mine", []);
    for (const id of receivableIds)
      await eventually("the keeper marks the receivable defaulted", async () =>
        (await statusOnChain(world, id)) === RECEIVABLE_DEFAULTED ? true : undefined,
      );
  }

  const scenarios = [
    {
      name: "between the approval and the call",
      open: "tx-sent:approveRecourseLeaf",
      pay: "tx-sent:approveRecourseClaim",
      escalate: "tx-sent:approveRecourseLeaf",
      receivableId: "",
      leafId: "",
    },
    {
      name: "right after the call",
      open: "tx-sent:openDefaultClaim",
      pay: "tx-sent:payRecourseClaim",
      escalate: "tx-sent:escalateRecourseClaim",
      receivableId: "",
      leafId: "",
    },
  ];

  before(async function () {
    world = await FaultWorld.create();
    ledger = world.contracts.recourse!;
    ledgerAddress = String(ledger.target);
    // Tier 1 is a supplier: it is given the money to pay the claim passed up to it.
    const credentials = JSON.parse(readFileSync(path.join(world.dataDir, "credentials.json"), "utf8")) as Credentials;
    const funded = await world.api
      .as(credentials.operator.apiKey)
      .post(`/v1/parties/${world.party("tier1").id}/test-funds`, { amount: (2n * FACE).toString() });
    expect(funded.status, JSON.stringify(funded.body)).to.equal(200);
    // Registered before the clock moves (a due date must lie ahead), then defaulted together.
    for (const scenario of scenarios) Object.assign(scenario, await chainOfEndorsers());
    await defaultAll(scenarios.map((s) => s.receivableId));
  });
  after(async function () {
    await world?.close();
  });

  for (const scenario of scenarios) {
    describe(`when the service is killed ${scenario.name} of each recourse write`, function () {
      let claimId: string;
      let escalatedId: string;
      let receivableId: string;
      let leafId: string;

      before(function () {
        ({ receivableId, leafId } = scenario);
      });

      it(`opens financier 2's default claim once after a crash at ${scenario.open}: one approval, one claim`, async function () {
        const retried = await throughACrash(scenario.open, (key) =>
          world.as("financier2").post(`/v1/certificates/${leafId}/recourse-claims`, { kind: "default" }, key),
        );
        const approvals = await leafApprovals("financier2", leafId);
        const opened = await claimsOpenedOn(leafId);
        claimId = String(opened[0]?.args.claimId); // the next steps go on from the claim the chain holds
        expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
        expect(approvals, "approvals of the leaf to the ledger").to.have.length(1);
        expect(opened, "claims opened on the leaf").to.have.length(1);
        expect(retried.body.claim).to.include({
          id: claimId,
          kind: "default",
          status: "open",
          creditor: address("financier2"),
          guarantor: address("financier"),
          amount: FACE.toString(),
        });
        expect(kinds(retried.body)).to.deep.equal(["approveRecourseLeaf", "openDefaultClaim"]);
        expect(hashes(retried.body)).to.deep.equal([approvals[0]!.transactionHash, opened[0]!.transactionHash]);
      });

      it(`pays the claim once after a crash at ${scenario.pay}: one approval, one payment, balances exact`, async function () {
        const start = {
          financier: await world.balanceOf(address("financier")),
          financier2: await world.balanceOf(address("financier2")),
        };
        const approvalsBefore = (await tokenApprovals("financier")).length;
        const retried = await throughACrash(scenario.pay, (key) =>
          world.as("financier").post(`/v1/recourse-claims/${claimId}/pay`, {}, key),
        );
        expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
        const approvals = (await tokenApprovals("financier")).slice(approvalsBefore);
        const payments = await claimPayments(claimId);
        expect(approvals, "settlement-token approvals of the ledger").to.have.length(1);
        expect(BigInt(approvals[0]!.args.value)).to.equal(FACE);
        expect(payments, "payments of the claim").to.have.length(1);
        expect(retried.body.claim).to.include({ id: claimId, status: "paid" });
        expect(kinds(retried.body)).to.deep.equal(["approveRecourseClaim", "payRecourseClaim"]);
        expect(hashes(retried.body)).to.deep.equal([approvals[0]!.transactionHash, payments[0]!.transactionHash]);
        const after = {
          financier: await world.balanceOf(address("financier")),
          financier2: await world.balanceOf(address("financier2")),
        };
        expect({
          financier: after.financier - start.financier,
          financier2: after.financier2 - start.financier2,
        }).to.deep.equal({ financier: -FACE, financier2: FACE });
        expect(await allowanceOf("financier")).to.equal(0n);
        expect(await ownerOnChain(world, leafId)).to.equal(address("financier"));
      });

      it(`passes the claim up to tier 1 once after a crash at ${scenario.escalate}`, async function () {
        const retried = await throughACrash(scenario.escalate, (key) =>
          world.as("financier").post(`/v1/recourse-claims/${claimId}/escalate`, {}, key),
        );
        const approvals = await leafApprovals("financier", leafId);
        const escalations = (await claimsOpenedOn(leafId)).filter((e) => String(e.args.parentClaimId) === claimId);
        escalatedId = String(escalations[0]?.args.claimId);
        expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
        expect(approvals, "approvals of the leaf to the ledger by the financier").to.have.length(1);
        expect(escalations, "claims passed up").to.have.length(1);
        expect(retried.body.claim).to.include({
          id: escalatedId,
          status: "open",
          creditor: address("financier"),
          guarantor: address("tier1"),
          parentClaimId: claimId,
          amount: FACE.toString(),
        });
        expect(kinds(retried.body)).to.deep.equal(["approveRecourseLeaf", "escalateRecourseClaim"]);
        expect(hashes(retried.body)).to.deep.equal([approvals[0]!.transactionHash, escalations[0]!.transactionHash]);
      });

      it("ends as an uninterrupted chain would: tier 1 pays, the financier is whole, the leaf is tier 1's", async function () {
        const start = await world.balanceOf(address("financier"));
        const paid = await world.as("tier1").post(`/v1/recourse-claims/${escalatedId}/pay`, {}, idempotencyKey("pay"));
        expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
        expect((await world.balanceOf(address("financier"))) - start).to.equal(FACE);
        expect(await ownerOnChain(world, leafId)).to.equal(address("tier1"));
        expect(await claimPayments(escalatedId)).to.have.length(1);
        const claims = await world.as("financier").get(`/v1/recourse-claims?partyId=${world.party("financier").id}`);
        const mine = (claims.body.items as Array<{ id: string; status: string }>).filter((c) =>
          [claimId, escalatedId].includes(c.id),
        );
        expect(mine.map((c) => c.status)).to.deep.equal(["paid", "paid"]);
      });

      it("keeps an index that equals the chain (the auditor's verification)", async function () {
        await world.auditMatches(receivableId);
      });
    });
  }
});
