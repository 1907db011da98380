// `npm run demo`: one receivable's whole story, told step by step through the API.
// Against a running `npm start` (where HOST/PORT say, as `npm start` reads them, or --api), or, when none
// answers, on a Tierline of its own that it starts and stops. It ends by checking that the
// sums add up, and exits non-zero if they do not.
import "./lib/node-version.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { id as keccakText, JsonRpcProvider } from "ethers";
import { bindContract } from "../server/chain/contracts.js";
import { createTierlineClient, type TierlineClient } from "../client/index.js";
import { loadEndpoints } from "../server/config.js";
import type { Credentials } from "../server/seed.js";
import { freePort, startLocalService, type LocalService } from "./chain/local-service.js";
import { currentHolder } from "./chain/data-dir-lock.js";
import { createProvider } from "../server/chain/chain-client.js";
import { closeIpcClients } from "../server/chain/ipc-transport.js";

const endpoints = loadEndpoints();
const program = new Command()
  .name("demo")
  .description("Tell one receivable's story through Tierline's API, end to end")
  .option("--api <url>", "a running Tierline API (default: HOST and PORT)", endpoints.apiUrl)
  .option("--credentials <file>", "its credentials file (default: in TIERLINE_DATA_DIR)", endpoints.credentialsFile)
  .option("--own", "always start a Tierline of its own, even if one is running", false)
  .parse();
const options = program.opts<{ api: string; credentials: string; own: boolean }>();

const UNIT = 1_000_000n; // tUSD has 6 decimals
const tusd = (units: bigint | string): string => {
  const value = BigInt(units);
  const whole = value / UNIT;
  const cents = ((value % UNIT) * 100n) / UNIT;
  return `${whole.toLocaleString("en-US")}.${cents.toString().padStart(2, "0")} tUSD`;
};

let step = 0;
const say = (text: string) => console.log(`\n${++step}. ${text}`);
const detail = (text: string) => console.log(`   ${text}`);

interface Reply {
  status: number;
  body: any;
}

/** The typed client (client/, generated from the OpenAPI document) for one party's key. */
function client(baseUrl: string) {
  return (apiKey: string): TierlineClient => createTierlineClient({ baseUrl, apiKey });
}

/** The status and the body (the answer, or the error envelope) of one typed call. */
async function reply(call: Promise<{ response: Response; data?: unknown; error?: unknown }>): Promise<Reply> {
  const { response, data, error } = await call;
  return { status: response.status, body: data ?? error };
}

function expectStatus(reply: Reply, status: number, what: string): void {
  if (reply.status !== status) {
    throw new Error(
      `${what}: expected HTTP ${status}, got ${reply.status}: ${JSON.stringify(reply.body).slice(0, 500)}`,
    );
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`)).ok;
  } catch {
    return false;
  }
}

const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
const DAY_MS = 86_400_000;

async function main(): Promise<void> {
  let own: LocalService | undefined;
  let ownDir: string | undefined;
  let baseUrl = options.api.replace(/\/$/, "");
  let credentials: Credentials;
  if (!options.own && (await answers(baseUrl))) {
    console.log(`Using the Tierline running at ${baseUrl} (credentials from ${options.credentials}).`);
    credentials = JSON.parse(readFileSync(options.credentials, "utf8")) as Credentials;
  } else {
    ownDir = mkdtempSync(path.join(tmpdir(), "tierline-demo-"));
    console.log("No Tierline answers; starting one of its own for the demo (a fresh local chain and database)…");
    own = await startLocalService({
      dataDir: ownDir,
      chainPort: await freePort(),
      apiPort: 0,
      seed: true,
      env: { TIERLINE_KEEPER_INTERVAL_MS: "500" },
    });
    baseUrl = own.baseUrl;
    credentials = own.credentials!;
  }
  const api = client(baseUrl);
  const health = (await (await fetch(`${baseUrl}/health`)).json()) as {
    chain: { chainId: string };
    contracts: Record<string, string>;
  };
  // The running instance's lock names its chain endpoints; without one, where the configuration
  // says (TIERLINE_CHAIN_PORT or TIERLINE_RPC_URL, as for `npm start`): never a guessed port.
  // Moving the clock is an operator's act: through the chain's private channel, which only the
  // data directory's owner can reach (the public endpoint refuses evm_* methods).
  const holder = own ? undefined : currentHolder(endpoints.dataDir);
  const chainUrl = own?.chain.url ?? holder?.chain ?? endpoints.rpcUrl;
  const controlUrl = own?.chain.controlUrl ?? holder?.control;

  try {
    await tell(api, credentials, health, chainUrl, controlUrl);
  } finally {
    closeIpcClients(); // the clock moves' channel to a running Tierline's chain
    if (own) {
      await own.stop();
      rmSync(ownDir!, { recursive: true, force: true });
    }
  }
}

async function tell(
  api: ReturnType<typeof client>,
  credentials: Credentials,
  health: { chain: { chainId: string }; contracts: Record<string, string> },
  chainUrl: string,
  controlUrl: string | undefined,
): Promise<void> {
  const tokenAddress = health.contracts.settlementToken!;
  const byName = (fragment: string) => {
    const party = credentials.parties.find((p) => p.name.includes(fragment));
    if (!party) throw new Error(`the demo cast has no party named like "${fragment}"`);
    return party;
  };
  const debtor = byName("Northwind");
  const tier1 = byName("Acme");
  const tier2 = byName("Bolt");
  const tier3 = byName("Coil");
  const bank = byName("Harbor");
  const factor = byName("Summit");
  const auditor = byName("Ledger");
  const holders = [tier1, tier2, tier3, bank, factor];
  const run = `${Date.now().toString(36).toUpperCase()}`;
  // Two clocks: the documents are dated by the wall clock, the chain checks due dates by its
  // own. An earlier demo run moved the local chain ahead, so the due date is taken from
  // whichever is later.
  const chain = new JsonRpcProvider(chainUrl, undefined, { staticNetwork: true });
  const chainNowMs = Number((await chain.getBlock("latest"))!.timestamp) * 1000;
  chain.destroy();
  const dueDateMs = Math.max(Date.now(), chainNowMs) + 3 * DAY_MS;
  console.log(`\nThe story: ${debtor.name} buys brake parts from ${tier1.name}, who buys metal from ${tier2.name},`);
  console.log(`who buys wire from ${tier3.name}. Everyone upstream needs cash before ${debtor.name} pays in 3 days.`);

  // 1. Trade documents.
  say(
    `${tier1.name} delivered 1,000 brake pads at 1.00 tUSD and submits the purchase order, the delivery proof and the invoice.`,
  );
  const invoiceNumber = `INV-DEMO-${run}`;
  const submission = {
    debtorId: debtor.id,
    purchaseOrder: {
      number: `PO-DEMO-${run}`,
      issuedAt: iso(-10 * DAY_MS),
      currency: "USD",
      lines: [{ sku: "BRAKE-PAD-7", quantity: 1000, unitPrice: "1000000" }],
    },
    delivery: {
      carrier: "Rhein Freight",
      waybill: `WB-${run}`,
      shippedAt: iso(-6 * DAY_MS),
      receivedAt: iso(-4 * DAY_MS),
      receivedBy: "Northwind DC, dock 4",
      lines: [{ sku: "BRAKE-PAD-7", quantity: 1000 }],
    },
    invoice: {
      number: invoiceNumber,
      issuedAt: iso(-2 * DAY_MS),
      dueDate: new Date(dueDateMs).toISOString(),
      lines: [{ sku: "BRAKE-PAD-7", quantity: 1000, unitPrice: "1000000" }],
      tax: "0",
      total: "1000000000",
    },
  };
  const submitted = await reply(api(tier1.apiKey).POST("/v1/receivables", { body: submission }));
  expectStatus(submitted, 201, "submission");
  const receivableId: string = submitted.body.id;
  detail(
    `verification: ${submitted.body.verification.outcome} — ${submitted.body.verification.results.map((r: { rule: string }) => r.rule).join(", ")}`,
  );
  detail(
    `receivable ${receivableId.slice(0, 18)}… for ${tusd(submitted.body.faceValue)}, due ${submitted.body.dueDate.slice(0, 10)}; status ${submitted.body.status}`,
  );

  // 2. The debtor confirms; registration on-chain.
  say(
    `${debtor.name} confirms it owes the money (an EIP-712 signature the registry checks on-chain); the receivable is registered and tokenized.`,
  );
  const confirmed = await reply(
    api(debtor.apiKey).POST("/v1/receivables/{id}/confirm", { params: { path: { id: receivableId } }, body: {} }),
  );
  expectStatus(confirmed, 200, "confirmation");
  const rootId: string = confirmed.body.certificateId;
  detail(
    `certificate #${rootId} (tier 1, ${tusd(submitted.body.faceValue)}) issued to ${tier1.name}; tx ${confirmed.body.txHash}`,
  );

  // 3. A duplicate is refused.
  say(
    `Someone submits the same invoice number again with other documents: the registry's id is built from the parties' legal ids and the invoice number, so it is refused.`,
  );
  const duplicate = await reply(
    api(tier1.apiKey).POST("/v1/receivables", {
      body: {
        ...submission,
        invoice: {
          ...submission.invoice,
          number: invoiceNumber.toLowerCase().replace(/-/g, " "),
          lines: [{ sku: "BRAKE-PAD-7", quantity: 900, unitPrice: "1000000" }],
          total: "900000000",
        },
        delivery: { ...submission.delivery, waybill: `WB2-${run}` },
      },
    }),
  );
  expectStatus(duplicate, 409, "duplicate submission");
  detail(`HTTP 409 ${duplicate.body.error.code}: ${duplicate.body.error.message}`);

  // 4. Tier 1 pays tier 2 with a split; tier 2 pays tier 3.
  say(`${tier1.name} pays ${tier2.name} 600 tUSD with a piece of its certificate and keeps 400.`);
  const split1 = await reply(
    api(tier1.apiKey).POST("/v1/certificates/{id}/split", {
      params: { path: { id: rootId } },
      body: {
        parts: [
          { toPartyId: tier2.id, amount: "600000000" },
          { toPartyId: tier1.id, amount: "400000000" },
        ],
      },
    }),
  );
  expectStatus(split1, 200, "split by tier 1");
  const [tier2Piece, tier1Piece] = split1.body.children as Array<{ id: string; tier: number; faceValue: string }>;
  detail(
    `certificate #${tier2Piece!.id} (tier ${tier2Piece!.tier}, ${tusd(tier2Piece!.faceValue)}) to ${tier2.name}; #${tier1Piece!.id} (tier ${tier1Piece!.tier}, ${tusd(tier1Piece!.faceValue)}) stays with ${tier1.name}`,
  );

  say(`${tier2.name} pays ${tier3.name} 250 tUSD the same way and keeps 350.`);
  const split2 = await reply(
    api(tier2.apiKey).POST("/v1/certificates/{id}/split", {
      params: { path: { id: tier2Piece!.id } },
      body: {
        parts: [
          { toPartyId: tier3.id, amount: "250000000" },
          { toPartyId: tier2.id, amount: "350000000" },
        ],
      },
    }),
  );
  expectStatus(split2, 200, "split by tier 2");
  const [tier3Piece, tier2Kept] = split2.body.children as Array<{ id: string; tier: number; faceValue: string }>;
  detail(
    `certificate #${tier3Piece!.id} (tier ${tier3Piece!.tier}, ${tusd(tier3Piece!.faceValue)}) to ${tier3.name}; #${tier2Kept!.id} (${tusd(tier2Kept!.faceValue)}) stays with ${tier2.name}`,
  );

  // 5. Tier 3 sells its piece to the bank; tier 2 pledges its own.
  say(
    `${tier3.name}, three tiers from the buyer, needs cash today: it offers its 250 tUSD piece for 248.50 tUSD, and ${bank.name} buys it on the chain — money and certificate in one transaction.`,
  );
  const offer = await reply(
    api(tier3.apiKey).POST("/v1/financing-requests", {
      body: {
        certificateId: tier3Piece!.id,
        kind: "discount",
        price: "248500000",
      },
    }),
  );
  expectStatus(offer, 201, "financing request");
  const funded = await reply(
    api(bank.apiKey).POST("/v1/financing-requests/{id}/fund", { params: { path: { id: offer.body.id } } }),
  );
  expectStatus(funded, 200, "funding");
  detail(
    `request #${offer.body.id} funded: ${tier3.name} received ${tusd(offer.body.price)}; certificate #${tier3Piece!.id} now belongs to ${bank.name}; tx ${funded.body.txHashes?.fund ?? ""}`,
  );

  say(
    `${tier2.name} pledges its 350 tUSD piece to ${factor.name} for a 340 tUSD loan, to be repaid 345 tUSD out of the payout.`,
  );
  const pledge = await reply(
    api(tier2.apiKey).POST("/v1/financing-requests", {
      body: {
        certificateId: tier2Kept!.id,
        kind: "pledge",
        price: "340000000",
        repayAmount: "345000000",
      },
    }),
  );
  expectStatus(pledge, 201, "pledge request");
  const pledged = await reply(
    api(factor.apiKey).POST("/v1/financing-requests/{id}/fund", { params: { path: { id: pledge.body.id } } }),
  );
  expectStatus(pledged, 200, "pledge funding");
  detail(
    `pledge #${pledge.body.id} funded: ${tier2.name} received ${tusd(pledge.body.price)}; the certificate stays with it, locked`,
  );

  say(
    `${tier2.name} tries to pledge the same piece a second time, elsewhere: the certificate is locked on-chain, so it is refused.`,
  );
  const second = await reply(
    api(tier2.apiKey).POST("/v1/financing-requests", {
      body: {
        certificateId: tier2Kept!.id,
        kind: "pledge",
        price: "100000000",
        repayAmount: "100000000",
      },
    }),
  );
  expectStatus(second, 409, "second pledge");
  detail(`HTTP 409 ${second.body.error.code}: ${second.body.error.message}`);

  // 6. A return: the credit note flows down the tree (issue 16).
  say(
    `${debtor.name} finds 100 brake pads damaged and returns them: it proposes a 100 tUSD credit note; the service checks the returned line against the invoice.`,
  );
  const proposed = await reply(
    api(debtor.apiKey).POST("/v1/receivables/{id}/credit-notes", {
      params: { path: { id: receivableId } },
      body: {
        amount: "100000000",
        reasonCode: "RETURN",
        documentHash: keccakText(`return note ${run}: 100 x BRAKE-PAD-7, damaged`),
        lines: [{ sku: "BRAKE-PAD-7", quantity: 100 }],
      },
    }),
  );
  expectStatus(proposed, 200, "credit note");
  const creditNoteId: string = proposed.body.creditNote.id;
  detail(
    `credit note #${creditNoteId} for ${tusd(proposed.body.creditNote.amount)} proposed; the receivable is disputed (no new split or financing) until it ends`,
  );
  say(
    `${tier1.name}, the original seller, agrees (the service signs its EIP-712 consent); the note flows down: its own retained piece absorbs it first, so the pieces it passed on keep their value.`,
  );
  const consented = await reply(
    api(tier1.apiKey).POST("/v1/credit-notes/{id}/consent", { params: { path: { id: creditNoteId } } }),
  );
  expectStatus(consented, 200, "credit note consent");
  for (const leaf of consented.body.creditNote.leaves as Array<{
    certificateId: string;
    reduction: string;
    claim: string;
    retained: boolean;
  }>)
    detail(
      `certificate #${leaf.certificateId}: cut ${tusd(leaf.reduction)}${leaf.retained ? " (the seller's retained piece)" : ""}, now a claim of ${tusd(leaf.claim)}`,
    );
  const owedNow = await reply(
    api(debtor.apiKey).GET("/v1/receivables/{id}", { params: { path: { id: receivableId } } }),
  );
  expectStatus(owedNow, 200, "receivable after the credit note");
  detail(
    `${debtor.name} now owes ${tusd(owedNow.body.owedAmount)} (face ${tusd(owedNow.body.faceValue)} − credited ${tusd(owedNow.body.creditedAmount)})`,
  );

  // 7. Maturity and repayment.
  const before = await balancesOf(chainUrl, tokenAddress, holders);
  say(
    `Three days pass (the local chain's clock is moved forward), and ${debtor.name} pays the ${tusd(owedNow.body.owedAmount)} it still owes — once.`,
  );
  if (health.chain.chainId !== "31337")
    throw new Error("the demo moves the chain's clock, which only a local chain allows");
  if (!controlUrl)
    throw new Error(
      "the demo moves the local chain's clock through its private channel; run it as the user who runs `npm start`, with the same TIERLINE_DATA_DIR",
    );
  const provider = createProvider(controlUrl);
  const chainNow = Number((await provider.getBlock("latest"))!.timestamp);
  provider.destroy();
  const moved = await reply(
    api(credentials.operator.apiKey).POST("/v1/operator/chain/advance-time", {
      body: { seconds: Math.ceil(dueDateMs / 1000) - chainNow + 60 },
    }),
  );
  expectStatus(moved, 200, "clock move");
  const repaid = await reply(
    api(debtor.apiKey).POST("/v1/receivables/{id}/repayments", {
      params: { path: { id: receivableId } },
      body: { amount: owedNow.body.owedAmount },
    }),
  );
  expectStatus(repaid, 200, "repayment");
  detail(`repayment of ${tusd(owedNow.body.owedAmount)} received; tx ${repaid.body.txHash ?? ""}`);

  say("Nobody asks to be paid: the service's keeper settles every holder, the pledgee first.");
  const deadline = Date.now() + 60_000;
  let trace: Reply;
  for (;;) {
    trace = await reply(
      api(auditor.apiKey).GET("/v1/audit/receivables/{id}/trace", { params: { path: { id: receivableId } } }),
    );
    expectStatus(trace, 200, "trace");
    if (
      BigInt(trace.body.receivable.distributed) === BigInt(trace.body.receivable.repaidAmount) &&
      trace.body.receivable.repaidAmount !== "0"
    )
      break;
    if (Date.now() > deadline) throw new Error("the keeper did not settle within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const after = await balancesOf(chainUrl, tokenAddress, holders);
  const received = new Map(holders.map((p) => [p.id, after.get(p.id)! - before.get(p.id)!]));
  const notes = new Map([
    [tier1.id, "(its 400 tUSD piece bore the 100 tUSD return)"],
    [tier3.id, "(it was paid 248.50 tUSD up front when it sold its piece)"],
    [tier2.id, "(its 350 tUSD share went first to repay the 345 tUSD pledge loan)"],
    [factor.id, "(the pledge loan, repaid out of the payout)"],
  ]);
  for (const p of holders)
    detail(`${p.name.padEnd(28)} received ${tusd(received.get(p.id)!).padStart(14)} ${notes.get(p.id) ?? ""}`);

  // 8. The auditor's view.
  say(`${auditor.name} traces the credit back to the trade that created it:`);
  const text = await reply(
    api(auditor.apiKey).GET("/v1/audit/receivables/{id}/trace", {
      params: { path: { id: receivableId }, query: { format: "text" } },
      parseAs: "text",
    }),
  );
  expectStatus(text, 200, "text trace");
  console.log(
    String(text.body)
      .split("\n")
      .map((line) => `   ${line}`)
      .join("\n"),
  );

  // 9. The sums.
  say("Checking that the sums add up:");
  const expected = new Map([
    [tier1.id, 300n * UNIT], // 400 less the 100 tUSD return its retained piece absorbed
    [tier3.id, 0n],
    [bank.id, 250n * UNIT],
    [factor.id, 345n * UNIT],
    [tier2.id, 5n * UNIT],
  ]);
  const checks: Array<[string, boolean]> = [
    [
      `face value conserved down the tree, and the leaves' claims add up to face − credited ${tusd(trace!.body.conservation.liveLeafClaimSum)} (${trace!.body.conservation.conserves ? "yes" : "NO"})`,
      trace!.body.conservation.conserves === true,
    ],
    [
      `credited ${tusd(trace!.body.receivable.creditedAmount)} by the return; paid in ${tusd(trace!.body.receivable.repaidAmount)} == owed ${tusd(trace!.body.receivable.owedAmount)}`,
      trace!.body.receivable.creditedAmount === "100000000" &&
        trace!.body.receivable.repaidAmount === trace!.body.receivable.owedAmount,
    ],
    [
      `paid out ${tusd(trace!.body.receivable.distributed)} == paid in ${tusd(trace!.body.receivable.repaidAmount)}`,
      trace!.body.receivable.distributed === trace!.body.receivable.repaidAmount,
    ],
    ...holders.map((p): [string, boolean] => [
      `${p.name}: ${tusd(received.get(p.id)!)} (expected ${tusd(expected.get(p.id)!)})`,
      received.get(p.id) === expected.get(p.id),
    ]),
    [
      `every unit the debtor paid reached someone: ${tusd([...received.values()].reduce((a, b) => a + b, 0n))}`,
      [...received.values()].reduce((a, b) => a + b, 0n) === 900n * UNIT,
    ],
  ];
  let ok = true;
  for (const [label, passed] of checks) {
    detail(`${passed ? "✔" : "✘"} ${label}`);
    ok &&= passed;
  }

  // 10-14. A second receivable defaults; the loss lands on the nearest endorser (issue 16).
  for (const [label, passed] of await tellDefault(api, credentials, health, chainUrl, run, byName)) {
    detail(`${passed ? "✔" : "✘"} ${label}`);
    ok &&= passed;
  }
  console.log(ok ? "\nThe sums add up. That is Tierline." : "\nTHE SUMS DO NOT ADD UP.");
  if (!ok) process.exitCode = 1;
}

/** The chain's clock, in seconds (read on the public endpoint, like the balances). */
async function chainSeconds(chainUrl: string): Promise<number> {
  const provider = new JsonRpcProvider(chainUrl, undefined, { staticNetwork: true });
  const now = Number((await provider.getBlock("latest"))!.timestamp);
  provider.destroy();
  return now;
}

/**
 * The second half of issue 16's story: a small receivable whose holders endorse with recourse
 * before passing pieces on, then the debtor does not pay. The receivable defaults, the last
 * holder's claim lands on the nearest endorser, who pays and passes it up to the seller.
 * Acme is the debtor (not Northwind): a default lowers the debtor's score, and the first half's
 * financing prices must stay within Northwind's advance rate when the demo runs again.
 * Answers its checks, as [label, passed].
 */
async function tellDefault(
  api: ReturnType<typeof client>,
  credentials: Credentials,
  health: { chain: { chainId: string }; contracts: Record<string, string> },
  chainUrl: string,
  run: string,
  byName: (fragment: string) => Credentials["parties"][number],
): Promise<Array<[string, boolean]>> {
  const debtor = byName("Acme");
  const seller = byName("Bolt");
  const tier3 = byName("Coil");
  const bank = byName("Harbor");
  const auditor = byName("Ledger");
  const FACE = 250n * UNIT;
  const PIECE = 200n * UNIT;
  const dueDateMs = Math.max(Date.now(), (await chainSeconds(chainUrl)) * 1000) + 3 * DAY_MS;

  console.log(
    `\nA second sale goes wrong: ${seller.name} sells ${debtor.name} steel rod for ${tusd(FACE)}, due in 3 days,`,
  );
  console.log(`and this time the holders pass pieces on with recourse: each one vouches for what it passes on.`);

  say(`${seller.name} submits its order, delivery and invoice; ${debtor.name} confirms; the receivable is registered.`);
  const line = { sku: "STEEL-ROD-12", quantity: 250, unitPrice: "1000000" };
  const submitted = await reply(
    api(seller.apiKey).POST("/v1/receivables", {
      body: {
        debtorId: debtor.id,
        purchaseOrder: { number: `PO-DEF-${run}`, issuedAt: iso(-10 * DAY_MS), currency: "USD", lines: [line] },
        delivery: {
          carrier: "Rhein Freight",
          waybill: `WB-DEF-${run}`,
          shippedAt: iso(-6 * DAY_MS),
          receivedAt: iso(-4 * DAY_MS),
          receivedBy: "Acme goods-in",
          lines: [{ sku: line.sku, quantity: line.quantity }],
        },
        invoice: {
          number: `INV-DEF-${run}`,
          issuedAt: iso(-2 * DAY_MS),
          dueDate: new Date(dueDateMs).toISOString(),
          lines: [line],
          tax: "0",
          total: FACE.toString(),
        },
      },
    }),
  );
  expectStatus(submitted, 201, "second submission");
  const receivableId: string = submitted.body.id;
  const confirmed = await reply(
    api(debtor.apiKey).POST("/v1/receivables/{id}/confirm", { params: { path: { id: receivableId } }, body: {} }),
  );
  expectStatus(confirmed, 200, "second confirmation");
  const rootId: string = confirmed.body.certificateId;
  detail(`certificate #${rootId} (${tusd(FACE)}) issued to ${seller.name}, due ${submitted.body.dueDate.slice(0, 10)}`);

  say(
    `${seller.name} endorses it with recourse, then pays ${tier3.name} ${tusd(PIECE)} with a piece and keeps the rest.`,
  );
  const sellerEndorsed = await reply(
    api(seller.apiKey).POST("/v1/certificates/{id}/recourse", { params: { path: { id: rootId } } }),
  );
  expectStatus(sellerEndorsed, 200, "the seller's endorsement");
  const split = await reply(
    api(seller.apiKey).POST("/v1/certificates/{id}/split", {
      params: { path: { id: rootId } },
      body: {
        parts: [
          { toPartyId: tier3.id, amount: PIECE.toString() },
          { toPartyId: seller.id, amount: (FACE - PIECE).toString() },
        ],
      },
    }),
  );
  expectStatus(split, 200, "split by the seller");
  const [piece, kept] = split.body.children as Array<{ id: string; faceValue: string }>;
  detail(
    `${seller.name} endorsed #${rootId} (tx ${sellerEndorsed.body.transactions[0]?.hash ?? ""}); #${piece!.id} (${tusd(piece!.faceValue)}) to ${tier3.name}, #${kept!.id} (${tusd(kept!.faceValue)}) stays`,
  );

  say(`${tier3.name} endorses its piece too and hands it to ${bank.name} to pay down its credit line.`);
  const tier3Endorsed = await reply(
    api(tier3.apiKey).POST("/v1/certificates/{id}/recourse", { params: { path: { id: piece!.id } } }),
  );
  expectStatus(tier3Endorsed, 200, "tier 3's endorsement");
  const handed = await reply(
    api(tier3.apiKey).POST("/v1/certificates/{id}/transfer", {
      params: { path: { id: piece!.id } },
      body: { toPartyId: bank.id },
    }),
  );
  expectStatus(handed, 200, "transfer to the bank");
  detail(
    `certificate #${piece!.id} now belongs to ${bank.name}, endorsed by ${seller.name} (on #${rootId}) and ${tier3.name} (on #${piece!.id})`,
  );

  // The debtor does not pay: the clock moves past the due date and the grace period frozen
  // into the receivable at registration; the keeper marks it overdue, then defaulted.
  const chain = new JsonRpcProvider(chainUrl, undefined, { staticNetwork: true });
  const registry = bindContract("ReceivableRegistry", health.contracts.receivableRegistry!, chain);
  const onChain = await registry.receivableOf(receivableId);
  const dueSeconds = Number(onChain.dueDate);
  const graceSeconds = Number(onChain.gracePeriod);
  chain.destroy();
  say(
    `${debtor.name} does not pay. The due date passes, then the ${graceSeconds / 86_400}-day grace period (the clock is moved again); the keeper marks the receivable defaulted.`,
  );
  const moved = await reply(
    api(credentials.operator.apiKey).POST("/v1/operator/chain/advance-time", {
      body: { seconds: dueSeconds + graceSeconds - (await chainSeconds(chainUrl)) + 60 },
    }),
  );
  expectStatus(moved, 200, "clock move past the grace period");
  const deadline = Date.now() + 60_000;
  let status: string;
  for (;;) {
    const view = await reply(
      api(seller.apiKey).GET("/v1/receivables/{id}", { params: { path: { id: receivableId } } }),
    );
    expectStatus(view, 200, "the second receivable");
    status = view.body.status;
    if (status === "defaulted") break;
    if (Date.now() > deadline) throw new Error(`the keeper did not mark default within 60 s (status ${status})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  detail(`receivable ${receivableId.slice(0, 18)}…: status ${status}; ${tusd(FACE)} unpaid`);

  say(
    `${bank.name} holds a piece of a defaulted receivable. It claims on it: the service finds the nearest endorser above it.`,
  );
  const opened = await reply(
    api(bank.apiKey).POST("/v1/certificates/{id}/recourse-claims", {
      params: { path: { id: piece!.id } },
      body: { kind: "default" },
    }),
  );
  expectStatus(opened, 200, "default claim");
  const claim = opened.body.claim as { id: string; guarantor: string; amount: string; status: string };
  const nameAt = (address: string) =>
    credentials.parties.find((p) => p.address.toLowerCase() === address.toLowerCase())?.name ?? address;
  if (claim.guarantor.toLowerCase() !== tier3.address.toLowerCase())
    throw new Error(`the claim landed on ${nameAt(claim.guarantor)}, not on the nearest endorser ${tier3.name}`);
  detail(
    `recourse claim #${claim.id} (default) lands on ${nameAt(claim.guarantor)}, the nearest endorser, for ${tusd(claim.amount)}; status ${claim.status}`,
  );
  const paid = await reply(
    api(tier3.apiKey).POST("/v1/recourse-claims/{id}/pay", { params: { path: { id: claim.id } } }),
  );
  expectStatus(paid, 200, "tier 3 pays the claim");
  detail(
    `${tier3.name} pays ${tusd(paid.body.claim.amount)} to ${bank.name} (out of what it was paid for its first piece) and takes the piece back; claim #${claim.id} ${paid.body.claim.status}`,
  );

  say(`${tier3.name} passes the claim up to the endorser above it, ${seller.name}, which sold the goods and pays.`);
  const escalated = await reply(
    api(tier3.apiKey).POST("/v1/recourse-claims/{id}/escalate", { params: { path: { id: claim.id } } }),
  );
  expectStatus(escalated, 200, "escalation");
  const upper = escalated.body.claim as { id: string; guarantor: string; amount: string };
  if (upper.guarantor.toLowerCase() !== seller.address.toLowerCase())
    throw new Error(`the escalated claim landed on ${nameAt(upper.guarantor)}, not on the seller ${seller.name}`);
  detail(`recourse claim #${upper.id} lands on ${nameAt(upper.guarantor)} for ${tusd(upper.amount)}`);
  const sellerPaid = await reply(
    api(seller.apiKey).POST("/v1/recourse-claims/{id}/pay", { params: { path: { id: upper.id } } }),
  );
  expectStatus(sellerPaid, 200, "the seller pays the escalated claim");
  detail(
    `${seller.name} pays ${tusd(sellerPaid.body.claim.amount)} to ${tier3.name}; claim #${upper.id} ${sellerPaid.body.claim.status}; the piece, and the debt on ${debtor.name}, end with ${seller.name}`,
  );

  say(`${auditor.name} reads where the loss went: each endorser's exposure, and the tree.`);
  const owes = new Map<string, string>();
  for (const party of [tier3, seller]) {
    const exposure = await reply(
      api(auditor.apiKey).GET("/v1/audit/parties/{id}/exposure", { params: { path: { id: party.id } } }),
    );
    expectStatus(exposure, 200, "exposure");
    owes.set(party.id, exposure.body.recourse.owesAsGuarantor);
    const theirs = (
      exposure.body.recourse.claims as Array<{
        claimId: string;
        kind: string;
        status: string;
        amount: string;
        creditor: { name: string };
        guarantor: { name: string };
      }>
    ).filter((c) => c.claimId === claim.id || c.claimId === upper.id);
    detail(
      `${party.name}: owes ${tusd(exposure.body.recourse.owesAsGuarantor)} as a guarantor now; ${theirs.map((c) => `claim #${c.claimId} (${c.kind}) ${c.status}, ${c.creditor.name} on ${c.guarantor.name}, ${tusd(c.amount)}`).join("; ")}`,
    );
  }
  const text = await reply(
    api(auditor.apiKey).GET("/v1/audit/receivables/{id}/trace", {
      params: { path: { id: receivableId }, query: { format: "text" } },
      parseAs: "text",
    }),
  );
  expectStatus(text, 200, "text trace of the default");
  // The tree, where the claims sit on the leaf they were opened on (the header and the
  // transaction list are as in the first trace).
  const lines = String(text.body).split("\n");
  const tree = lines.slice(
    lines.findIndex((l) => l.startsWith("Certificates")),
    lines.findIndex((l) => l.startsWith("Conservation")) + 1,
  );
  console.log(tree.map((l) => `   ${l}`).join("\n"));

  say("Checking where the loss landed:");
  return [
    [`the second receivable defaulted (${status})`, status === "defaulted"],
    [
      `${bank.name}'s claim #${claim.id} landed on the nearest endorser, ${nameAt(claim.guarantor)}, for ${tusd(claim.amount)}, and was paid`,
      claim.guarantor.toLowerCase() === tier3.address.toLowerCase() &&
        BigInt(claim.amount) === PIECE &&
        paid.body.claim.status === "paid",
    ],
    [
      `passed up, claim #${upper.id} landed on the seller, ${nameAt(upper.guarantor)}, for ${tusd(upper.amount)}, and was paid`,
      BigInt(upper.amount) === PIECE && sellerPaid.body.claim.status === "paid",
    ],
    [
      `no endorser owes anything still: ${tier3.name} ${tusd(owes.get(tier3.id)!)}, ${seller.name} ${tusd(owes.get(seller.id)!)}`,
      owes.get(tier3.id) === "0" && owes.get(seller.id) === "0",
    ],
  ];
}

async function balancesOf(
  chainUrl: string,
  token: string,
  parties: Array<{ id: string; address: string }>,
): Promise<Map<string, bigint>> {
  const provider = new JsonRpcProvider(chainUrl, undefined, { staticNetwork: true });
  const erc20 = bindContract("LocalSettlementToken", token, provider);
  const result = new Map<string, bigint>();
  for (const p of parties) result.set(p.id, await erc20.balanceOf(p.address));
  provider.destroy();
  return result;
}

main().catch((error) => {
  console.error(`\nThe demo stopped: ${(error as Error).message}`);
  process.exit(1);
});
