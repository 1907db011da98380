// The service's queue for a key remembers the key's next nonce between its own transactions.
// When something else sent with the same key meanwhile (an operator's script, the growth
// benchmark's presigned batches), the node refuses the remembered nonce as spent: the queue
// must send again on the chain's count instead of failing the user's request.
import { expect } from "chai";
import { Wallet } from "ethers";
import { loadOperatorKeys } from "../../../server/chain/operator-keys.js";
import { startTestService, type TestService } from "../harness.js";

describe("The transaction queue of a key another sender also uses", function () {
  this.timeout(120_000);
  let t: TestService;

  before(async function () {
    t = await startTestService();
  });

  after(async function () {
    await t?.close();
  });

  it("sends again on the chain's nonce when the remembered one was spent, and journals the refused one as dropped", async function () {
    const ctx = t.service.ctx;
    const queue = ctx.chain.keeper;
    const key = loadOperatorKeys(ctx.config.dataDir, ctx.vault, {}, { generateHot: true }).keeper;
    const outsider = new Wallet(key, ctx.chain.provider);
    expect(outsider.address).to.equal(queue.address);
    const selfTransfer = { to: queue.address, value: 0n };

    await queue.send(selfTransfer, { kind: "test:first", ref: "nonce-test" });
    const remembered = await ctx.chain.provider.getTransactionCount(queue.address, "pending");
    // The same key, outside the queue: the nonce the queue remembers is now spent.
    await (await outsider.sendTransaction({ ...selfTransfer, nonce: remembered })).wait();

    const receipt = await queue.send(selfTransfer, { kind: "test:after-outsider", ref: "nonce-test" });
    expect(receipt.status).to.equal(1);
    const sent = await ctx.chain.provider.getTransaction(receipt.hash);
    expect(sent!.nonce).to.equal(remembered + 1);

    const journal = await ctx.db
      .selectFrom("tx_journal")
      .select(["kind", "nonce", "state"])
      .where("ref", "=", "nonce-test")
      .orderBy("id")
      .execute();
    expect(journal.map((row) => [row.kind, Number(row.nonce), row.state])).to.deep.equal([
      ["test:first", remembered - 1, "mined"],
      ["test:after-outsider", remembered, "dropped"],
      ["test:after-outsider", remembered + 1, "mined"],
    ]);
  });
});
