// A crash while the keeper cuts a credit note over a tree wider than MAX_DILUTION_LEAVES: the
// service (a real child process) dies by SIGKILL right after the keeper broadcasts its first
// continueCreditNote chunk, and is started again. The keeper keeps no state of its own, so the
// restarted one reads the ledger's cursor and goes on: every leaf is tallied and cut exactly once
// (the passes' chunk events add up to the leaf count, once each, in one tally round), the note ends
// applied with conservation, and the index equals the chain.
import { expect } from "chai";
import { FaultWorld, eventually, type CastRole } from "./child-service.js";
import { registerReceivable, split, type Part } from "./flows.js";

const FACE = 100_000_000n;
const PIECES = 5;
const PARTS = 27; // 135 leaves
const CREDIT = 60_000_000n;
const APPLIED = 2n;
const TALLYING = 1n;
const CUTTING = 2n;

describe("Faults: a crash while the keeper cuts a wide tree's credit note", function () {
  this.timeout(300_000);
  let world: FaultWorld;
  let receivableId: string;
  let creditNoteId: string;
  let leaves: string[];

  before(async function () {
    world = await FaultWorld.create({ TIERLINE_MIN_PIECE_SIZE: "1" });
    let rootId: string;
    ({ id: receivableId, rootId } = await registerReceivable(world, "tier1", "debtor"));
    const piece = FACE / BigInt(PIECES);
    const pieces = await split(
      world,
      "tier1",
      rootId,
      Array.from({ length: PIECES }, () => ({ to: "tier1" as CastRole, amount: piece })),
    );
    const others: CastRole[] = ["tier2", "tier3"];
    leaves = [];
    let n = 0;
    for (const id of pieces) {
      let left = piece;
      const parts: Part[] = [];
      for (let j = 0; j < PARTS; j++) {
        const amount = j === PARTS - 1 ? left : 600_000n + BigInt((n * 7_919) % 10_007);
        left -= amount;
        parts.push({ to: n % 4 === 0 ? "tier1" : others[n % 2]!, amount });
        n++;
      }
      leaves.push(...(await split(world, "tier1", id, parts)));
    }
    const proposed = await world.as("debtor").post(`/v1/receivables/${receivableId}/credit-notes`, {
      amount: CREDIT.toString(),
      reasonCode: "RETURN",
      documentHash: `0x${"ef".repeat(32)}`,
      lines: [{ sku: "SKU-1", quantity: 60 }],
    });
    expect(proposed.status, JSON.stringify(proposed.body)).to.equal(200);
    creditNoteId = proposed.body.creditNote.id as string;

    // The seller consents (answered: the note is applying); the keeper's first chunk kills the service.
    await world.crashDuring(
      "tx-sent:keeper.continueCreditNote",
      async () => {
        const consent = await world.as("tier1").post(`/v1/credit-notes/${creditNoteId}/consent`);
        expect(consent.status, JSON.stringify(consent.body)).to.equal(200);
        expect(consent.body.creditNote.status).to.equal("applying");
      },
      { requestDropped: false },
    );
    await world.start();
    await eventually(
      "the note applied",
      async () =>
        BigInt((await world.contracts.dilution!.getFunction("creditNoteOf")(creditNoteId)).status) === APPLIED
          ? true
          : undefined,
      120_000,
    );
  });
  after(async function () {
    await world?.close();
  });

  it("had taken one chunk of the tally when it died, and took every leaf exactly once in each pass", async function () {
    const chunks = await world.chainEvents(world.contracts.dilution!, "CreditNoteChunkProcessed", creditNoteId);
    const pass = (phase: bigint) =>
      chunks.filter((e) => BigInt(e.args.phase) === phase).map((e) => Number(e.args.processed));
    // Chunks of 128: the tally's first was sent before the crash, the rest after the restart.
    expect(pass(TALLYING)).to.deep.equal([128, 135]);
    expect(pass(CUTTING)).to.deep.equal([128, 135]);
    expect(chunks.every((e) => BigInt(e.args.round) === 0n)).to.equal(true);
    const cuts = await world.chainEvents(world.contracts.dilution!, "LeafDiluted");
    const ids = cuts
      .filter((e) => String(e.args.creditNoteId) === creditNoteId)
      .map((e) => String(e.args.certificateId));
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it("keeps conservation: the leaves' claims add up to face - credited", async function () {
    const dilution = world.contracts.dilution!;
    let sum = 0n;
    for (const leaf of leaves) sum += BigInt(await dilution.getFunction("claimOf")(leaf));
    expect(sum).to.equal(FACE - CREDIT);
    const served = await world.as("tier1").get(`/v1/receivables/${receivableId}/credit-notes`);
    expect(served.body.creditNotes[0].status).to.equal("applied");
  });

  it("keeps an index that equals the chain (the auditor's verification)", async function () {
    await world.auditMatches(receivableId);
  });
});
