// A credit note over a tree wider than MAX_DILUTION_LEAVES through the API (issue 16): the seller
// consents, the service approves it with an empty leaf list and shows it `applying` (the credit
// recorded at once); the keeper then makes the cuts in passes of continueCreditNote chunks, picking
// up after a chunk someone else sent (one that skipped a leaf: the keeper proves the gap and
// restarts the tally), and settles the receivable once the note is `applied`. The
// index keeps conservation, matches the chain (verify) and rebuilds from events alone.
import { expect } from "chai";
import { Wallet } from "ethers";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { mint } from "../repayment-scenario.js";
import { findPartyById } from "../../../server/store/parties-store.js";
import { INDEX_TABLES } from "../../../server/store/schema.js";
import { ISSUE16_WEBHOOK_PAYLOADS } from "../../../server/model/webhook-payloads.js";

const DOC = `0x${"cd".repeat(32)}`;
const FACE = 100_000_000n; // 100 units at 1.000000
const CREDIT = 70_000_000n; // beyond the seller's retained leaves (a fifth of the tree)
const PIECES = 10;
const PARTS = 30; // 300 leaves

describe("API: a credit note over a tree of 300 leaves", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;
  let auditor: TestParty;
  let receivableId: string;
  let creditNoteId: string;
  let leaves: string[];

  const ok = async (response: Promise<{ status: number; body: any }>, status = 200) => {
    const r = await response;
    expect(r.status, JSON.stringify(r.body)).to.equal(status);
    return r.body;
  };

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false", TIERLINE_MIN_PIECE_SIZE: "1" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    auditor = await createTestParty(operator, ["auditor"]);
    await mint(t, debtor.address, FACE);

    receivableId = (await ok(api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id)), 201)).id;
    const rootId = (await ok(api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`))).certificateId;
    // Ten pieces the seller keeps, each split into 30 leaves of uneven sizes: every fifth kept.
    const piece = FACE / BigInt(PIECES);
    const pieces = await ok(
      api.as(seller.apiKey).post(`/v1/certificates/${rootId}/split`, {
        parts: Array.from({ length: PIECES }, () => ({ toPartyId: seller.id, amount: piece.toString() })),
      }),
    );
    let n = 0;
    for (const { id } of pieces.children as Array<{ id: string }>) {
      let left = piece;
      const parts = [];
      for (let j = 0; j < PARTS; j++) {
        const amount = j === PARTS - 1 ? left : 250_000n + BigInt((n * 7_919) % 100_003);
        left -= amount;
        parts.push({ toPartyId: n % 5 === 0 ? seller.id : tier2.id, amount: amount.toString() });
        n++;
      }
      await ok(api.as(seller.apiKey).post(`/v1/certificates/${id}/split`, { parts }));
    }
    const ctx = t.service.ctx;
    expect(await ctx.chain.contracts.certificates.leafCountOf(receivableId)).to.equal(300n);
    creditNoteId = (
      await ok(
        api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, {
          amount: CREDIT.toString(),
          reasonCode: "RETURN",
          documentHash: DOC,
          lines: [{ sku: "SKU-1", quantity: 70 }],
        }),
      )
    ).creditNote.id;
  });
  after(async function () {
    await t?.close();
  });

  const claimsOnChain = async () => {
    const dilution = t.service.ctx.chain.contracts.dilution!;
    return Promise.all(leaves.map(async (leaf) => BigInt(await dilution.claimOf(leaf))));
  };

  it("approves it on the seller's consent with an empty leaf list and shows it applying, credited at once", async function () {
    const body = await ok(api.as(seller.apiKey).post(`/v1/credit-notes/${creditNoteId}/consent`));
    expect(body.creditNote).to.include({ status: "applying", approvedBy: "seller" });
    expect(body.creditNote.leaves).to.deep.equal([]);
    const read = await ok(api.as(debtor.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`));
    expect(read).to.include({
      disputed: true,
      creditedAmount: CREDIT.toString(),
      owedAmount: (FACE - CREDIT).toString(),
    });
    // The transaction the service sent carried no leaf ids.
    const ctx = t.service.ctx;
    const [phase, processed, leafCount, cursor] = await ctx.chain.contracts.dilution!.applicationOf(creditNoteId);
    expect([phase, processed, leafCount, cursor]).to.deep.equal([1n, 0n, 300n, 0n]);
    const rows = await ctx.db
      .selectFrom("onchain_certificates")
      .select("id")
      .where("receivable_id", "=", receivableId)
      .where("state", "in", ["live", "locked"])
      .execute();
    leaves = rows.map((r) => r.id).sort((a, b) => Number(BigInt(a) - BigInt(b)));
    expect(leaves).to.have.length(300);
    // The parties of the receivable are told, with a payload of the published schema.
    const hook = await ctx.db
      .selectFrom("webhook_outbox")
      .select(["payload", "party_ids"])
      .where("type", "=", "credit_note.applying")
      .executeTakeFirstOrThrow();
    const data = ISSUE16_WEBHOOK_PAYLOADS["credit_note.applying"].parse(JSON.parse(hook.payload).data);
    expect(data).to.include({ creditNoteId, receivableId, approvedBy: "seller", leafCount: 300 });
    expect(JSON.parse(hook.party_ids)).to.include.members([seller.id, debtor.id]);
  });

  it("lets the debtor pay what it owes now; settlement waits for the cuts", async function () {
    await ok(
      api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/repayments`, { amount: (FACE - CREDIT).toString() }),
    );
    const escrow = t.service.ctx.chain.contracts.escrow;
    let code: string | undefined;
    try {
      await escrow.settle.staticCall(receivableId, leaves.slice(0, 10));
    } catch (error) {
      code = escrow.interface.parseError((error as { data: string }).data)?.name;
    }
    expect(code).to.equal("SettlementCreditNoteApplying");
  });

  it("has the keeper make the cuts in passes, after a chunk with a gap someone else took, then settle", async function () {
    const ctx = t.service.ctx;
    // Anyone may take a chunk: tier2 takes the first 100 leaves of the tally itself, but leaves
    // out the sixth. The tally can then never reach 300; the keeper proves the gap and restarts it.
    const record = await findPartyById(ctx.db, tier2.id);
    const wallet = new Wallet(ctx.vault.decrypt(record!.encryptedKey!));
    const dilution = ctx.chain.contracts.dilution!;
    const gapped = [...leaves.slice(0, 5), ...leaves.slice(6, 100)];
    const receipt = await ctx.chain
      .senderFor(wallet)
      .send(await dilution.continueCreditNote.populateTransaction(creditNoteId, gapped), {
        kind: "continueCreditNote",
        ref: creditNoteId,
      });
    await ctx.indexer.sync(receipt.blockNumber);

    const pass = await t.service.keeper.runOnce();
    // The gap is seen at once (99 leaves tallied, 100 at or below the cursor): restart, then tally
    // 128 + 128 + 44 and cut the same chunks. No chunk is spent after the gapped one.
    expect(pass).to.deep.include({ creditNoteChunks: 6, tallyRestarts: 1, failed: 0, settled: 300 });
    const restarts = await dilution.queryFilter(dilution.filters.CreditNoteTallyRestarted(creditNoteId));
    expect(restarts.map((log) => ("args" in log ? String(log.args.missingLeafId) : ""))).to.deep.equal([leaves[5]]);
    const note = (await ok(api.as(seller.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`))).creditNotes[0];
    expect(note.status).to.equal("applied");
    expect(BigInt(note.retainedReduction) + BigInt(note.sharedReduction)).to.equal(CREDIT);
    expect(BigInt(note.sharedReduction)).to.be.greaterThan(0n);
    const cuts = note.leaves as Array<{ certificateId: string; reduction: string; claim: string }>;
    expect(cuts.reduce((sum, l) => sum + BigInt(l.reduction), 0n)).to.equal(CREDIT);

    // Conservation on chain and in the index.
    const claims = await claimsOnChain();
    expect(claims.reduce((a, b) => a + b, 0n)).to.equal(FACE - CREDIT);
    const indexed = await ctx.db
      .selectFrom("onchain_certificates")
      .select(["id", "face_value", "reduction"])
      .where("receivable_id", "=", receivableId)
      .where("state", "=", "settled")
      .execute();
    expect(indexed).to.have.length(300);
    expect(indexed.reduce((sum, c) => sum + BigInt(c.face_value) - BigInt(c.reduction), 0n)).to.equal(FACE - CREDIT);
    expect(await ok(api.as(debtor.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`))).to.include({
      disputed: false,
    });
    // Nothing more to do.
    expect(await t.service.keeper.runOnce()).to.deep.include({ creditNoteChunks: 0, tallyRestarts: 0, failed: 0 });
  });

  it("matches the chain when the auditor verifies it", async function () {
    const body = await ok(api.as(auditor.apiKey).get(`/v1/audit/verify/${receivableId}`));
    expect(body.differences).to.deep.equal([]);
    expect(body.matches).to.equal(true);
  });

  it("rebuilds the same index from events alone", async function () {
    const db = t.service.ctx.db;
    await t.service.ctx.indexer.sync();
    const snapshot = async () => {
      const out: Record<string, unknown[]> = {};
      for (const table of INDEX_TABLES) out[table] = await db.selectFrom(table).selectAll().execute();
      for (const rows of Object.values(out)) rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      return out;
    };
    const live = await snapshot();
    expect(live.onchain_credit_notes).to.have.length(1);
    expect(live.onchain_leaf_reductions!.length).to.be.greaterThan(100);
    await t.service.ctx.indexer.rebuild();
    expect(await snapshot()).to.deep.equal(live);
  });
});
