// The arbiter's dismissal of a dispute (issue 16), end to end on the local chain: the debtor
// disputes a receivable and leaves it open; the operator is refused while the debtor's review
// period runs and while a credit note is pending, then recommends dismissing it and is answered
// the timelock proposal; the governor's CLI (its key generated for the data directory, never
// loaded by the service) schedules and executes it; the index shows the dispute dismissed and
// the tree can be split again. No key the service holds can dismiss a dispute itself. The call
// names the dispute's number: a dismissal scheduled for a dispute the debtor then withdrew and
// replaced cannot close the new one.
import { expect } from "chai";
import { Wallet, ZeroHash } from "ethers";
import { startTestService, type TestService } from "../harness.js";
import { runGovernorCli, timelockHashOf, timelockStateOf } from "../../helpers/timelock.js";
import { ApiClient } from "../client.js";
import { createMatrixCast, validSubmission, type MATRIX_CAST, type TestParty } from "../scenario.js";
import { advanceChainTime } from "../repayment-scenario.js";
import { HOT_ROLES, loadOperatorKeys } from "../../../server/chain/operator-keys.js";
import { timelockAt } from "../../../server/chain/arbitration-proposal.js";
import { dismissalOf } from "../../../server/domain/dispute-dismissal.js";

/** The ledger's sellerResponsePeriod as deployed: the debtor's review period before a dismissal. */
const REVIEW_PERIOD = 7 * 24 * 3600;
const DISPUTE_DOCUMENTS = `0x${"d1".repeat(32)}`;

describe("API: a dispute dismissed by the arbiter", function () {
  this.timeout(180_000);
  let t: TestService;
  let api: ApiClient;
  /** One party per kind of caller: seller, debtor, financier, auditor, tier2Holder, outsider. */
  let cast: Record<keyof typeof MATRIX_CAST, TestParty>;
  let receivableId: string;
  let rootCertificate: string;
  let disputeId: string;
  let proposal: Record<string, unknown> & { operationId: string; data: string; timelock: string };

  const operator = () => api.as(t.operatorKey);
  const ctx = () => t.service.ctx;
  const ledger = () => ctx().chain.contracts.dilution!;
  const keys = () => loadOperatorKeys(ctx().config.dataDir, ctx().vault, {}, { generateHot: true });
  const cliEnv = () => ({ ...t.env, TIERLINE_CHAIN_PORT: new URL(t.chain.url).port });
  const recommend = (id: string, body: unknown, key = t.operatorKey, headers: Record<string, string> = {}) =>
    api.as(key).post(`/v1/receivables/${id}/disputes/dismissal`, body, headers);
  const dilution = async () => {
    const r = await api.as(cast.seller.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body as {
      disputed: boolean;
      disputes: Array<{ id: string; number: number; status: string; closedTxHash: string | null }>;
    };
  };
  const timelockState = (operationId: string) =>
    timelockStateOf(ctx().chain.deployment.addresses.timelock!, operationId, ctx().chain.provider);
  const openDispute = async () => {
    const r = await api
      .as(cast.debtor.apiKey)
      .post(`/v1/receivables/${receivableId}/disputes`, { reasonCode: "PRICE", documentHash: DISPUTE_DOCUMENTS });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body.dispute.id as string;
  };
  type ReviewItem = {
    dispute: { id: string; status: string };
    reviewableFrom: string;
    pendingCreditNoteId: string | null;
    recommendation: { disputeId: string; operationId: string } | null;
  };
  const reviewQueue = async (status = "open", key = t.operatorKey) => {
    const r = await api.as(key).get(`/v1/disputes?status=${status}`);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body.items as ReviewItem[];
  };
  const splitRoot = () =>
    api.as(cast.seller.apiKey).post(`/v1/certificates/${rootCertificate}/split`, {
      parts: [
        { toPartyId: cast.tier2Holder.id, amount: "60000000" },
        { toPartyId: cast.seller.id, amount: "40000000" },
      ],
    });

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    cast = (await createMatrixCast(operator(), t.operatorKey)).parties;
    receivableId = (await api.as(cast.seller.apiKey).post("/v1/receivables", validSubmission(cast.debtor.id))).body.id;
    const confirmed = await api.as(cast.debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    rootCertificate = confirmed.body.certificateId;
  });
  after(async function () {
    await t?.close();
  });

  describe("before any dispute is open", function () {
    it("answers 404 for a receivable that does not exist", async function () {
      const r = await recommend(`0x${"ee".repeat(32)}`, { reason: "x" });
      expect(r.status, JSON.stringify(r.body)).to.equal(404);
      expect(r.body.error.code).to.equal("NOT_FOUND");
    });

    it("refuses with 409 DISPUTE_NOT_OPEN and records nothing", async function () {
      const r = await recommend(receivableId, { reason: "nothing to dismiss" });
      expect(r.status, JSON.stringify(r.body)).to.equal(409);
      expect(r.body.error.code).to.equal("DISPUTE_NOT_OPEN");
      expect(r.body.error.details).to.deep.equal({ receivableId, lastDispute: null });
      expect(await ctx().db.selectFrom("dispute_dismissals").selectAll().execute()).to.deep.equal([]);
    });
  });

  describe("when the debtor disputes the receivable and leaves it open", function () {
    before(async function () {
      disputeId = await openDispute();
    });

    it("freezes the tree: the seller cannot split the root", async function () {
      const split = await splitRoot();
      expect(split.status).to.equal(409);
      expect(split.body.error.code).to.equal("CERTIFICATE_RECEIVABLE_DISPUTED");
    });

    it("refuses the recommendation while the debtor's review period runs (409 DISPUTE_REVIEW_PERIOD_OPEN)", async function () {
      const r = await recommend(receivableId, { reason: "the debtor never sent a credit note" });
      expect(r.status, JSON.stringify(r.body)).to.equal(409);
      expect(r.body.error.code).to.equal("DISPUTE_REVIEW_PERIOD_OPEN");
      expect(r.body.error.details).to.include({ receivableId, disputeId });
      const opened = await ctx().chain.provider.getBlock(Number(disputeId.split(":")[0]));
      expect(Date.parse(r.body.error.details.reviewableFrom) / 1000).to.equal(opened!.timestamp + REVIEW_PERIOD);
      expect(await dismissalOf(ctx(), receivableId)).to.equal(undefined);
    });

    it("lists it in the operator's and the auditor's review queue, with the end of its review period", async function () {
      const opened = await ctx().chain.provider.getBlock(Number(disputeId.split(":")[0]));
      for (const key of [t.operatorKey, cast.auditor.apiKey]) {
        const items = await reviewQueue("open", key);
        expect(items.map((i) => i.dispute.id)).to.deep.equal([disputeId]);
        expect(items[0]).to.deep.include({ pendingCreditNoteId: null, recommendation: null });
        expect(Date.parse(items[0]!.reviewableFrom) / 1000).to.equal(opened!.timestamp + REVIEW_PERIOD);
      }
      expect(await reviewQueue("dismissed")).to.deep.equal([]);
    });

    it("refuses the review queue to every caller but the operator and the auditor (403)", async function () {
      for (const party of Object.values(cast).filter((p) => p !== cast.auditor)) {
        const r = await api.as(party.apiKey).get("/v1/disputes?status=open");
        expect(r.status, party.id).to.equal(403);
      }
    });

    it("refuses every caller but the operator with 403, whatever it sends", async function () {
      for (const party of Object.values(cast)) {
        for (const body of [{ reason: "x" }, {}]) {
          const r = await recommend(receivableId, body, party.apiKey);
          expect(r.status, party.id).to.equal(403);
          expect(r.body.error.code).to.equal("FORBIDDEN");
        }
      }
      expect(await dismissalOf(ctx(), receivableId)).to.equal(undefined);
    });

    it("lets no key the service holds dismiss it: dismissDispute reverts for each hot key", async function () {
      const role = await ledger().ARBITER_ROLE();
      for (const name of HOT_ROLES) {
        const wallet = new Wallet(keys()[name], ctx().chain.provider);
        const refusal = await ledger()
          .connect(wallet)
          .dismissDispute.staticCall(receivableId, 1n)
          .then(
            () => null,
            (error: { data: string }) => ledger().interface.parseError(error.data),
          );
        expect(refusal?.name, name).to.equal("AccessControlUnauthorizedAccount");
        expect([...refusal!.args], name).to.deep.equal([wallet.address, role]);
      }
      expect(await ledger().isDisputed(receivableId)).to.equal(true);
    });
  });

  describe("once the review period has passed", function () {
    before(async function () {
      await advanceChainTime(t, REVIEW_PERIOD + 60);
    });

    it("refuses while a credit note is pending on the dispute (409 DISPUTE_HAS_PENDING_CREDIT_NOTE)", async function () {
      const proposed = await api.as(cast.debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, {
        amount: "1000000",
        reasonCode: "PRICE",
        documentHash: DISPUTE_DOCUMENTS,
        lines: [{ sku: "SKU-1", quantity: 1 }],
      });
      expect(proposed.status, JSON.stringify(proposed.body)).to.equal(200);
      const creditNoteId = proposed.body.creditNote.id as string;
      const r = await recommend(receivableId, { reason: "stale" });
      expect(r.status, JSON.stringify(r.body)).to.equal(409);
      expect(r.body.error.code).to.equal("DISPUTE_HAS_PENDING_CREDIT_NOTE");
      expect(r.body.error.details).to.deep.equal({ receivableId, disputeId, creditNoteId });
      expect((await reviewQueue())[0]!.pendingCreditNoteId).to.equal(creditNoteId);
      expect(await dismissalOf(ctx(), receivableId)).to.equal(undefined);
      // The debtor takes the note back: the dispute stays open with nothing pending.
      const withdrawn = await api.as(cast.debtor.apiKey).post(`/v1/credit-notes/${creditNoteId}/withdraw`);
      expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
      expect((await dilution()).disputed).to.equal(true);
    });

    it("refuses a recommendation with no reason or with fields of its own (400)", async function () {
      for (const body of [{ reason: "  " }, {}, { reason: "x", operationId: ZeroHash }]) {
        const r = await recommend(receivableId, body);
        expect(r.status, JSON.stringify(body)).to.equal(400);
      }
      expect(await dismissalOf(ctx(), receivableId)).to.equal(undefined);
    });

    it("records the recommendation and answers the exact timelock proposal", async function () {
      const r = await recommend(receivableId, { reason: "no credit note in 7 days" }, t.operatorKey, {
        "Idempotency-Key": "dismiss-1",
      });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      proposal = r.body.proposal;
      expect(r.body.dispute).to.include({ id: disputeId, receivableId, status: "open", reasonCode: "PRICE" });
      expect(r.body.recommendation).to.include({
        disputeId,
        receivableId,
        reason: "no credit note in 7 days",
        recommendedBy: ctx().operatorId,
        operationId: proposal.operationId,
      });
      const { timelock, target, value, predecessor, delay, state } = proposal;
      const { addresses } = ctx().chain.deployment;
      // Local chain: the timelock's minimum delay is 0; nothing is scheduled yet.
      expect([timelock, target, value, predecessor, delay, state]).to.deep.equal([
        addresses.timelock,
        addresses.dilutionLedger,
        "0",
        ZeroHash,
        "0",
        "unset",
      ]);
      // The call names the dispute: the first on this receivable.
      expect(r.body.dispute.number).to.equal(1);
      expect(r.body.recommendation.disputeNumber).to.equal(1);
      expect(proposal.call).to.deep.equal({ function: "dismissDispute", receivableId, disputeNumber: 1 });
      expect(proposal.data).to.equal(ledger().interface.encodeFunctionData("dismissDispute", [receivableId, 1n]));
      expect(await timelockHashOf(proposal, ctx().chain.provider)).to.equal(proposal.operationId);
      expect(Date.parse(proposal.readyAt as string)).to.be.a("number").and.not.NaN;
    });

    it("answers the same proposal to the same request, with or without the same Idempotency-Key", async function () {
      const replay = await recommend(receivableId, { reason: "no credit note in 7 days" }, t.operatorKey, {
        "Idempotency-Key": "dismiss-1",
      });
      expect(replay.status).to.equal(200);
      expect(replay.body.proposal).to.deep.equal(proposal);
      const again = await recommend(receivableId, { reason: "said twice" });
      expect(again.status, JSON.stringify(again.body)).to.equal(200);
      expect(again.body.proposal).to.deep.include({ operationId: proposal.operationId, data: proposal.data });
      expect(again.body.recommendation.reason).to.equal("no credit note in 7 days");
      expect(await ctx().db.selectFrom("dispute_dismissals").select("dispute_id").execute()).to.deep.equal([
        { dispute_id: disputeId },
      ]);
      const [queued] = await reviewQueue();
      expect(queued!.recommendation).to.deep.include({ disputeId, operationId: proposal.operationId });
    });
  });

  describe("when the governor runs its CLI", function () {
    it("prints the proposal for a multisig with --print and signs nothing", async function () {
      const printed = await runGovernorCli(["dismiss", receivableId, "--print"], cliEnv());
      expect(printed.code, printed.out).to.equal(0);
      expect(printed.out).to.include(proposal.operationId);
      expect(printed.out).to.include(`dispute ${disputeId} of receivable ${receivableId} (open)`);
      expect(printed.out).to.include("number 1 on the ledger");
      expect(printed.out).to.include("nothing was signed");
      expect(await timelockState(proposal.operationId)).to.equal(0n);
      expect(await ledger().isDisputed(receivableId)).to.equal(true);
    });

    it("schedules and executes the dismissal; the index shows the dispute dismissed and the tree splits again", async function () {
      const cli = await runGovernorCli(["dismiss", receivableId], cliEnv());
      expect(cli.code, cli.out).to.equal(0);
      expect(cli.out).to.match(/scheduled \(delay 0 s\): 0x[0-9a-f]{64}/);
      const executed = /executed: (0x[0-9a-f]{64})/.exec(cli.out)?.[1];
      expect(executed, cli.out).to.be.a("string");
      expect(await timelockState(proposal.operationId)).to.equal(3n); // Done
      await ctx().indexer.sync();

      const read = await dilution();
      expect(read.disputed).to.equal(false);
      expect(read.disputes.find((d) => d.id === disputeId)).to.include({ status: "dismissed", closedTxHash: executed });
      expect(await ledger().isDisputed(receivableId)).to.equal(false);
      const split = await splitRoot();
      expect(split.status, JSON.stringify(split.body)).to.equal(200);
      expect(split.body.children).to.have.length(2);
      expect(await reviewQueue("open")).to.deep.equal([]);
      expect((await reviewQueue("dismissed")).map((i) => [i.dispute.id, i.recommendation?.operationId])).to.deep.equal([
        [disputeId, proposal.operationId],
      ]);
    });

    it("answers the same proposal once it is done, and the CLI finds nothing left to send", async function () {
      const again = await recommend(receivableId, { reason: "again" });
      expect(again.status, JSON.stringify(again.body)).to.equal(200);
      expect(again.body.dispute).to.include({ id: disputeId, status: "dismissed" });
      expect(again.body.proposal).to.include({ operationId: proposal.operationId, state: "done", readyAt: null });
      const cli = await runGovernorCli(["dismiss", receivableId], cliEnv());
      expect(cli.code, cli.out).to.equal(0);
      expect(cli.out).to.include("already done: nothing to send");
    });
  });

  describe("when the debtor opens a new dispute after the dismissal", function () {
    let secondId: string;

    before(async function () {
      secondId = await openDispute();
    });

    it("has the CLI refuse it until the operator recommends (exit 1)", async function () {
      const cli = await runGovernorCli(["dismiss", receivableId], cliEnv());
      expect(cli.code, cli.out).to.equal(1);
      expect(cli.out).to.include("no dismissal recommended on the latest dispute");
    });

    it("gives the new dispute its own operation, and refuses once the debtor withdrew it", async function () {
      expect(secondId).to.not.equal(disputeId);
      await advanceChainTime(t, REVIEW_PERIOD + 60);
      const r = await recommend(receivableId, { reason: "again no credit note" });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.recommendation.disputeId).to.equal(secondId);
      // Its call names dispute 2, not the dismissed dispute 1.
      expect(r.body.recommendation.disputeNumber).to.equal(2);
      expect(r.body.proposal.call).to.deep.equal({ function: "dismissDispute", receivableId, disputeNumber: 2 });
      expect(r.body.proposal.data).to.equal(
        ledger().interface.encodeFunctionData("dismissDispute", [receivableId, 2n]),
      );
      expect(r.body.proposal.operationId).to.not.equal(proposal.operationId);
      expect(r.body.proposal.state).to.equal("unset");

      const withdrawn = await api.as(cast.debtor.apiKey).post(`/v1/receivables/${receivableId}/disputes/withdraw`);
      expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
      const late = await recommend(receivableId, { reason: "again no credit note" });
      expect(late.status).to.equal(409);
      expect(late.body.error.code).to.equal("DISPUTE_NOT_OPEN");
      expect(late.body.error.details).to.deep.equal({
        receivableId,
        lastDispute: { id: secondId, status: "withdrawn" },
      });
    });
  });

  describe("when the debtor withdraws a dispute whose dismissal is scheduled and opens another before it runs", function () {
    let reviewedId: string;
    let newerId: string;
    let stale: Record<string, unknown> & { operationId: string; data: string; target: string; salt: string };
    const governorTimelock = () =>
      timelockAt(ctx().chain.deployment.addresses.timelock!, new Wallet(keys().governor, ctx().chain.provider));

    before(async function () {
      reviewedId = await openDispute();
      await advanceChainTime(t, REVIEW_PERIOD + 60);
      const r = await recommend(receivableId, { reason: "reviewed: no credit note" });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      stale = r.body.proposal;
      // The governor schedules it; the timelock's delay has not run yet when the debtor acts.
      const { target, value, data, predecessor, salt, delay } = stale as Record<string, string>;
      await (await governorTimelock().getFunction("schedule")(target, value, data, predecessor, salt, delay)).wait();
      expect(await timelockState(stale.operationId)).to.equal(2n); // Ready (delay 0 on the local chain)
      const withdrawn = await api.as(cast.debtor.apiKey).post(`/v1/receivables/${receivableId}/disputes/withdraw`);
      expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
      newerId = await openDispute();
      await ctx().indexer.sync();
    });

    it("named the reviewed dispute's number in the recommendation and the scheduled call", async function () {
      const { disputes } = await dilution();
      expect(disputes.find((d) => d.id === reviewedId)?.number).to.equal(3);
      expect(stale.call).to.deep.equal({ function: "dismissDispute", receivableId, disputeNumber: 3 });
      expect(stale.data).to.equal(ledger().interface.encodeFunctionData("dismissDispute", [receivableId, 3n]));
      expect(disputes.find((d) => d.id === newerId)?.number).to.equal(4);
      expect(await ledger().disputeOf(receivableId)).to.deep.equal([4n, true]);
    });

    it("executing the stale operation reverts DisputeNotTheOneNamed and leaves the new dispute open", async function () {
      const { target, value, data, predecessor, salt } = stale as Record<string, string>;
      const refusal = await governorTimelock()
        .getFunction("execute")
        .staticCall(target, value, data, predecessor, salt)
        .then(
          () => null,
          (error: { data: string }) => ledger().interface.parseError(error.data),
        );
      expect(refusal?.name).to.equal("DisputeNotTheOneNamed");
      expect([...refusal!.args]).to.deep.equal([receivableId, 3n, 4n]);
      // Sent anyway: the transaction reverts and nothing changes.
      const failure = await governorTimelock()
        .getFunction("execute")(target, value, data, predecessor, salt, { gasLimit: 500_000n })
        .then((tx: { wait(): Promise<unknown> }) => tx.wait())
        .then(
          () => null,
          (error: Error) => error,
        );
      expect(failure, "the stale execution must revert").to.be.instanceOf(Error);
      expect(await timelockState(stale.operationId)).to.equal(2n); // still Ready, not Done
      await ctx().indexer.sync();
      expect(await ledger().isDisputed(receivableId)).to.equal(true);
      const read = await dilution();
      expect(read.disputed).to.equal(true);
      expect(read.disputes.find((d) => d.id === newerId)).to.include({ status: "open", closedTxHash: null });
      expect(read.disputes.find((d) => d.id === reviewedId)).to.include({ status: "withdrawn" });
    });

    it("leaves the governor's CLI nothing to send for the new dispute until the operator reviews it", async function () {
      const cli = await runGovernorCli(["dismiss", receivableId], cliEnv());
      expect(cli.code, cli.out).to.equal(1);
      expect(cli.out).to.include("no dismissal recommended on the latest dispute");
      expect(await ledger().disputeOf(receivableId)).to.deep.equal([4n, true]);
    });
  });
});
