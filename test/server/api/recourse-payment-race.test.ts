// One guarantor pays several recourse claims at once (issue 16). Each payment approves the
// recourse ledger for exactly its claim, then pays; the ERC-20 allowance is one number per owner
// and spender, so a second payment's approval landing between the first's approval and its
// payment overwrites it, and one of the payments fails (or spends the other's allowance).
// server/domain/recourse.ts runs each payment under withLock(recoursePaymentLock(guarantor)).
//
// So that the race does not depend on timing, the test holds each of the guarantor's
// approvals, once mined, until either every payment has approved (what happens without the
// lock: all the approvals stand before any payment) or another payment waits for the lock
// behind it (what the lock does). With the lock every claim is paid exactly once, with exact
// balances; with withLock replaced by a direct call the same test fails (see the report).
import { expect } from "chai";
import type { TransactionRequest } from "ethers";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient, type ApiResponse } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import {
  advanceChainTime,
  balancesOf,
  chainTime,
  deltas,
  mint,
  registeredReceivable,
  senderOf,
  type RegisteredReceivable,
} from "../repayment-scenario.js";
import { lockWaiters } from "../../../server/store/locks.js";
import { recoursePaymentLock } from "../../../server/domain/recourse.js";
import type { TxSender } from "../../../server/chain/tx-sender.js";

/** The root (100M) split among three holders: three default claims of different amounts on the seller. */
const SHARES = { tier2: 50_000_000n, tier3: 30_000_000n, tier4: 20_000_000n } as const;
type Holder = keyof typeof SHARES;
const HOLDERS = Object.keys(SHARES) as Holder[];

/** Polls `done` until it holds; fails (rather than hangs) if it never does. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let polls = 0; !done(); polls++) {
    if (polls > 3_000) throw new Error(`never released: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("API: one guarantor pays several recourse claims at once", function () {
  this.timeout(180_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let holders: Record<Holder, TestParty>;
  let receivable: RegisteredReceivable;
  const pieces = {} as Record<Holder, string>;
  const claims = {} as Record<Holder, string>;

  /**
   * Holds each of the seller's claim approvals (not the resets to 0) once mined, until all
   * `payments` have approved or another payment waits for the seller's payment lock. Answers
   * the order in which the approvals were mined and a function that removes the hold.
   */
  function holdApprovals(sender: TxSender, payments: number) {
    const { ctx } = t.service;
    const lock = recoursePaymentLock(sender.address);
    const approvedAmounts: bigint[] = [];
    /** Why each hold ended: another payment waited for the lock, or every payment had approved. */
    const releases: Array<"another payment waits" | "all approved"> = [];
    const send = sender.send.bind(sender);
    sender.send = async (request: TransactionRequest, options) => {
      const receipt = await send(request, options);
      const amount =
        options.kind === "approveRecourseClaim"
          ? (ctx.chain.contracts.token.interface.decodeFunctionData("approve", request.data!)[1] as bigint)
          : 0n;
      if (amount > 0n) {
        approvedAmounts.push(amount);
        await until(
          () => approvedAmounts.length >= payments || lockWaiters(ctx.db, lock) > 0,
          `approval of ${amount} (${approvedAmounts.length} of ${payments} approved)`,
        );
        releases.push(lockWaiters(ctx.db, lock) > 0 ? "another payment waits" : "all approved");
      }
      return receipt;
    };
    return { approvedAmounts, releases, release: () => Reflect.deleteProperty(sender, "send") };
  }

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    const debtor = await createTestParty(operator, ["debtor"]);
    holders = {
      tier2: await createTestParty(operator, ["supplier"]),
      tier3: await createTestParty(operator, ["financier"]),
      tier4: await createTestParty(operator, ["supplier"]),
    };
    await mint(t, seller.address, 100_000_000n);
    receivable = await registeredReceivable(api, seller, debtor);
    // The seller endorses the root with recourse, then passes all of it down in three pieces.
    const granted = await api.as(seller.apiKey).post(`/v1/certificates/${receivable.rootId}/recourse`);
    expect(granted.status, JSON.stringify(granted.body)).to.equal(200);
    const split = await api.as(seller.apiKey).post(`/v1/certificates/${receivable.rootId}/split`, {
      parts: HOLDERS.map((h) => ({ toPartyId: holders[h].id, amount: SHARES[h].toString() })),
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    for (const h of HOLDERS)
      pieces[h] = split.body.children.find((c: { holderPartyId: string }) => c.holderPartyId === holders[h].id).id;
    // The receivable defaults; each holder claims on its nearest endorser, the seller.
    const grace = Number(await t.service.ctx.chain.contracts.registry.getFunction("gracePeriod")());
    await advanceChainTime(t, receivable.dueDate + grace - (await chainTime(t)) + 60);
    expect((await t.service.keeper.runOnce()).markedDefaulted).to.be.at.least(1);
    for (const h of HOLDERS) {
      const opened = await api
        .as(holders[h].apiKey)
        .post(`/v1/certificates/${pieces[h]}/recourse-claims`, { kind: "default" });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(200);
      expect(opened.body.claim).to.include({ guarantor: seller.address, amount: SHARES[h].toString() });
      claims[h] = opened.body.claim.id;
    }
  });
  after(async function () {
    await t?.close();
  });

  describe("when the seller pays its three claims in three requests at once", function () {
    let answers: ApiResponse[];
    let balancesBefore: Record<string, bigint>;
    let approvedAmounts: bigint[];
    let releases: string[];

    before(async function () {
      const addresses = { seller: seller.address, ...Object.fromEntries(HOLDERS.map((h) => [h, holders[h].address])) };
      balancesBefore = await balancesOf(t, addresses);
      const hold = holdApprovals(await senderOf(t, seller), HOLDERS.length);
      ({ approvedAmounts, releases } = hold);
      try {
        answers = await Promise.all(
          HOLDERS.map((h) => api.as(seller.apiKey).post(`/v1/recourse-claims/${claims[h]}/pay`)),
        );
      } finally {
        hold.release();
      }
    });

    it("answers every payment with 200, the claim paid, and one approval then one payment", async function () {
      HOLDERS.forEach((h, i) => {
        const answer = answers[i]!;
        expect(answer.status, `${h}: ${JSON.stringify(answer.body)}`).to.equal(200);
        expect(answer.body.claim).to.include({ id: claims[h], status: "paid", amount: SHARES[h].toString() });
        expect(answer.body.transactions.map((x: { kind: string }) => x.kind)).to.deep.equal([
          "approveRecourseClaim",
          "payRecourseClaim",
        ]);
      });
    });

    it("approved each claim's amount once, each while the payments still to come waited for the lock", async function () {
      expect([...approvedAmounts].sort((a, b) => (a < b ? -1 : 1))).to.deep.equal(
        Object.values(SHARES).sort((a, b) => (a < b ? -1 : 1)),
      );
      // The three requests overlapped: behind the first approval two payments waited, behind the
      // second one; the last approved with no one left to wait.
      expect(releases).to.deep.equal(["another payment waits", "another payment waits", "all approved"]);
    });

    it("moves exactly each claim's amount from the seller to its creditor, and each leaf to the seller", async function () {
      const after = await balancesOf(t, {
        seller: seller.address,
        ...Object.fromEntries(HOLDERS.map((h) => [h, holders[h].address])),
      });
      expect(deltas(balancesBefore, after)).to.deep.equal({
        seller: -(SHARES.tier2 + SHARES.tier3 + SHARES.tier4),
        tier2: SHARES.tier2,
        tier3: SHARES.tier3,
        tier4: SHARES.tier4,
      });
      const { certificates, token } = t.service.ctx.chain.contracts;
      for (const h of HOLDERS)
        expect(String(await certificates.getFunction("ownerOf")(pieces[h])), h).to.equal(seller.address);
      const recourseLedger = t.service.ctx.chain.deployment.addresses.recourseLedger!;
      expect(await token.getFunction("allowance")(seller.address, recourseLedger)).to.equal(0n);
    });

    it("pays each claim exactly once on the chain, and the index agrees", async function () {
      const ledger = t.service.ctx.chain.contracts.recourse!;
      const paid = await ledger.queryFilter(ledger.filters.RecourseClaimPaid());
      const byClaim = paid.map((e) => [e.args.claimId.toString(), e.args.payer, e.args.amount]);
      expect(byClaim.sort()).to.deep.equal(HOLDERS.map((h) => [claims[h], seller.address, SHARES[h]]).sort());
      const indexed = await t.service.ctx.db
        .selectFrom("onchain_recourse_claims")
        .select(["id", "status", "paid_by"])
        .where(
          "id",
          "in",
          HOLDERS.map((h) => claims[h]),
        )
        .execute();
      expect(indexed.map((r) => [r.status, r.paid_by])).to.deep.equal(HOLDERS.map(() => ["paid", seller.address]));
    });
  });
});
