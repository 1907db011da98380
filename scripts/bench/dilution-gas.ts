// Gas of the dilution and recourse operations (issue 16), measured from receipts on a fresh
// in-process chain: disputes, credit notes (seller-signed and timelocked arbiter) over trees of
// 1 to 128 leaves (MAX_DILUTION_LEAVES, the bound, applied in one transaction), a credit note over
// a 260-leaf tree applied in passes (the tally and the cut pass, chunks of 128, and the gas per
// leaf of each), the split and settlement hooks, and every recourse action. Prints a markdown
// table (GAS_JSON=1: JSON).
//
//   npx hardhat run scripts/bench/dilution-gas.ts
import "../lib/node-version.js";
import { artifacts, network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";
import { deployTierline } from "../../server/chain/deploy-tierline.js";
import { signedRegistration } from "./bench-confirmation.js";
import { CREDIT_NOTE_CONSENT_TYPES, CREDIT_NOTE_DOMAIN_NAME } from "../../server/chain/credit-note-typed-data.js";
import { signAliasConsent } from "../../server/chain/alias-consent-typed-data.js";
import type {
  CertificateToken,
  DilutionLedger,
  FinancingMarket,
  LocalSettlementToken,
  PartyRegistry,
  ReceivableRegistry,
  RecourseLedger,
  SettlementEscrow,
  TierlineTimelock,
} from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();
const jsonOutput = process.env.GAS_JSON === "1";
const TUSD = 1_000_000n;
const DAY = 86_400n;

const signers = await ethers.getSigners();
const [operator, debtor, tier1, tier2, tier3, financier, partyManager, deployer, governor] = signers as [
  HardhatEthersSigner,
  ...HardhatEthersSigner[],
] as HardhatEthersSigner[];
const deployment = await deployTierline(deployer!, (name) => artifacts.readArtifact(name), {
  minPieceSize: 1n,
  roles: {
    governor: governor!.address,
    timelockDelay: 0n,
    registrars: [operator!.address],
    pauser: ethers.Wallet.createRandom().address,
    partyManager: partyManager!.address,
    attester: ethers.Wallet.createRandom().address,
    tokenOwner: operator!.address,
  },
});
const a = deployment.addresses;
const at = async <T>(name: string, address: string) => (await ethers.getContractAt(name, address)) as unknown as T;
const token = await at<LocalSettlementToken>("LocalSettlementToken", a.settlementToken);
const parties = await at<PartyRegistry>("PartyRegistry", a.partyRegistry);
const registry = await at<ReceivableRegistry>("ReceivableRegistry", a.receivableRegistry);
const certificates = await at<CertificateToken>("CertificateToken", a.certificateToken);
const escrow = await at<SettlementEscrow>("SettlementEscrow", a.settlementEscrow);
const dilution = await at<DilutionLedger>("DilutionLedger", a.dilutionLedger);
const recourse = await at<RecourseLedger>("RecourseLedger", a.recourseLedger);
const timelock = await at<TierlineTimelock>("TierlineTimelock", a.timelock);

for (const [signer, name] of [
  [debtor, "core-enterprise"],
  [tier1, "tier1"],
  [tier2, "tier2"],
  [tier3, "tier3"],
  [financier, "bank"],
] as const) {
  await (await parties.connect(partyManager!).registerParty(signer!.address, ethers.id(`LEI:${name}`), true)).wait();
}
for (const payer of [debtor, tier1, tier2, financier]) {
  await (await token.mint(payer!.address, 100_000_000n * TUSD)).wait();
  await (await token.connect(payer!).approve(a.settlementEscrow, ethers.MaxUint256)).wait();
  await (await token.connect(payer!).approve(a.recourseLedger, ethers.MaxUint256)).wait();
  await (await token.connect(payer!).approve(a.financingMarket, ethers.MaxUint256)).wait();
}

const rows: Array<{ operation: string; gas: bigint; note: string }> = [];
async function measure(operation: string, note: string, tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error(`${operation}: not mined`);
  rows.push({ operation, gas: receipt.gasUsed, note });
  return receipt;
}

let invoices = 0;
async function register(faceValue: bigint): Promise<{ receivableId: string; rootId: bigint }> {
  const { receivableId, item } = await signedRegistration({
    registry,
    chainId: deployment.chainId,
    settlementToken: a.settlementToken,
    debtor: debtor!,
    seller: tier1!.address,
    invoice: `DIL-${++invoices}`,
    faceValue,
    now: BigInt(await networkHelpers.time.latest()),
  });
  await (await registry.connect(operator!).register(item.terms, item.confirmation)).wait();
  return { receivableId, rootId: (await registry.receivableOf(receivableId)).rootCertificateId };
}

/**
 * Splits `id` (held by `holder`) into `parts` equal pieces, the first `kept` kept (at `keeper`,
 * the holder unless told), the rest to tier2/tier3.
 */
async function split(
  holder: HardhatEthersSigner,
  id: bigint,
  face: bigint,
  parts: number,
  kept: number,
  keeper = holder.address,
) {
  const first = await certificates.nextCertificateId();
  const piece = face / BigInt(parts);
  const list = Array.from({ length: parts }, (_, i) => ({
    to: i < kept ? keeper : i % 2 ? tier2!.address : tier3!.address,
    amount: i === parts - 1 ? face - piece * BigInt(parts - 1) : piece,
  }));
  const tx = certificates.connect(holder).split(id, list);
  return { tx, ids: list.map((_, i) => first + BigInt(i)) };
}

async function leavesOf(receivableId: string): Promise<bigint[]> {
  const next = await certificates.nextCertificateId();
  const out: bigint[] = [];
  for (let id = 1n; id < next; id++) {
    const c = await certificates.certificateOf(id);
    if (c.receivableId === receivableId && (c.state === 1n || c.state === 2n)) out.push(id);
  }
  return out;
}

async function propose(receivableId: string, amount: bigint): Promise<bigint> {
  await (
    await dilution.connect(debtor!).proposeCreditNote(receivableId, amount, ethers.id("RETURN"), ethers.id("CN"))
  ).wait();
  return dilution.creditNoteCount();
}

async function consent(creditNoteId: bigint) {
  const note = await dilution.creditNoteOf(creditNoteId);
  const deadline = BigInt(await networkHelpers.time.latest()) + 3_600n;
  const domain = {
    name: CREDIT_NOTE_DOMAIN_NAME,
    version: "1",
    chainId: deployment.chainId,
    verifyingContract: a.dilutionLedger,
  };
  const signature = await tier1!.signTypedData(domain, CREDIT_NOTE_CONSENT_TYPES, {
    creditNoteId,
    receivableId: note.receivableId,
    amount: note.amount,
    reasonCode: note.reasonCode,
    documentHash: note.documentHash,
    deadline,
  });
  return { deadline, signature };
}

/** A receivable of `face` split into `leafCount` leaves (a third kept by the seller, at `keeper`). */
async function tree(face: bigint, leafCount: number, keeper = tier1!.address) {
  const r = await register(face);
  if (leafCount === 1) return r;
  const first = Math.min(leafCount, 32);
  const s = await split(tier1!, r.rootId, face, first, Math.ceil(first / 3), keeper);
  await (await s.tx).wait();
  let remaining = leafCount - first;
  for (const id of s.ids.slice(s.ids.length - 8)) {
    if (remaining === 0) break;
    const c = await certificates.certificateOf(id);
    const owner = await certificates.ownerOf(id);
    const holder = signers.find((x) => x.address === owner)!;
    const parts = Math.min(remaining + 1, 32);
    await (await (await split(holder, id, c.faceValue, parts, 0)).tx).wait();
    remaining -= parts - 1;
  }
  return r;
}

/* ------------------------------ Disputes ----------------------------- */
{
  const r = await tree(1_000n * TUSD, 3);
  await measure(
    "openDispute",
    "debtor, before maturity",
    dilution.connect(debtor!).openDispute(r.receivableId, ethers.id("PRICE"), ethers.id("D")),
  );
  await measure("withdrawDispute", "debtor", dilution.connect(debtor!).withdrawDispute(r.receivableId));
  // A later dispute writes the slot that already holds the last one's number: no new slot.
  await measure(
    "openDispute (dispute 2)",
    "debtor, the number shares the open flag's slot",
    dilution.connect(debtor!).openDispute(r.receivableId, ethers.id("PRICE"), ethers.id("D")),
  );
  const dismissal = dilution.interface.encodeFunctionData("dismissDispute", [r.receivableId, 2n]);
  const salt = ethers.id(`dismiss:${r.receivableId}:2`);
  await (await timelock.connect(governor!).schedule(a.dilutionLedger, 0n, dismissal, ethers.ZeroHash, salt, 0n)).wait();
  await measure(
    "dismissDispute (dispute 2, timelock execute)",
    "arbiter, names the dispute's number",
    timelock.connect(governor!).execute(a.dilutionLedger, 0n, dismissal, ethers.ZeroHash, salt),
  );
  await measure(
    "openDispute (dispute 3)",
    "debtor",
    dilution.connect(debtor!).openDispute(r.receivableId, ethers.id("PRICE"), ethers.id("D")),
  );
  await (await dilution.connect(debtor!).withdrawDispute(r.receivableId)).wait();
  const s = await split(
    tier1!,
    (await leavesOf(r.receivableId))[0]!,
    (await certificates.certificateOf((await leavesOf(r.receivableId))[0]!)).faceValue,
    2,
    1,
  );
  await measure("split into 2 (with the dispute/dilution hook)", "one ledger call added", s.tx);
}

/* ---------------------------- Credit notes --------------------------- */
for (const [leafCount, amount, label] of [
  [1, 100n, "1 leaf"],
  [3, 100n, "3 leaves, within the retained pieces"],
  [3, 600n, "3 leaves, beyond the retained pieces"],
  [10, 600n, "10 leaves, beyond"],
  [32, 600n, "32 leaves, beyond"],
  [64, 600n, "64 leaves, beyond"],
  [128, 600n, "128 leaves (MAX_DILUTION_LEAVES), beyond"],
] as const) {
  const r = await tree(1_000n * TUSD, leafCount);
  const leaves = await leavesOf(r.receivableId);
  const id = await propose(r.receivableId, amount * TUSD);
  if (leafCount === 1) {
    await measure("withdrawCreditNote", "debtor", dilution.connect(debtor!).withdrawCreditNote(id));
    const again = dilution
      .connect(debtor!)
      .proposeCreditNote(r.receivableId, amount * TUSD, ethers.id("RETURN"), ethers.id("CN2"));
    await measure("proposeCreditNote", "debtor; the dispute already open", again);
    const id2 = await dilution.creditNoteCount();
    await measure(
      `applyWithSellerConsent (${label})`,
      `${leaves.length} leaves`,
      dilution.connect(financier!).applyWithSellerConsent(id2, await consent(id2), leaves),
    );
    continue;
  }
  await measure(
    `applyWithSellerConsent (${label})`,
    `${leaves.length} leaves`,
    dilution.connect(financier!).applyWithSellerConsent(id, await consent(id), leaves),
  );
}
{
  const r = await tree(1_000n * TUSD, 10);
  const leaves = await leavesOf(r.receivableId);
  await measure(
    "proposeCreditNote (opens the dispute)",
    "debtor",
    dilution.connect(debtor!).proposeCreditNote(r.receivableId, 600n * TUSD, ethers.id("RETURN"), ethers.id("CN")),
  );
  const id = await dilution.creditNoteCount();
  await networkHelpers.time.increase(7n * DAY + 1n);
  const data = dilution.interface.encodeFunctionData("decideCreditNote", [id, true, leaves]);
  const salt = ethers.id("decide");
  const zero = ethers.ZeroHash;
  await (await timelock.connect(governor!).schedule(a.dilutionLedger, 0n, data, zero, salt, 0n)).wait();
  await measure(
    "decideCreditNote via timelock execute (10 leaves)",
    "arbiter = timelock",
    timelock.connect(governor!).execute(a.dilutionLedger, 0n, data, zero, salt),
  );

  // Settlement of the diluted tree vs an undiluted one of the same shape, batch of 10.
  await (await escrow.connect(debtor!).repay(r.receivableId, 400n * TUSD)).wait();
  await measure("settle 10 leaves, diluted", "per batch", escrow.settle(r.receivableId, leaves));
  const u = await tree(1_000n * TUSD, 10);
  await (await escrow.connect(debtor!).repay(u.receivableId, 1_000n * TUSD)).wait();
  await measure(
    "settle 10 leaves, undiluted",
    "per batch (one registry read added)",
    escrow.settle(u.receivableId, await leavesOf(u.receivableId)),
  );
}

/* ------------------ A tree wider than MAX_DILUTION_LEAVES: passes ------------------ */
// 260 leaves: chunks of 128, 128 and 4 in each pass. The marginal gas of one leaf in a pass is
// (chunk of 128 - chunk of 4) / 124: the chunk's fixed cost drops out.
const passGas: Record<string, bigint> = {};
{
  const r = await tree(1_000n * TUSD, 260);
  const leaves = await leavesOf(r.receivableId);
  if (leaves.length !== 260) throw new Error(`wide tree: ${leaves.length} leaves`);
  const id = await propose(r.receivableId, 600n * TUSD);
  await measure(
    "applyWithSellerConsent (260 leaves: goes Applying)",
    "records the credit; cuts follow in passes",
    dilution.connect(financier!).applyWithSellerConsent(id, await consent(id), []),
  );
  for (const pass of ["tally", "cut"] as const) {
    for (const [from, to] of [
      [0, 128],
      [128, 256],
      [256, 260],
    ] as const) {
      const receipt = await measure(
        `continueCreditNote ${pass} pass, leaves ${from + 1}-${to}`,
        `${to - from} leaves (permissionless)`,
        dilution.connect(financier!).continueCreditNote(id, leaves.slice(from, to)),
      );
      passGas[`${pass}:${from}`] = receipt.gasUsed;
    }
  }
  if ((await dilution.creditNoteOf(id)).status !== 2n) throw new Error("wide tree: note not Applied");
}
const perLeaf = (pass: "tally" | "cut") => ({
  pass,
  chunkOf128: passGas[`${pass}:0`]!,
  perLeafAverage: passGas[`${pass}:0`]! / 128n,
  perLeafMarginal: (passGas[`${pass}:0`]! - passGas[`${pass}:256`]!) / 124n,
});
const passRows = [perLeaf("tally"), perLeaf("cut")];

/* ------------------------------ Recourse ----------------------------- */
{
  const r = await register(1_000n * TUSD);
  await measure(
    "grantRecourse",
    "first endorsement on a certificate",
    recourse.connect(tier1!).grantRecourse(r.rootId),
  );
  const s = await split(tier1!, r.rootId, 1_000n * TUSD, 3, 1);
  await (await s.tx).wait();
  const [, toTier2, toTier3] = s.ids as [bigint, bigint, bigint];
  await (await recourse.connect(tier2!).grantRecourse(toTier2)).wait();
  const onward = await split(tier2!, toTier2, (await certificates.certificateOf(toTier2)).faceValue, 1, 0);
  await (await onward.tx).wait();
  const [leaf] = onward.ids;
  const id = await propose(r.receivableId, 500n * TUSD);
  await (await dilution.applyWithSellerConsent(id, await consent(id), await leavesOf(r.receivableId))).wait();
  await measure(
    "openDilutionClaim",
    "guarantor on the root (1 generation up)",
    recourse.connect(tier3!).openDilutionClaim(toTier3, tier3!.address, r.rootId, 0n),
  );
  await measure(
    "payClaim (dilution)",
    "settlement token to the creditor",
    recourse.connect(tier1!).payClaim(await recourse.claimCount()),
  );

  const receivable = await registry.receivableOf(r.receivableId);
  await networkHelpers.time.increaseTo(receivable.dueDate + receivable.gracePeriod + 1n);
  await (await registry.markDefaulted(r.receivableId)).wait();
  await (await certificates.connect(tier3!).approve(a.recourseLedger, leaf!)).wait();
  await measure(
    "openDefaultClaim",
    "guarantor 1 generation up",
    recourse.connect(tier3!).openDefaultClaim(leaf!, toTier2, 0n),
  );
  const first = await recourse.claimCount();
  await measure("payClaim (default)", "money + the leaf to the guarantor", recourse.connect(tier2!).payClaim(first));
  await (await certificates.connect(tier2!).approve(a.recourseLedger, leaf!)).wait();
  await measure(
    "escalate",
    "to the seller's endorsement on the root",
    recourse.connect(tier2!).escalate(first, r.rootId, 0n),
  );
}

/* ------------------ A seller whose company has a second address ------------------ */
// The retained pieces are the seller's company's: once it has an alias, each leaf held by
// another address costs one party-registry read to classify (with one address, comparing
// addresses is the same test and costs nothing per leaf). Measured last: the alias is for good.
{
  const alias = signers[14]!;
  const legalIdHash = await parties.legalIdOf(tier1!.address);
  const deadline = BigInt(await networkHelpers.time.latest()) + 3_600n;
  const aliasConsent = await signAliasConsent(tier1!, deployment.chainId, a.partyRegistry, {
    account: alias.address,
    legalIdHash,
    nonce: 1n,
    deadline,
  });
  await (await parties.connect(partyManager!).registerAlias(alias.address, legalIdHash, aliasConsent)).wait();
  for (const [leafCount, label] of [
    [10, "10 leaves, beyond; the seller has an alias, which keeps its pieces"],
    [128, "128 leaves, beyond; the seller has an alias, which keeps its pieces"],
  ] as const) {
    const r = await tree(1_000n * TUSD, leafCount, alias.address);
    const leaves = await leavesOf(r.receivableId);
    const id = await propose(r.receivableId, 600n * TUSD);
    await measure(
      `applyWithSellerConsent (${label})`,
      `${leaves.length} leaves`,
      dilution.connect(financier!).applyWithSellerConsent(id, await consent(id), leaves),
    );
  }
}

/* ------------------ The hooks' cost on the existing paths ------------------ */
// The same actions in two fresh, identical worlds, one whose contracts are wired to a dilution
// ledger and one not (every ledger hook skips): the difference is what the ledger hooks add to an
// undiluted receivable. The registry's read of the credited amount (recordRepayment) and the
// escrow's one registry read per batch run in both, so they are not in the difference.
interface World {
  parties: PartyRegistry;
  registry: ReceivableRegistry;
  certificates: CertificateToken;
  financing: FinancingMarket;
  escrow: SettlementEscrow;
  token: LocalSettlementToken;
}
async function freshWorld(wired: boolean): Promise<World> {
  const admin = operator!;
  const deployed = async <T>(name: string, args: unknown[]) =>
    (await ethers.deployContract(name, args, admin)) as unknown as T;
  const t = await deployed<LocalSettlementToken>("LocalSettlementToken", [admin.address]);
  const p = await deployed<PartyRegistry>("PartyRegistry", [admin.address]);
  const r = await deployed<ReceivableRegistry>("ReceivableRegistry", [admin.address, p.target, t.target]);
  const c = await deployed<CertificateToken>("CertificateToken", [admin.address, p.target, r.target]);
  const f = await deployed<FinancingMarket>("FinancingMarket", [admin.address, c.target, r.target, p.target]);
  const e = await deployed<SettlementEscrow>("SettlementEscrow", [r.target, c.target, f.target]);
  await (await r.wire(c.target, e.target)).wait();
  await (await f.wireEscrow(e.target)).wait();
  await (await c.wire(f.target, e.target)).wait();
  await (await r.grantRole(await r.REGISTRAR_ROLE(), admin.address)).wait();
  if (wired) {
    const d = await deployed<DilutionLedger>("DilutionLedger", [admin.address, r.target, c.target, f.target]);
    await (await r.wireDilution(d.target)).wait();
    await (await c.wireDilution(d.target)).wait();
    await (await f.wireDilution(d.target)).wait();
  }
  for (const [signer, name] of [
    [debtor, "core-enterprise"],
    [tier1, "tier1"],
    [tier2, "tier2"],
    [tier3, "tier3"],
    [financier, "bank"],
  ] as const) {
    await (await p.registerParty(signer!.address, ethers.id(`LEI:${name}`), true)).wait();
  }
  for (const payer of [debtor, financier]) {
    await (await t.mint(payer!.address, 100_000_000n * TUSD)).wait();
    await (await t.connect(payer!).approve(e.target, ethers.MaxUint256)).wait();
    await (await t.connect(payer!).approve(f.target, ethers.MaxUint256)).wait();
  }
  return { parties: p, registry: r, certificates: c, financing: f, escrow: e, token: t };
}

async function pathGas(w: World): Promise<Record<string, bigint>> {
  const gas: Record<string, bigint> = {};
  const used = async (label: string, tx: Promise<ContractTransactionResponse>) => {
    gas[label] = (await (await tx).wait())!.gasUsed;
  };
  const { receivableId, item } = await signedRegistration({
    registry: w.registry,
    chainId: deployment.chainId,
    settlementToken: String(w.token.target),
    debtor: debtor!,
    seller: tier1!.address,
    invoice: `HOOK-${String(w.registry.target)}`,
    faceValue: 1_000n * TUSD,
    now: BigInt(await networkHelpers.time.latest()),
  });
  await (await w.registry.connect(operator!).register(item.terms, item.confirmation)).wait();
  const root = (await w.registry.receivableOf(receivableId)).rootCertificateId;
  const parts = Array.from({ length: 10 }, (_, i) => ({
    to: i % 2 ? tier2!.address : tier3!.address,
    amount: 100n * TUSD,
  }));
  await used("split into 10", w.certificates.connect(tier1!).split(root, parts));
  const first = root + 1n;
  await used("openRequest (discount)", w.financing.connect(tier3!).openRequest(first, 0, 90n * TUSD, 0n));
  await used(
    "fund (discount)",
    w.financing.connect(financier!).fund(await w.financing.requestCount(), 90n * TUSD, 0n, 100n * TUSD),
  );
  await used("repay (in full)", w.escrow.connect(debtor!).repay(receivableId, 1_000n * TUSD));
  const leaves = Array.from({ length: 10 }, (_, i) => first + BigInt(i));
  await used("settle 10 leaves", w.escrow.settle(receivableId, leaves));
  return gas;
}
const without = await pathGas(await freshWorld(false));
const withHooks = await pathGas(await freshWorld(true));
const hookRows = Object.keys(without).map((label) => ({
  operation: label,
  without: without[label]!,
  with: withHooks[label]!,
}));

if (jsonOutput) {
  console.log(
    JSON.stringify(
      {
        operations: rows.map((r) => ({ ...r, gas: Number(r.gas) })),
        hooks: hookRows.map((r) => ({ operation: r.operation, without: Number(r.without), with: Number(r.with) })),
        passes: passRows.map((r) => ({
          pass: r.pass,
          chunkOf128: Number(r.chunkOf128),
          perLeafAverage: Number(r.perLeafAverage),
          perLeafMarginal: Number(r.perLeafMarginal),
        })),
      },
      null,
      2,
    ),
  );
} else {
  console.log("| operation | gas | note |\n| --- | ---: | --- |");
  for (const r of rows) console.log(`| ${r.operation} | ${r.gas.toLocaleString("en-US")} | ${r.note} |`);
  console.log("\nWhat the hooks add to an undiluted receivable (same actions, ledger not wired vs wired):\n");
  console.log("| operation | not wired | wired | added |\n| --- | ---: | ---: | ---: |");
  for (const r of hookRows) {
    const f = (n: bigint) => n.toLocaleString("en-US");
    console.log(`| ${r.operation} | ${f(r.without)} | ${f(r.with)} | ${f(r.with - r.without)} |`);
  }
  console.log("\nA credit note over a 260-leaf tree, in passes (first chunk of 128 leaves of each pass):\n");
  console.log("| pass | chunk of 128 | per leaf (average) | per leaf (marginal) |\n| --- | ---: | ---: | ---: |");
  for (const r of passRows) {
    const f = (n: bigint) => n.toLocaleString("en-US");
    console.log(`| ${r.pass} | ${f(r.chunkOf128)} | ${f(r.perLeafAverage)} | ${f(r.perLeafMarginal)} |`);
  }
}
