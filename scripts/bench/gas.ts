// Gas benchmark: runs one receivable's life on a fresh in-process chain, then batch
// registrations of 1, 10 and 100, measures the gas of each user action from its receipt and
// sets it beside the action's two floors (today's data model and the design floor, see
// ./gas-floors.ts). Prints a markdown table to paste into the README, or JSON with GAS_JSON=1.
// Every floor's storage part is cross-checked against the net storage diff of the real
// transaction (debug_traceTransaction + storage before/after the block).
//
// The committed gas-snapshot.json (repo root) holds one figure per row; CI compares against it.
//
//   npm run bench:gas                          (= hardhat build, then tsx scripts/bench/gas.ts)
//   GAS_JSON=1 npm run bench:gas
//   npm run bench:gas -- --update-snapshot     rewrites gas-snapshot.json with this run's figures
//   npm run gas:check                          (= --check-snapshot) exits 1 if a row is more than 2%
//                                              above the snapshot; more than 2% below only warns
import "../lib/node-version.js";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import hre, { artifacts, network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";
import { deployTierline } from "../../server/chain/deploy-tierline.js";
import type {
  CertificateToken,
  FinancingMarket,
  LocalSettlementToken,
  PartyRegistry,
  ReceivableRegistry,
  SettlementEscrow,
} from "../../types/ethers-contracts/index.js";
import {
  BATCH_SIZES,
  describeFloor,
  floorFor,
  FLOORS,
  GAS,
  slotCounts,
  TX_GAS_CAP,
  storageFloor,
  type FloorTotal,
  type OperationFloor,
} from "./gas-floors.js";
import { signedRegistration as signInvoice } from "./bench-confirmation.js";
import { compareToSnapshot, SNAPSHOT_PATH, type GasSnapshot } from "./gas-snapshot.js";

const args = new Set(process.argv.slice(2));
const unknownArgs = [...args].filter((a) => a !== "--update-snapshot" && a !== "--check-snapshot");
if (unknownArgs.length > 0) throw new Error(`unknown arguments: ${unknownArgs.join(" ")}`);
const updateSnapshot = args.has("--update-snapshot");
const checkSnapshot = args.has("--check-snapshot");

const { ethers, networkConfig } = await network.create();
const jsonOutput = process.env.GAS_JSON === "1";
const startedAt = Date.now();
const log = (line: string) => {
  if (!jsonOutput) console.error(line);
};

const TUSD = 1_000_000n; // one tUSD in smallest units (6 decimals)
const DISCOUNT = 0;
const PLEDGE = 1;

/* ------------------------------------------------------------------ */
/*                              The world                             */
/* ------------------------------------------------------------------ */

const signers = await ethers.getSigners();
const account = (i: number): HardhatEthersSigner => {
  const signer = signers[i];
  if (!signer) throw new Error("the benchmark needs 18 accounts");
  return signer;
};
const operator = account(0);
const debtor = account(1);
const tier1 = account(2);
const tier2 = account(3);
const tier3 = account(4);
const financier = account(5);
const financier2 = account(6);
const warmSeller = account(7);
const recipients = Array.from({ length: 10 }, (_, i) => account(8 + i));

// Split duties as in production: the operator only registers (and mints the local token); the
// party manager and the deployer have keys of their own; governor, pauser and attester send
// nothing here, so fresh addresses do.
const partyManager = account(18);
const deployer = account(19);
const deployment = await deployTierline(deployer, (name) => artifacts.readArtifact(name), {
  roles: {
    governor: ethers.Wallet.createRandom().address,
    timelockDelay: 0n,
    registrars: [operator.address],
    pauser: ethers.Wallet.createRandom().address,
    partyManager: partyManager.address,
    attester: ethers.Wallet.createRandom().address,
    tokenOwner: operator.address,
  },
});
const a = deployment.addresses;
const at = async <T>(name: string, address: string) => (await ethers.getContractAt(name, address)) as unknown as T;
const token = await at<LocalSettlementToken>("LocalSettlementToken", a.settlementToken);
const parties = await at<PartyRegistry>("PartyRegistry", a.partyRegistry);
const registry = await at<ReceivableRegistry>("ReceivableRegistry", a.receivableRegistry);
const certificates = await at<CertificateToken>("CertificateToken", a.certificateToken);
const financing = await at<FinancingMarket>("FinancingMarket", a.financingMarket);
const escrow = await at<SettlementEscrow>("SettlementEscrow", a.settlementEscrow);
log(`deployed Tierline (chain ${deployment.chainId})`);

const cast: Array<[HardhatEthersSigner, string]> = [
  [debtor, "core-enterprise"],
  [tier1, "tier1"],
  [tier2, "tier2"],
  [tier3, "tier3"],
  [financier, "bank"],
  [financier2, "factor"],
  [warmSeller, "warm-up-seller"],
  ...recipients.map((r, i): [HardhatEthersSigner, string] => [r, `supplier-${i}`]),
];
for (const [signer, name] of cast) {
  await (await parties.connect(partyManager).registerParty(signer.address, ethers.id(`LEI:${name}`), true)).wait();
}
// Only the debtor and the financiers hold tUSD: suppliers start with none, so the first
// payment to each is a fresh ERC-20 balance (the floors say which payee is fresh).
for (const payer of [debtor, financier, financier2]) {
  await (await token.mint(payer.address, 10_000_000n * TUSD)).wait();
  await (await token.connect(payer).approve(a.settlementEscrow, ethers.MaxUint256)).wait();
  await (await token.connect(payer).approve(a.financingMarket, ethers.MaxUint256)).wait();
}
log(`registered ${cast.length} parties`);

/* ------------------------------------------------------------------ */
/*                              Helpers                               */
/* ------------------------------------------------------------------ */

let invoiceCounter = 0;

/** A fresh invoice of `seller` on the debtor, with the debtor's signed confirmation. */
async function signedRegistration(seller: string, faceValue: bigint) {
  const latest = await ethers.provider.getBlock("latest");
  if (!latest) throw new Error("no latest block");
  return signInvoice({
    registry,
    chainId: deployment.chainId,
    settlementToken: a.settlementToken,
    debtor,
    seller,
    invoice: `BENCH-INV-${++invoiceCounter}`,
    faceValue,
    now: BigInt(latest.timestamp),
  });
}

/** Sends `register` from the operator for a fresh invoice of `seller`. */
async function sendRegister(seller: HardhatEthersSigner, faceValue: bigint) {
  const { receivableId, item } = await signedRegistration(seller.address, faceValue);
  const tx = await registry.connect(operator).register(item.terms, item.confirmation);
  return { tx, receivableId };
}

async function rootOf(receivableId: string): Promise<bigint> {
  return (await registry.receivableOf(receivableId)).rootCertificateId;
}

async function send(tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error("setup transaction failed");
  return receipt;
}

/** The scenario of each floor is checked on-chain, so a floor cannot silently go stale. */
function expectState(actual: bigint, expected: bigint, what: string) {
  if (actual !== expected) throw new Error(`benchmark scenario broken: ${what} is ${actual}, expected ${expected}`);
}
function expectNonZero(actual: bigint, what: string) {
  if (actual === 0n) throw new Error(`benchmark scenario broken: ${what} is 0, expected non-zero`);
}
const certBalance = (who: HardhatEthersSigner) => certificates.balanceOf(who.address);
const tusdBalance = (who: string) => token.balanceOf(who);

interface Measurement {
  floor: OperationFloor;
  gasUsed: bigint;
  data: string;
  hash: string;
  blockNumber: number;
  to: string;
}
const measurements: Measurement[] = [];
const floorByKey = new Map(FLOORS.map((f) => [f.key, f]));

async function measure(key: string, pending: Promise<ContractTransactionResponse>): Promise<void> {
  const floor = floorByKey.get(key);
  if (!floor) throw new Error(`no floor named ${key}`);
  const tx = await pending;
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`${key} failed`);
  measurements.push({
    floor,
    gasUsed: receipt.gasUsed,
    data: tx.data,
    hash: tx.hash,
    blockNumber: receipt.blockNumber,
    to: receipt.to ?? "",
  });
  log(`measured ${floor.label}: ${receipt.gasUsed} gas`);
}

/* ------------------------------------------------------------------ */
/*       Warm-up: the steady state of a platform already in use       */
/* ------------------------------------------------------------------ */

// One earlier receivable, so counters are non-zero and the escrow already holds money
// (a first-ever request or repayment would pay 22,100 for a counter or balance once).
{
  const { tx, receivableId } = await sendRegister(warmSeller, 100n * TUSD);
  await send(Promise.resolve(tx));
  const root = await rootOf(receivableId);
  await send(financing.connect(warmSeller).openRequest(root, DISCOUNT, 90n * TUSD, 0n));
  await send(financing.connect(warmSeller).cancelRequest(await financing.requestCount()));
  await send(escrow.connect(debtor).repay(receivableId, 10n * TUSD));
}

/* ------------------------------------------------------------------ */
/*                          Onboarding a party                        */
/* ------------------------------------------------------------------ */

// A fresh address and legal id: the first address of a company, as the service registers it.
const newcomer = ethers.Wallet.createRandom().address;
const newcomerLegalId = ethers.id("LEI:newcomer");
expectState(await parties.addressCountOf(newcomerLegalId), 0n, "the newcomer's legal id address count");
await measure("registerParty", parties.connect(partyManager).registerParty(newcomer, newcomerLegalId, true));

/* ------------------------------------------------------------------ */
/*                      Receivable 1: the whole life                  */
/* ------------------------------------------------------------------ */

expectState(await certBalance(tier1), 0n, "tier1's certificate balance before register");
const r1 = await sendRegister(tier1, 1_000n * TUSD);
await measure("registerAndIssueRoot", Promise.resolve(r1.tx));
const c1 = await rootOf(r1.receivableId);

expectState(await certBalance(tier2), 0n, "tier2's certificate balance before split");
const c2 = await certificates.nextCertificateId();
const c3 = c2 + 1n;
await measure(
  "split2",
  certificates.connect(tier1).split(c1, [
    { to: tier2.address, amount: 600n * TUSD },
    { to: tier1.address, amount: 400n * TUSD },
  ]),
);

expectState(await certBalance(tier1), 1n, "tier1's certificate balance before transfer");
expectState(await certBalance(tier3), 0n, "tier3's certificate balance before transfer");
await measure("transfer", certificates.connect(tier1).transferFrom(tier1.address, tier3.address, c3));

expectNonZero(await financing.requestCount(), "requestCount before the first measured request");
await measure("openDiscount", financing.connect(tier2).openRequest(c2, DISCOUNT, 580n * TUSD, 0n));
const discountRequest = await financing.requestCount();

expectState(await tusdBalance(tier2.address), 0n, "tier2's tUSD before the discount is funded");
expectState(await certBalance(tier2), 1n, "tier2's certificate balance before the discount is funded");
expectState(await certBalance(financier), 0n, "the financier's certificate balance before it buys");
await measure("fundDiscount", financing.connect(financier).fund(discountRequest, 580n * TUSD, 0n, 600n * TUSD));

await measure("openPledge", financing.connect(tier3).openRequest(c3, PLEDGE, 300n * TUSD, 320n * TUSD));
const pledgeRequest = await financing.requestCount();

expectState(await tusdBalance(tier3.address), 0n, "tier3's tUSD before the pledge is funded");
await measure(
  "fundPledge",
  financing.connect(financier2).fund(pledgeRequest, 300n * TUSD, 320n * TUSD, await financing.remainingClaimOf(c3)),
);

expectNonZero(await tusdBalance(a.settlementEscrow), "the escrow's tUSD before the measured repayment");
await measure("repayFull", escrow.connect(debtor).repay(r1.receivableId, 1_000n * TUSD));

expectState(await certBalance(financier), 1n, "the financier's certificate balance before settlement");
await measure("settle1", escrow.settle(r1.receivableId, [c2]));

expectState(await certBalance(tier3), 1n, "tier3's certificate balance before settlement");
await measure("settle1Pledged", escrow.settle(r1.receivableId, [c3]));

/* ------------------------------------------------------------------ */
/*               Receivable 2: ten suppliers, ten leaves              */
/* ------------------------------------------------------------------ */

const r2 = await sendRegister(tier1, 1_000n * TUSD);
await send(Promise.resolve(r2.tx));
const r2root = await rootOf(r2.receivableId);
expectState(await certBalance(tier1), 1n, "tier1's certificate balance before the 10-way split");
for (const r of recipients) expectState(await certBalance(r), 0n, `${r.address}'s certificate balance`);
const firstLeaf = await certificates.nextCertificateId();
await measure(
  "split10",
  certificates.connect(tier1).split(
    r2root,
    recipients.map((r) => ({ to: r.address, amount: 100n * TUSD })),
  ),
);
const leaves = recipients.map((_, i) => firstLeaf + BigInt(i));

await send(escrow.connect(debtor).repay(r2.receivableId, 1_000n * TUSD));
for (const r of recipients) expectState(await tusdBalance(r.address), 0n, `${r.address}'s tUSD`);
await measure("settle10", escrow.settle(r2.receivableId, leaves));
for (const r of recipients) expectState(await tusdBalance(r.address), 100n * TUSD, `${r.address}'s payout`);

/* ------------------------------------------------------------------ */
/*        Batch registration: month-end, many suppliers, one debtor    */
/* ------------------------------------------------------------------ */

// Sizes 1, 10, 50 and 100 (100 fits Osaka's per-transaction gas cap since round 14: see BATCH_SIZES).
// Each item is sold by a supplier of its own that holds no certificate yet (registered as a
// party here; a seller never signs, so a bare address will do).
let batchSellerCount = 0;
async function freshSellers(count: number): Promise<string[]> {
  const sellers: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `batch-seller-${++batchSellerCount}`;
    // Fixed addresses, so every run sends the same calldata and the snapshot stays exact.
    const seller = ethers.getAddress(ethers.dataSlice(ethers.id(name), 12));
    await send(parties.connect(partyManager).registerParty(seller, ethers.id(`LEI:${name}`), true));
    sellers.push(seller);
  }
  return sellers;
}

/** Registers `size` receivables for fresh sellers in one registerBatch, measured as `key`. */
async function measureBatch(key: string, size: number) {
  const sellers = await freshSellers(size);
  const signed = [];
  for (const seller of sellers) signed.push(await signedRegistration(seller, 1_000n * TUSD));
  for (const seller of sellers)
    expectState(await certificates.balanceOf(seller), 0n, `${seller}'s certificate balance`);
  await measure(key, registry.connect(operator).registerBatch(signed.map((x) => x.item)));
  for (const [i, x] of signed.entries()) {
    expectNonZero(await rootOf(x.receivableId), `root certificate of batch item ${i}`);
  }
}

for (const size of BATCH_SIZES) await measureBatch(`registerBatch${size}`, size);

/* ------------------------------------------------------------------ */
/*          Cross-check: floor slots vs the tx's net storage diff     */
/* ------------------------------------------------------------------ */

const measuredAt = Date.now();
log(`measured in ${((measuredAt - startedAt) / 1000).toFixed(1)} s`);

interface StructLog {
  op: string;
  depth: number;
  gasCost: number;
  stack?: string[];
}
interface StorageDiff {
  new: number;
  updated: number;
  cleared: number;
  /** Written during the call but back to the original value at the end. */
  restored: number;
  gas: number;
  /** Where the gas above the floor goes (none of it is in the floor). */
  overhead: {
    /** Slots read but never written: 2,100 each when cold. */
    readOnlySlots: number;
    /** CALL / STATICCALL / DELEGATECALL executed. */
    calls: number;
    /** Contracts other than the tx target that were called: 2,600 each (cold account). */
    otherContracts: number;
    /** Gas charged by LOG0..LOG4. */
    logGas: number;
  };
}

const word = (hex: string) => ethers.toBeHex(BigInt(hex.startsWith("0x") ? hex : `0x${hex}`), 32);

/** The slots a transaction wrote (from its opcode trace), priced by their net change. */
async function netStorageDiff(m: Measurement): Promise<StorageDiff> {
  const trace = (await ethers.provider.send("debug_traceTransaction", [
    m.hash,
    { disableMemory: true, disableStorage: true },
  ])) as { structLogs: StructLog[] };
  // Storage context per call depth: CALL/STATICCALL switch to the callee, DELEGATECALL keeps it.
  const frames: string[] = [m.to.toLowerCase()];
  let pending = "";
  const written = new Map<string, { address: string; slot: string }>();
  const read = new Set<string>();
  const contracts = new Set<string>();
  let calls = 0;
  let logGas = 0;
  for (const step of trace.structLogs) {
    while (frames.length > step.depth) frames.pop();
    if (step.depth > frames.length) frames.push(pending);
    const stack = step.stack ?? [];
    const top = (i: number) => stack[stack.length - 1 - i]!;
    if (step.op === "CALL" || step.op === "STATICCALL") {
      pending = `0x${word(top(1)).slice(-40)}`;
      calls++;
      contracts.add(pending);
    } else if (step.op === "DELEGATECALL" || step.op === "CALLCODE") {
      pending = frames[frames.length - 1]!;
      calls++;
    } else if (step.op.startsWith("LOG")) logGas += step.gasCost;
    else if (step.op === "SLOAD") read.add(`${frames[frames.length - 1]!}:${word(top(0))}`);
    else if (step.op === "SSTORE") {
      const address = frames[frames.length - 1]!;
      const slot = word(top(0));
      written.set(`${address}:${slot}`, { address, slot });
    }
  }
  contracts.delete(m.to.toLowerCase());
  // Precompiles (ecrecover at 0x01 ...) are warm and priced apart.
  for (const address of contracts) if (BigInt(address) < 0x100n) contracts.delete(address);
  const diff: StorageDiff = {
    new: 0,
    updated: 0,
    cleared: 0,
    restored: 0,
    gas: 0,
    overhead: {
      readOnlySlots: [...read].filter((key) => !written.has(key)).length,
      calls,
      otherContracts: contracts.size,
      logGas,
    },
  };
  for (const { address, slot } of written.values()) {
    const before = BigInt(await ethers.provider.getStorage(address, slot, m.blockNumber - 1));
    const after = BigInt(await ethers.provider.getStorage(address, slot, m.blockNumber));
    if (before === after) diff.restored++;
    else if (before === 0n) diff.new++;
    else if (after === 0n) diff.cleared++;
    else diff.updated++;
  }
  diff.gas = diff.new * GAS.newSlot + diff.updated * GAS.updatedSlot + diff.cleared * GAS.clearedSlot;
  return diff;
}

/* ------------------------------------------------------------------ */
/*                                Report                              */
/* ------------------------------------------------------------------ */

interface Row {
  key: string;
  operation: string;
  gas: number;
  floor: number;
  ratio: number;
  designFloor: number;
  designRatio: number;
  calldataRule: FloorTotal["rule"];
  floorMadeOf: string;
  designFloorMadeOf: string;
  scenario: string;
  perUnitOf?: string;
}
const rows: Row[] = [];
const checks: Array<{
  key: string;
  operation: string;
  floorSlots: ReturnType<typeof slotCounts>;
  diff: StorageDiff;
  match: boolean;
}> = [];

for (const m of measurements) {
  const total = floorFor(m.floor.components, m.data);
  const design = floorFor(m.floor.design, m.data);
  const gas = Number(m.gasUsed);
  const row: Row = {
    key: m.floor.key,
    operation: m.floor.label,
    gas,
    floor: total.total,
    ratio: gas / total.total,
    designFloor: design.total,
    designRatio: gas / design.total,
    calldataRule: total.rule,
    floorMadeOf: describeFloor(m.floor.components, total),
    designFloorMadeOf: describeFloor(m.floor.design, design),
    scenario: m.floor.scenario,
  };
  rows.push(row);
  if (m.floor.per && m.floor.per.count > 1) {
    const { count, unit } = m.floor.per;
    rows.push({
      ...row,
      key: `${m.floor.key}Per${unit[0]!.toUpperCase()}${unit.slice(1)}`,
      operation: `${m.floor.label} — per ${unit}`,
      gas: Math.round(gas / count),
      floor: Math.round(total.total / count),
      designFloor: Math.round(design.total / count),
      floorMadeOf: `the row above ÷ ${count}`,
      designFloorMadeOf: `the row above ÷ ${count}`,
      perUnitOf: m.floor.key,
    });
  }
  // The check against the snapshot needs only the figures: it skips the traces (most of the run).
  if (checkSnapshot) continue;
  const diff = await netStorageDiff(m);
  const floorSlots = slotCounts(m.floor);
  checks.push({
    key: m.floor.key,
    operation: m.floor.label,
    floorSlots,
    diff,
    match:
      diff.gas === storageFloor(m.floor) &&
      diff.new === floorSlots.new &&
      diff.updated === floorSlots.updated &&
      diff.cleared === floorSlots.cleared,
  });
}

if (!checkSnapshot) log(`storage cross-check in ${((Date.now() - measuredAt) / 1000).toFixed(1)} s`);

// How many items fit one transaction: fixed cost + marginal cost per item, from the two largest
// batches, against Osaka's per-transaction cap.
const batchGas = (size: number) => rows.find((r) => r.key === `registerBatch${size}`)!.gas;
const [midSize, bigSize] = BATCH_SIZES.slice(-2) as [number, number];
const marginalPerItem = (batchGas(bigSize) - batchGas(midSize)) / (bigSize - midSize);
const fixedPerBatch = batchGas(bigSize) - bigSize * marginalPerItem;
const batchFit = {
  marginalPerItem: Math.round(marginalPerItem),
  fixedPerBatch: Math.round(fixedPerBatch),
  gasFor100: Math.round(fixedPerBatch + 100 * marginalPerItem),
  txGasCap: TX_GAS_CAP,
  maxItems: Math.floor((TX_GAS_CAP - fixedPerBatch) / marginalPerItem),
};

const compiler = hre.config.solidity.profiles["default"]?.compilers[0];
const optimizer = compiler?.settings.optimizer as { enabled?: boolean; runs?: number } | undefined;
const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
const settings = {
  machine: `${cpu}, ${os.cpus().length} cores, ${os.platform()} ${os.release()}, Node ${process.version}`,
  solc: compiler?.version ?? "?",
  optimizer: optimizer?.enabled ? `enabled, runs ${optimizer.runs}` : "disabled",
  evmVersion: String(compiler?.settings.evmVersion ?? "default"),
  chain: `Hardhat ${networkConfig.type} (EDR), hardfork ${"hardfork" in networkConfig ? networkConfig.hardfork : "?"}`,
};

const stale = checks.filter((c) => !c.match);
if (stale.length > 0) {
  // A floor whose slot count no longer matches what the contract stores is out of date.
  console.error(`floors out of date for: ${stale.map((c) => c.key).join(", ")} (see the storage cross-check)`);
  process.exitCode = 1;
}

if (checkSnapshot) {
  // Figures only; the table and the cross-check are bench:gas's.
} else if (jsonOutput) {
  console.log(JSON.stringify({ settings, rows, batchFit, storageCheck: checks }, null, 2));
} else {
  const fmt = (x: number) => x.toLocaleString("en-US");
  const lines = [
    `Gas per operation against its floor (${settings.chain}; solc ${settings.solc}, optimizer ${settings.optimizer}, evmVersion ${settings.evmVersion}; ${settings.machine}).`,
    "Today's floor = 21,000 + calldata (4/16 per zero/non-zero byte, or the EIP-7623 floor if larger) + the net storage change the data model requires (new slot 22,100, update 5,000, clear 200 net of refund) + ecrecover for the debtor's consent. Events, cold contract access, checks and reentrancy guards are not in the floor. Definitions and slot layouts: scripts/bench/gas-floors.ts.",
    `Calldata rule: ${
      rows.some((r) => r.calldataRule === "EIP-7623")
        ? `EIP-7623 floor applied to ${rows
            .filter((r) => r.calldataRule === "EIP-7623")
            .map((r) => r.operation)
            .join(", ")}; standard pricing elsewhere.`
        : "standard pricing (4/16) on every row; the EIP-7623 floor (10 per token) was lower everywhere."
    }`,
    "",
    "| operation | gas | today's floor | ratio | design floor | ratio | today's floor made of |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.operation} | ${fmt(r.gas)} | ${fmt(r.floor)} | ${r.ratio.toFixed(2)}× | ${fmt(r.designFloor)} | ${r.designRatio.toFixed(2)}× | ${r.floorMadeOf} |`,
    ),
    "",
    `registerBatch: ${fmt(batchFit.marginalPerItem)} gas per further item, ${fmt(batchFit.fixedPerBatch)} per call; a batch of 100 would need ${fmt(batchFit.gasFor100)}: ` +
      `Osaka caps a transaction at ${fmt(batchFit.txGasCap)} gas (EIP-7825), so at most ${batchFit.maxItems} items per call today.`,
    "",
    "Design floor: what any design must write for the same scenario (one duplicate-proof registry slot per",
    "receivable, a certificate's owner packed with its data, ERC-721 balances, token balances; assumptions in",
    "scripts/bench/gas-floors.ts), with the same 21,000 + calldata.",
    "",
    "| operation | design floor made of |",
    "| --- | --- |",
    ...rows.filter((r) => !r.perUnitOf).map((r) => `| ${r.operation} | ${r.designFloorMadeOf} |`),
    "",
    "Storage cross-check: slots in each floor against the net storage diff of the real transaction",
    '(slots it wrote, value before the block vs after; "restored" = written, then back to the original value).',
    "",
    "Beside it, where the gas above the floor goes: slots only read, calls made, other contracts",
    "touched (2,600 each when cold) and the gas of the events.",
    "",
    "| operation | floor new/upd/clr | tx new/upd/clr | match | tx restored | read-only slots | calls | other contracts | log gas |",
    "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ...checks.map(
      (c) =>
        `| ${c.operation} | ${c.floorSlots.new}/${c.floorSlots.updated}/${c.floorSlots.cleared} | ${c.diff.new}/${c.diff.updated}/${c.diff.cleared} | ${c.match ? "yes" : "NO"} | ${c.diff.restored} | ${c.diff.overhead.readOnlySlots} | ${c.diff.overhead.calls} | ${c.diff.overhead.otherContracts} | ${fmt(c.diff.overhead.logGas)} |`,
    ),
  ];
  console.log(lines.join("\n"));
}

/* ------------------------------------------------------------------ */
/*                               Snapshot                             */
/* ------------------------------------------------------------------ */

const measured: GasSnapshot = Object.fromEntries(rows.map((r) => [r.key, r.gas]));
if (updateSnapshot) {
  writeFileSync(SNAPSHOT_PATH, `${JSON.stringify(measured, null, 2)}\n`);
  console.error(`gas snapshot written: ${SNAPSHOT_PATH} (${rows.length} rows)`);
} else if (checkSnapshot) {
  const snapshot = JSON.parse(readFileSync(SNAPSHOT_PATH, "utf8")) as GasSnapshot;
  const report = compareToSnapshot(snapshot, measured);
  for (const line of report.lines) console.error(line);
  if (!report.ok) process.exitCode = 1;
}
