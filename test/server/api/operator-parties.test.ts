// The operator suspends and reactivates a party through the API; funds a party created on
// the local chain with test tUSD so that it can repay; a party withdraws the payments the
// escrow kept for it when its token refused the push.
import { expect } from "chai";
import { AbiCoder, keccak256, toBeHex, zeroPadValue } from "ethers";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import { FACE, mint, registeredReceivable } from "../repayment-scenario.js";

describe("operating parties", function () {
  this.timeout(180_000);
  let t: TestService;
  let api: ApiClient;
  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl, t.operatorKey);
  });
  after(async function () {
    await t?.close();
  });

  describe("suspending and reactivating", function () {
    let party: TestParty;
    before(async function () {
      party = await createTestParty(api, ["supplier"]);
    });

    it("suspends a party: its key is refused and the party registry marks it inactive", async function () {
      const suspended = await api.post(`/v1/parties/${party.id}/suspend`);
      expect(suspended.status, JSON.stringify(suspended.body)).to.equal(200);
      expect(suspended.body.party.status).to.equal("suspended");
      expect(suspended.body.transactions).to.have.length(1);
      expect(suspended.body.transactions[0].kind).to.equal("suspendParty");
      const { parties } = t.service.ctx.chain.contracts;
      expect(await parties.isActive(party.address)).to.equal(false);
      const onChain = await t.service.ctx.db
        .selectFrom("onchain_parties")
        .select("active")
        .where("address", "=", party.address)
        .executeTakeFirstOrThrow();
      expect(onChain.active).to.equal(0);
      const refused = await api.as(party.apiKey).get("/v1/me");
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal("PARTY_SUSPENDED");
      // Again: nothing more to send.
      const again = await api.post(`/v1/parties/${party.id}/suspend`);
      expect(again.body.transactions).to.deep.equal([]);
    });

    it("reactivates it: its key works again and the registry marks it active", async function () {
      const reactivated = await api.post(`/v1/parties/${party.id}/reactivate`);
      expect(reactivated.status).to.equal(200);
      expect(reactivated.body.party.status).to.equal("active");
      expect(reactivated.body.transactions[0].kind).to.equal("reactivateParty");
      expect(await t.service.ctx.chain.contracts.parties.isActive(party.address)).to.equal(true);
      expect((await api.as(party.apiKey).get("/v1/me")).status).to.equal(200);
    });

    it("refuses to suspend the operator, and an unknown party", async function () {
      const me = await api.get("/v1/me");
      const self = await api.post(`/v1/parties/${me.body.id}/suspend`);
      expect(self.status).to.equal(409);
      expect(self.body.error.code).to.equal("PARTY_IS_OPERATOR");
      const unknown = await api.post("/v1/parties/pty_unknown/suspend");
      expect(unknown.status).to.equal(404);
    });
  });

  describe("test funds on the local chain", function () {
    it("lets a debtor created here repay once the operator funded it", async function () {
      const seller = await createTestParty(api, ["supplier"]);
      const debtor = await createTestParty(api, ["debtor"]);
      const receivable = await registeredReceivable(api, seller, debtor);
      const broke = await api.as(debtor.apiKey).post(`/v1/receivables/${receivable.id}/repayments`, {
        amount: FACE.toString(),
      });
      expect(broke.status).to.equal(409);
      expect(broke.body.error.code).to.equal("INSUFFICIENT_BALANCE");

      const funded = await api.post(`/v1/parties/${debtor.id}/test-funds`, { amount: FACE.toString() });
      expect(funded.status, JSON.stringify(funded.body)).to.equal(200);
      expect(funded.body.amount).to.equal(FACE.toString());
      expect(funded.body.balance).to.equal(FACE.toString());
      expect(funded.body.transactions[0].kind).to.equal("mintTestFunds");
      expect(await t.service.ctx.chain.contracts.token.balanceOf(debtor.address)).to.equal(FACE);

      const repaid = await api.as(debtor.apiKey).post(`/v1/receivables/${receivable.id}/repayments`, {
        amount: FACE.toString(),
      });
      expect(repaid.status, JSON.stringify(repaid.body)).to.equal(200);
      expect(repaid.body.paid).to.equal(FACE.toString());
    });

    it("is the operator's alone", async function () {
      const debtor = await createTestParty(api, ["debtor"]);
      const refused = await api.as(debtor.apiKey).post(`/v1/parties/${debtor.id}/test-funds`, { amount: "1" });
      expect(refused.status).to.equal(403);
      expect(await t.service.ctx.chain.contracts.token.balanceOf(debtor.address)).to.equal(0n);
    });
  });

  describe("held payments", function () {
    /**
     * The state a refused push leaves (the escrow keeps the payment for the account): the
     * escrow's claimable entry for `account` and its total, and the tokens in the escrow.
     * The mapping's slot is found by trying: set a candidate slot, read claimableOf.
     */
    async function holdPaymentFor(account: string, amount: bigint): Promise<void> {
      const { escrow } = t.service.ctx.chain.contracts;
      const escrowAddress = await escrow.getAddress();
      const provider = t.service.ctx.chain.provider;
      const word = zeroPadValue(toBeHex(amount), 32);
      for (let slot = 0; slot < 64; slot++) {
        const key = keccak256(AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [account, slot]));
        const before = await provider.send("eth_getStorageAt", [escrowAddress, key, "latest"]);
        await provider.send("anvil_setStorageAt", [escrowAddress, key, word]);
        if ((await escrow.claimableOf(account)) === amount) {
          // totalClaimable: the plain slot whose value moves with it.
          for (let total = 0; total < 64; total++) {
            const at = toBeHex(total, 32);
            const was = await provider.send("eth_getStorageAt", [escrowAddress, at, "latest"]);
            await provider.send("anvil_setStorageAt", [escrowAddress, at, word]);
            if ((await escrow.totalClaimable()) === amount) break;
            await provider.send("anvil_setStorageAt", [escrowAddress, at, was]);
          }
          await mint(t, escrowAddress, amount);
          return;
        }
        await provider.send("anvil_setStorageAt", [escrowAddress, key, before]);
      }
      throw new Error("could not find the escrow's claimable mapping");
    }

    it("shows what the escrow kept for the caller and withdraws it to the caller's address", async function () {
      const holder = await createTestParty(api, ["supplier"]);
      const none = await api.as(holder.apiKey).get("/v1/me/held-payments");
      expect(none.body).to.deep.equal({ address: holder.address, claimable: "0" });
      const nothing = await api.as(holder.apiKey).post("/v1/me/held-payments/withdraw", {});
      expect(nothing.status).to.equal(409);
      expect(nothing.body.error.code).to.equal("NOTHING_TO_WITHDRAW");

      await holdPaymentFor(holder.address, 7_000_000n);
      const held = await api.as(holder.apiKey).get("/v1/me/held-payments");
      expect(held.body.claimable).to.equal("7000000");
      const withdrawn = await api.as(holder.apiKey).post("/v1/me/held-payments/withdraw", {});
      expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
      expect(withdrawn.body.amount).to.equal("7000000");
      expect(withdrawn.body.to).to.equal(holder.address);
      expect(withdrawn.body.transactions[0].kind).to.equal("withdrawHeld");
      const { token, escrow } = t.service.ctx.chain.contracts;
      expect(await token.balanceOf(holder.address)).to.equal(7_000_000n);
      expect(await escrow.claimableOf(holder.address)).to.equal(0n);
    });
  });
});
