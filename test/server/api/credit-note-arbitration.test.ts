// The arbiter path of a credit note (issue 16), end to end on the local chain: the debtor
// proposes, the seller stays silent, the operator is refused until the seller's response
// period has passed, then recommends; the governor (its key generated for the data directory,
// never loaded by the service) schedules and executes the proposal through the timelock; the
// note flows down the tree as a seller-consented one does and the index shows approvedBy
// "arbiter". A rejection runs through the governor's CLI itself. No operator key can decide.
import { expect } from "chai";
import { Contract, Wallet, ZeroHash } from "ethers";
import { sql } from "kysely";
import { startTestService, type TestService } from "../harness.js";
import { runGovernorCli, timelockHashOf } from "../../helpers/timelock.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { advanceChainTime } from "../repayment-scenario.js";
import { testDatabaseEngine } from "../../helpers/postgres.js";
import { INDEX_TABLES } from "../../../server/store/schema.js";
import { HOT_ROLES, loadOperatorKeys } from "../../../server/chain/operator-keys.js";
import { arbitrationOf } from "../../../server/domain/credit-note-arbitration.js";
import { TIMELOCK_ABI } from "../../../server/chain/arbitration-proposal.js";
import { scheduleAndExecute } from "../../../scripts/lib/governor-arbitration.js";

const DOC = `0x${"cd".repeat(32)}`;
const WEEK = 7 * 24 * 3600;

describe("API: a credit note decided by the arbiter", function () {
  this.timeout(180_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;
  let financier: TestParty;
  let auditor: TestParty;
  let receivableId: string;
  let sellerPiece: string;
  let tier2Piece: string;
  let creditNoteId: string;

  const operator = () => api.as(t.operatorKey);
  const ctx = () => t.service.ctx;
  const ledger = () => ctx().chain.contracts.dilution!;
  const keys = () => loadOperatorKeys(ctx().config.dataDir, ctx().vault, {}, { generateHot: true });
  const recommend = (id: string, body: unknown, key = t.operatorKey, headers: Record<string, string> = {}) =>
    api.as(key).post(`/v1/credit-notes/${id}/arbitration`, body, headers);
  const propose = async (amount: string, quantity: number) => {
    const r = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, {
      amount,
      reasonCode: "RETURN",
      documentHash: DOC,
      lines: [{ sku: "SKU-1", quantity }],
    });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body.creditNote.id as string;
  };
  const queue = async (key = t.operatorKey) => {
    const r = await api.as(key).get("/v1/credit-notes?awaiting=arbiter");
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body.items as Array<{ creditNote: { id: string }; recommendation: { decision: string } | null }>;
  };

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    seller = await createTestParty(operator(), ["supplier"]);
    debtor = await createTestParty(operator(), ["debtor"]);
    tier2 = await createTestParty(operator(), ["supplier"]);
    financier = await createTestParty(operator(), ["financier"]);
    auditor = await createTestParty(operator(), ["auditor"]);
    // 100 units at 1.000000: face 100,000,000; tier 2 gets 60M, the seller keeps 40M.
    receivableId = (await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id))).body.id;
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const split = await api.as(seller.apiKey).post(`/v1/certificates/${confirmed.body.certificateId}/split`, {
      parts: [
        { toPartyId: tier2.id, amount: "60000000" },
        { toPartyId: seller.id, amount: "40000000" },
      ],
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    [tier2Piece, sellerPiece] = split.body.children.map((c: { id: string }) => c.id);
    creditNoteId = await propose("50000000", 50);
  });
  after(async function () {
    await t?.close();
  });

  describe("while the seller may still answer", function () {
    it("refuses the operator's recommendation with SELLER_RESPONSE_PERIOD_OPEN and records nothing", async function () {
      const early = await recommend(creditNoteId, { decision: "approve", reason: "goods came back" });
      expect(early.status, JSON.stringify(early.body)).to.equal(409);
      expect(early.body.error.code).to.equal("SELLER_RESPONSE_PERIOD_OPEN");
      expect(early.body.error.details.creditNoteId).to.equal(creditNoteId);
      expect(await arbitrationOf(ctx(), creditNoteId)).to.equal(undefined);
    });

    it("does not list the note in the review queue", async function () {
      expect((await queue()).map((i) => i.creditNote.id)).to.not.include(creditNoteId);
    });
  });

  describe("every caller but the operator", function () {
    it("is refused the recommendation with 403, whatever it sends", async function () {
      for (const party of [seller, debtor, tier2, financier, auditor]) {
        const r = await recommend(creditNoteId, { decision: "approve", reason: "x" }, party.apiKey);
        expect(r.status, party.id).to.equal(403);
        expect(r.body.error.code).to.equal("FORBIDDEN");
      }
    });

    it("is refused the review queue unless it is the auditor", async function () {
      for (const party of [seller, debtor, tier2, financier]) {
        const r = await api.as(party.apiKey).get("/v1/credit-notes?awaiting=arbiter");
        expect(r.status, party.id).to.equal(403);
      }
      expect(await queue(auditor.apiKey)).to.be.an("array");
    });
  });

  describe("when the seller's response period has passed without consent", function () {
    before(async function () {
      await advanceChainTime(t, WEEK + 60);
    });

    it("lists the note in the operator's and the auditor's queue, with no recommendation yet", async function () {
      for (const key of [t.operatorKey, auditor.apiKey]) {
        const items = await queue(key);
        const item = items.find((i) => i.creditNote.id === creditNoteId);
        expect(item, JSON.stringify(items)).to.not.equal(undefined);
        expect(item!.recommendation).to.equal(null);
      }
    });

    it("reads the queue by the index on status and deadline, not a scan of every note", async function () {
      if (testDatabaseEngine() === "postgres") {
        // PostgreSQL's planner scans a table this small whatever the indexes: check the index is there.
        const found = await sql<{ indexdef: string }>`SELECT indexdef FROM pg_indexes
          WHERE indexname = 'credit_notes_awaiting_arbiter'`.execute(ctx().db);
        expect(found.rows[0]?.indexdef).to.include("(status, seller_respond_by, id)");
        return;
      }
      const plan = await sql<{ detail: string }>`EXPLAIN QUERY PLAN SELECT id, seller_respond_by
        FROM onchain_credit_notes WHERE status = 'proposed' AND seller_respond_by < ${2 ** 40}
        ORDER BY seller_respond_by, id LIMIT 51`.execute(ctx().db);
      const details = plan.rows.map((r) => r.detail).join(" | ");
      expect(details).to.include("USING COVERING INDEX credit_notes_awaiting_arbiter");
      expect(details).to.not.include("TEMP B-TREE");
    });

    it("lets no key the service holds decide the note: the ledger's arbiter function reverts for each", async function () {
      const leaves = [tier2Piece, sellerPiece].map(BigInt).sort((a, b) => (a < b ? -1 : 1));
      const role = await ledger().ARBITER_ROLE();
      const timelock = new Contract(ctx().chain.deployment.addresses.timelock!, TIMELOCK_ABI, ctx().chain.provider);
      for (const name of HOT_ROLES) {
        const wallet = new Wallet(keys()[name], ctx().chain.provider);
        let reverted: unknown;
        try {
          await ledger().connect(wallet).decideCreditNote.staticCall(creditNoteId, true, leaves);
        } catch (error) {
          reverted = error;
        }
        const parsed = ledger().interface.parseError((reverted as { data: string }).data);
        expect(parsed?.name, name).to.equal("AccessControlUnauthorizedAccount");
        expect(parsed?.args[0], name).to.equal(wallet.address);
        expect(parsed?.args[1], name).to.equal(role);
        // Nor can it schedule the call on the timelock (the governor alone proposes).
        const data = ledger().interface.encodeFunctionData("decideCreditNote", [creditNoteId, true, leaves]);
        let refused = false;
        try {
          await timelock
            .connect(wallet)
            .getFunction("schedule")
            .staticCall(ledger().target, 0n, data, ZeroHash, ZeroHash, 0n);
        } catch {
          refused = true;
        }
        expect(refused, `${name} scheduled on the timelock`).to.equal(true);
      }
      expect((await ledger().creditNoteOf(creditNoteId)).status).to.equal(1n); // still Proposed
    });

    it("refuses a recommendation that is neither approve nor reject, or has no reason", async function () {
      const odd = await recommend(creditNoteId, { decision: "apply", reason: "x" });
      expect(odd.status).to.equal(400);
      const bare = await recommend(creditNoteId, { decision: "approve", reason: "  " });
      expect(bare.status).to.equal(400);
      expect(await arbitrationOf(ctx(), creditNoteId)).to.equal(undefined);
    });
  });

  describe("when the operator recommends approving it", function () {
    let proposal: Record<string, unknown> & { operationId: string; data: string };

    it("records the recommendation and answers the exact timelock proposal", async function () {
      const r = await recommend(
        creditNoteId,
        { decision: "approve", reason: "goods came back damaged" },
        t.operatorKey,
        { "Idempotency-Key": "arb-approve-1" },
      );
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      proposal = r.body.proposal;
      expect(r.body.creditNote).to.include({ id: creditNoteId, status: "proposed" });
      expect(r.body.recommendation).to.include({
        creditNoteId,
        receivableId,
        decision: "approve",
        reason: "goods came back damaged",
        recommendedBy: ctx().operatorId,
      });
      const leafIds = [tier2Piece, sellerPiece].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      expect(proposal).to.include({
        timelock: ctx().chain.deployment.addresses.timelock,
        target: ctx().chain.deployment.addresses.dilutionLedger,
        value: "0",
        predecessor: ZeroHash,
        delay: "0",
        state: "unset",
      });
      expect(proposal.call).to.deep.equal({ function: "decideCreditNote", creditNoteId, approve: true, leafIds });
      expect(proposal.data).to.equal(
        ledger().interface.encodeFunctionData("decideCreditNote", [creditNoteId, true, leafIds]),
      );
      expect(await timelockHashOf(proposal, ctx().chain.provider)).to.equal(proposal.operationId);
      expect(Date.parse(proposal.readyAt as string)).to.be.a("number").and.not.NaN;
    });

    it("answers the same proposal to the same decision, with or without the same Idempotency-Key", async function () {
      const replay = await recommend(
        creditNoteId,
        { decision: "approve", reason: "goods came back damaged" },
        t.operatorKey,
        {
          "Idempotency-Key": "arb-approve-1",
        },
      );
      expect(replay.status).to.equal(200);
      expect(replay.body.proposal.operationId).to.equal(proposal.operationId);
      const again = await recommend(creditNoteId, { decision: "approve", reason: "said twice" });
      expect(again.status, JSON.stringify(again.body)).to.equal(200);
      expect(again.body.proposal).to.deep.include({ operationId: proposal.operationId, data: proposal.data });
      expect(again.body.recommendation.reason).to.equal("goods came back damaged");
    });

    it("refuses another decision once one was recorded (409 ARBITRATION_ALREADY_RECOMMENDED)", async function () {
      const other = await recommend(creditNoteId, { decision: "reject", reason: "changed my mind" });
      expect(other.status).to.equal(409);
      expect(other.body.error.code).to.equal("ARBITRATION_ALREADY_RECOMMENDED");
      expect(other.body.error.details).to.include({ decision: "approve", operationId: proposal.operationId });
    });

    it("shows the recommendation in the queue", async function () {
      const item = (await queue()).find((i) => i.creditNote.id === creditNoteId);
      expect(item!.recommendation!.decision).to.equal("approve");
    });
  });

  describe("when the governor schedules and executes it through the timelock", function () {
    it("applies the note down the tree as the rule says, and the index shows approvedBy arbiter", async function () {
      const recorded = await arbitrationOf(ctx(), creditNoteId);
      const governor = new Wallet(keys().governor, ctx().chain.provider);
      const run = await scheduleAndExecute(governor, recorded!.proposal);
      expect(run.state).to.equal("done");
      expect(run.scheduledTx).to.match(/^0x[0-9a-f]{64}$/);
      expect(run.executedTx).to.match(/^0x[0-9a-f]{64}$/);
      await ctx().indexer.sync();

      const read = await api.as(seller.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`);
      const applied = read.body.creditNotes.find((n: { id: string }) => n.id === creditNoteId);
      expect(applied).to.include({
        status: "applied",
        approvedBy: "arbiter",
        retainedReduction: "40000000",
        sharedReduction: "10000000",
        closedTxHash: run.executedTx,
      });
      const cuts = Object.fromEntries(
        applied.leaves.map((l: { certificateId: string; reduction: string; claim: string; retained: boolean }) => [
          l.certificateId,
          [l.reduction, l.claim, l.retained],
        ]),
      );
      expect(cuts).to.deep.equal({
        [tier2Piece]: ["10000000", "50000000", false],
        [sellerPiece]: ["40000000", "0", true],
      });
      expect(read.body).to.include({ disputed: false, creditedAmount: "50000000", owedAmount: "50000000" });
      const piece = await api.as(tier2.apiKey).get(`/v1/certificates/${tier2Piece}`);
      expect(piece.body).to.include({ faceValue: "60000000", reduction: "10000000", claim: "50000000" });
      expect(await ledger().claimOf(tier2Piece)).to.equal(50_000_000n);
    });

    it("takes the note off the queue, answers the same proposal as done, and refuses the seller's late consent", async function () {
      expect((await queue()).map((i) => i.creditNote.id)).to.not.include(creditNoteId);
      const again = await recommend(creditNoteId, { decision: "approve", reason: "again" });
      expect(again.status).to.equal(200);
      expect(again.body.proposal.state).to.equal("done");
      expect(again.body.creditNote).to.include({ status: "applied", approvedBy: "arbiter" });
      const late = await api.as(seller.apiKey).post(`/v1/credit-notes/${creditNoteId}/consent`);
      expect(late.status).to.equal(409);
      expect(late.body.error.code).to.equal("CREDIT_NOTE_NOT_PROPOSED");
      const run = await scheduleAndExecute(
        new Wallet(keys().governor, ctx().chain.provider),
        (await arbitrationOf(ctx(), creditNoteId))!.proposal,
      );
      expect(run).to.include({ state: "done", scheduledTx: null, executedTx: null });
    });
  });

  describe("when the operator recommends rejecting a later note and the governor runs its CLI", function () {
    let rejectedId: string;

    before(async function () {
      rejectedId = await propose("10000000", 10);
      await advanceChainTime(t, WEEK + 60);
    });

    it("answers 404 for a credit note that does not exist", async function () {
      const unknown = await recommend("999", { decision: "reject", reason: "x" });
      expect(unknown.status).to.equal(404);
    });

    it("prints the proposal for a multisig with --print and signs nothing", async function () {
      const r = await recommend(rejectedId, { decision: "reject", reason: "no return was received" });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.proposal.call).to.deep.equal({
        function: "decideCreditNote",
        creditNoteId: rejectedId,
        approve: false,
        leafIds: [],
      });
      const printed = await runGovernorCli(["arbitrate", rejectedId, "--print"], {
        ...t.env,
        TIERLINE_CHAIN_PORT: new URL(t.chain.url).port,
      });
      expect(printed.code, printed.out).to.equal(0);
      expect(printed.out).to.include(r.body.proposal.operationId);
      expect(printed.out).to.include("nothing was signed");
      const state = await new Contract(r.body.proposal.timelock, TIMELOCK_ABI, ctx().chain.provider).getFunction(
        "getOperationState",
      )(r.body.proposal.operationId);
      expect(state).to.equal(0n);
    });

    it("schedules and executes the rejection; the index shows it rejected and nothing credited", async function () {
      const cli = await runGovernorCli(["arbitrate", rejectedId], {
        ...t.env,
        TIERLINE_CHAIN_PORT: new URL(t.chain.url).port,
      });
      expect(cli.code, cli.out).to.equal(0);
      expect(cli.out).to.match(/scheduled \(delay 0 s\): 0x[0-9a-f]{64}/);
      expect(cli.out).to.match(/executed: 0x[0-9a-f]{64}/);
      await ctx().indexer.sync();
      const read = await api.as(debtor.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`);
      const rejected = read.body.creditNotes.find((n: { id: string }) => n.id === rejectedId);
      expect(rejected).to.include({ status: "rejected", approvedBy: null });
      expect(rejected.leaves).to.deep.equal([]);
      expect(read.body).to.include({ creditedAmount: "50000000", owedAmount: "50000000" });
      expect((await ledger().creditNoteOf(rejectedId)).status).to.equal(3n); // Rejected
      expect(await ledger().claimOf(tier2Piece)).to.equal(50_000_000n);
      const late = await recommend(rejectedId, { decision: "approve", reason: "x" });
      expect(late.status).to.equal(409);
      expect(late.body.error.code).to.equal("ARBITRATION_ALREADY_RECOMMENDED");
    });

    it("refuses a recommendation on a note already decided without one", async function () {
      const withdrawn = await propose("1000000", 1);
      const gone = await api.as(debtor.apiKey).post(`/v1/credit-notes/${withdrawn}/withdraw`);
      expect(gone.status, JSON.stringify(gone.body)).to.equal(200);
      const r = await recommend(withdrawn, { decision: "approve", reason: "x" });
      expect(r.status).to.equal(409);
      expect(r.body.error.code).to.equal("CREDIT_NOTE_NOT_PROPOSED");
    });
  });

  describe("when the index is rebuilt from the chain", function () {
    it("shows the arbiter's approval and rejection exactly as before", async function () {
      const db = ctx().db;
      await ctx().indexer.sync();
      const snapshot = async () => {
        const out: Record<string, unknown[]> = {};
        for (const table of INDEX_TABLES) out[table] = await db.selectFrom(table).selectAll().execute();
        for (const rows of Object.values(out)) rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        return out;
      };
      const live = await snapshot();
      const notes = live.onchain_credit_notes as Array<{ id: string; status: string; approved_by: string | null }>;
      expect(notes.map((n) => [n.status, n.approved_by]).sort()).to.deep.equal(
        [
          ["applied", "arbiter"],
          ["rejected", null],
          ["withdrawn", null],
        ].sort(),
      );
      await ctx().indexer.rebuild();
      expect(await snapshot()).to.deep.equal(live);
      expect(await arbitrationOf(ctx(), creditNoteId)).to.not.equal(undefined);
    });
  });
});
