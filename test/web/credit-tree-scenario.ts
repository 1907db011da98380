// The demo-like receivable the browser test reads: a debtor, three supplier tiers, two
// financiers and an auditor; the receivable split down to tier 3, the tier-3 piece sold
// to one financier, the tier-2 piece pledged to the other, and the tier-1 piece offered
// on the open market (unfunded), all through the v1 API.
import { expect } from "chai";
import type { ApiClient } from "../server/client.js";
import type { TestService } from "../server/harness.js";
import { mint, SHARES, threeTierReceivable, type ThreeTierReceivable } from "../server/repayment-scenario.js";
import { createTestParty, type TestParty } from "../server/scenario.js";

export interface CreditTreeWorld {
  operatorKey: string;
  parties: {
    debtor: TestParty;
    tier1: TestParty;
    tier2: TestParty;
    tier3: TestParty;
    buyer: TestParty;
    pledgee: TestParty;
    auditor: TestParty;
  };
  receivable: ThreeTierReceivable;
  /** Prices in minor units: the tier-3 piece sold at 24, the tier-2 piece pledged for 30 (34 to repay). */
  terms: { salePrice: bigint; pledgePrice: bigint; pledgeRepay: bigint; offerPrice: bigint };
  requests: { sale: string; pledge: string; offer: string };
}

async function openAndFund(
  t: TestService,
  api: ApiClient,
  holder: TestParty,
  financier: TestParty | undefined,
  body: Record<string, string>,
): Promise<string> {
  const opened = await api.as(holder.apiKey).post("/v1/financing-requests", body);
  expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
  if (financier) {
    await mint(t, financier.address, BigInt(body.price!));
    const funded = await api.as(financier.apiKey).post(`/v1/financing-requests/${opened.body.id}/fund`);
    expect(funded.status, JSON.stringify(funded.body)).to.equal(200);
  }
  return String(opened.body.id);
}

export async function buildCreditTreeWorld(t: TestService, api: ApiClient): Promise<CreditTreeWorld> {
  const operator = api.as(t.operatorKey);
  const parties = {
    debtor: await createTestParty(operator, ["debtor"], { name: "Northwind Mart" }),
    tier1: await createTestParty(operator, ["supplier", "debtor"], { name: "Acme Components" }),
    tier2: await createTestParty(operator, ["supplier", "debtor"], { name: "Bolt Metals" }),
    tier3: await createTestParty(operator, ["supplier"], { name: "Coil Wire Co" }),
    buyer: await createTestParty(operator, ["financier"], { name: "Harbor Bank" }),
    pledgee: await createTestParty(operator, ["financier"], { name: "Summit Factoring" }),
    auditor: await createTestParty(operator, ["auditor"], { name: "Ledger Audit" }),
  };
  const receivable = await threeTierReceivable(api, parties);
  const terms = {
    salePrice: SHARES.tier3 - 1_000_000n,
    pledgePrice: SHARES.tier2 - 5_000_000n,
    pledgeRepay: SHARES.tier2 - 1_000_000n,
    offerPrice: SHARES.tier1 - 2_000_000n,
  };
  const sale = await openAndFund(t, api, parties.tier3, parties.buyer, {
    certificateId: receivable.leaves.tier3,
    kind: "discount",
    price: terms.salePrice.toString(),
  });
  const pledge = await openAndFund(t, api, parties.tier2, parties.pledgee, {
    certificateId: receivable.leaves.tier2,
    kind: "pledge",
    price: terms.pledgePrice.toString(),
    repayAmount: terms.pledgeRepay.toString(),
  });
  const offer = await openAndFund(t, api, parties.tier1, undefined, {
    certificateId: receivable.leaves.tier1,
    kind: "discount",
    price: terms.offerPrice.toString(),
  });
  await t.service.ctx.indexer.sync(await t.service.ctx.chain.provider.getBlockNumber());
  return { operatorKey: t.operatorKey, parties, receivable, terms, requests: { sale, pledge, offer } };
}
