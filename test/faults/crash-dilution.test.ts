// Dilution under a crash (issue 16): the service (a real child process) dies by SIGKILL right
// after it broadcast the debtor's dispute, the debtor's credit note, or the seller's consent
// (one transaction: the service signs the EIP-712 consent and sends applyWithSellerConsent), and
// is started again. A retry with the same Idempotency-Key answers from the transaction the
// interrupted attempt sent: one dispute, one note, applied once, the receivable credited once.
import { expect } from "chai";
import { FaultWorld } from "./child-service.js";
import { idempotencyKey, registerReceivable } from "./flows.js";

const DOC = `0x${"ef".repeat(32)}`;
const NOTE = { amount: "30000000", reasonCode: "RETURN", documentHash: DOC, lines: [{ sku: "SKU-1", quantity: 30 }] };

describe("Faults: a crash while disputing and crediting a receivable", function () {
  this.timeout(240_000);
  let world: FaultWorld;
  let receivableId: string;
  let creditNoteId: string;

  const events = (name: string, ...topics: unknown[]) => world.chainEvents(world.contracts.dilution!, name, ...topics);

  /** Runs `request` with the service armed to die at `point`, restarts, and retries with the same key. */
  async function throughACrash(point: string, request: (key: Record<string, string>) => Promise<unknown>) {
    const key = idempotencyKey("dilution");
    await world.crashDuring(point, () => request(key));
    await world.start();
    return (await request(key)) as { status: number; body: any };
  }

  before(async function () {
    world = await FaultWorld.create();
    ({ id: receivableId } = await registerReceivable(world, "tier1", "debtor"));
  });
  after(async function () {
    await world?.close();
  });

  it("opens the dispute once after a crash at tx-sent:openDispute, and withdraws it", async function () {
    const retried = await throughACrash("tx-sent:openDispute", (key) =>
      world
        .as("debtor")
        .post(`/v1/receivables/${receivableId}/disputes`, { reasonCode: "DAMAGED", documentHash: DOC }, key),
    );
    expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
    const opened = await events("DisputeOpened", receivableId);
    expect(opened).to.have.length(1);
    expect(retried.body.dispute).to.include({ status: "open", openedTxHash: opened[0]!.transactionHash });
    const withdrawn = await world
      .as("debtor")
      .post(`/v1/receivables/${receivableId}/disputes/withdraw`, {}, idempotencyKey("withdraw"));
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
  });

  it("proposes the credit note once after a crash at tx-sent:proposeCreditNote", async function () {
    const retried = await throughACrash("tx-sent:proposeCreditNote", (key) =>
      world.as("debtor").post(`/v1/receivables/${receivableId}/credit-notes`, NOTE, key),
    );
    expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
    const proposed = await events("CreditNoteProposed", null, receivableId);
    expect(proposed).to.have.length(1);
    creditNoteId = String(proposed[0]!.args.creditNoteId);
    expect(retried.body.creditNote).to.include({ id: creditNoteId, status: "proposed", amount: NOTE.amount });
  });

  it("applies it once after a crash at tx-sent:applyCreditNote: the receivable is credited once", async function () {
    const retried = await throughACrash("tx-sent:applyCreditNote", (key) =>
      world.as("tier1").post(`/v1/credit-notes/${creditNoteId}/consent`, {}, key),
    );
    expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
    const applied = await events("CreditNoteApplied", creditNoteId);
    expect(applied).to.have.length(1);
    expect(retried.body.creditNote).to.include({ id: creditNoteId, status: "applied", approvedBy: "seller" });
    expect(retried.body.transactions).to.deep.equal([{ kind: "applyCreditNote", hash: applied[0]!.transactionHash }]);
    const credited = await world.contracts.registry.getFunction("creditedOf")(receivableId);
    expect(credited).to.equal(BigInt(NOTE.amount));
  });

  it("keeps an index that equals the chain, disputes and notes included (the auditor's verification)", async function () {
    await world.auditMatches(receivableId);
  });
});
