// Builds repayment scenarios for the repayment and keeper tests: a receivable registered
// through the API and split down three tiers, settlement-token balances, minting, a pledge
// opened and funded on-chain with the parties' custodial keys, and chain time.
import { expect } from "chai";
import { Wallet } from "ethers";
import type { ApiClient } from "./client.js";
import type { TestService } from "./harness.js";
import { validSubmission, type TestParty } from "./scenario.js";
import { FinancingKind } from "../../server/model/contract-enums.js";

export const FACE = 100_000_000n; // validSubmission: 100 x 1,000,000
export const SHARES = { tier1: 40_000_000n, tier2: 35_000_000n, tier3: 25_000_000n } as const;

export interface RegisteredReceivable {
  id: string;
  rootId: string;
  dueDate: number;
}

export interface ThreeTierReceivable extends RegisteredReceivable {
  /** The leaf certificate each tier holds: tier1 40%, tier2 35%, tier3 25% of face. */
  leaves: { tier1: string; tier2: string; tier3: string };
}

export async function registeredReceivable(
  api: ApiClient,
  seller: TestParty,
  debtor: TestParty,
): Promise<RegisteredReceivable> {
  const submitted = await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id));
  expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
  const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
  expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
  return {
    id: submitted.body.id,
    rootId: confirmed.body.certificateId,
    dueDate: Math.floor(Date.parse(submitted.body.dueDate) / 1000),
  };
}

/** The root split: tier1 keeps 40%, passes 60% to tier2, which passes 25% on to tier3. */
export async function threeTierReceivable(
  api: ApiClient,
  parties: { tier1: TestParty; tier2: TestParty; tier3: TestParty; debtor: TestParty },
): Promise<ThreeTierReceivable> {
  const receivable = await registeredReceivable(api, parties.tier1, parties.debtor);
  const first = await api.as(parties.tier1.apiKey).post(`/v1/certificates/${receivable.rootId}/split`, {
    parts: [
      { toPartyId: parties.tier2.id, amount: (SHARES.tier2 + SHARES.tier3).toString() },
      { toPartyId: parties.tier1.id, amount: SHARES.tier1.toString() },
    ],
  });
  expect(first.status, JSON.stringify(first.body)).to.equal(200);
  const toTier2 = first.body.children.find((c: { holderPartyId: string }) => c.holderPartyId === parties.tier2.id)
    .id as string;
  const tier1Leaf = first.body.children.find((c: { holderPartyId: string }) => c.holderPartyId === parties.tier1.id)
    .id as string;
  const second = await api.as(parties.tier2.apiKey).post(`/v1/certificates/${toTier2}/split`, {
    parts: [
      { toPartyId: parties.tier3.id, amount: SHARES.tier3.toString() },
      { toPartyId: parties.tier2.id, amount: SHARES.tier2.toString() },
    ],
  });
  expect(second.status, JSON.stringify(second.body)).to.equal(200);
  const find = (partyId: string, tier: number) =>
    second.body.children.find(
      (c: { holderPartyId: string; tier: number }) => c.holderPartyId === partyId && c.tier === tier,
    ).id as string;
  return {
    ...receivable,
    leaves: { tier1: tier1Leaf, tier2: find(parties.tier2.id, 2), tier3: find(parties.tier3.id, 3) },
  };
}

export async function mint(t: TestService, address: string, amount: bigint): Promise<void> {
  const { ctx } = t.service;
  const request = await ctx.chain.contracts.token.getFunction("mint").populateTransaction(address, amount);
  await ctx.chain.registrar.send(request, { kind: "mint", ref: "test" });
}

export async function balanceOf(t: TestService, address: string): Promise<bigint> {
  return BigInt(await t.service.ctx.chain.contracts.token.getFunction("balanceOf")(address));
}

export async function balancesOf(t: TestService, addresses: Record<string, string>): Promise<Record<string, bigint>> {
  const out: Record<string, bigint> = {};
  for (const [name, address] of Object.entries(addresses)) out[name] = await balanceOf(t, address);
  return out;
}

/** What each balance gained since `before` (negative: lost). */
export function deltas(before: Record<string, bigint>, after: Record<string, bigint>): Record<string, bigint> {
  return Object.fromEntries(Object.keys(before).map((name) => [name, after[name]! - before[name]!]));
}

/** The party's custodial key, decrypted from the vault, on the service's own per-signer queue. */
export async function senderOf(t: TestService, party: TestParty) {
  const { ctx } = t.service;
  const row = await ctx.db
    .selectFrom("parties")
    .select("encrypted_key")
    .where("id", "=", party.id)
    .executeTakeFirstOrThrow();
  return ctx.chain.senderFor(new Wallet(ctx.vault.decrypt(row.encrypted_key!)));
}

const PLEDGE = Number(FinancingKind.pledge);

/** The holder pledges `certificateId`; the financier (minted the price first) funds it. */
export async function pledge(
  t: TestService,
  holder: TestParty,
  financier: TestParty,
  certificateId: string,
  terms: { price: bigint; repayAmount: bigint },
): Promise<string> {
  const { financing, token } = t.service.ctx.chain.contracts;
  const opened = await (
    await senderOf(t, holder)
  ).send(
    await financing
      .getFunction("openRequest")
      .populateTransaction(certificateId, PLEDGE, terms.price, terms.repayAmount),
    { kind: "test.openRequest", ref: certificateId },
  );
  const requested = opened.logs
    .map((log) => financing.interface.parseLog({ topics: [...log.topics], data: log.data }))
    .find((event) => event?.name === "FinancingRequested");
  const requestId = requested!.args.requestId as bigint;

  await mint(t, financier.address, terms.price);
  const funder = await senderOf(t, financier);
  await funder.send(await token.getFunction("approve").populateTransaction(await financing.getAddress(), terms.price), {
    kind: "test.approve",
    ref: certificateId,
  });
  const funded = await funder.send(
    await financing
      .getFunction("fund")
      .populateTransaction(
        requestId,
        terms.price,
        terms.repayAmount,
        await financing.getFunction("remainingClaimOf")(certificateId),
      ),
    {
      kind: "test.fund",
      ref: certificateId,
    },
  );
  await t.service.ctx.indexer.sync(funded.blockNumber);
  return requestId.toString();
}

/** Moves chain time (block.timestamp) forward and mines a block. Wall clock stays. */
export async function advanceChainTime(t: TestService, seconds: number): Promise<void> {
  await t.service.ctx.chain.provider.send("evm_increaseTime", [seconds]);
  await t.service.ctx.chain.provider.send("evm_mine", []);
}

export async function chainTime(t: TestService): Promise<number> {
  return (await t.service.ctx.chain.provider.getBlock("latest"))!.timestamp;
}

/** LeafSettled events in the index, for `receivableId` or all. */
type EventArgs = Record<string, string> & { txHash: string };

export async function leafSettledEvents(t: TestService, receivableId?: string): Promise<EventArgs[]> {
  const rows = await t.service.ctx.db
    .selectFrom("chain_events")
    .select(["args", "tx_hash"])
    .where("contract", "=", "escrow")
    .where("name", "=", "LeafSettled")
    .orderBy("block_number")
    .orderBy("log_index")
    .execute();
  return rows
    .map((row): EventArgs => ({ ...(JSON.parse(row.args) as Record<string, string>), txHash: row.tx_hash }))
    .filter((args) => receivableId === undefined || args.receivableId === receivableId);
}
