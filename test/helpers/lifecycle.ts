// Short-hands for the steps most tests take before the one they examine.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { TierlineWorld } from "./fixture.js";
import { makeTerms, signConfirmation, type Terms } from "./confirmation.js";

let invoiceCounter = 0;

export interface Registered {
  receivableId: string;
  rootId: bigint;
  terms: Terms;
}

/** Registers a receivable of `faceValue` from `seller` on the world's debtor, due in `tenor` seconds. */
export async function registerReceivable(
  world: TierlineWorld,
  faceValue: bigint,
  options: { seller?: HardhatEthersSigner; tenor?: bigint; invoiceNumber?: string; now?: bigint } = {},
): Promise<Registered> {
  const seller = options.seller ?? world.tier1;
  const provider = world.registry.runner!.provider!;
  const now = options.now ?? BigInt((await provider.getBlock("latest"))!.timestamp);
  const invoiceNumber = options.invoiceNumber ?? `INV-${++invoiceCounter}`;
  const terms = makeTerms(seller, world.debtor, invoiceNumber, faceValue, now + (options.tenor ?? 90n * 86_400n));
  const nonce = BigInt(invoiceCounter) + 1_000_000n;
  const confirmation = await signConfirmation(world.registry, world.debtor, terms, nonce, now + 3_600n);
  const receivableId = await world.registry.receivableIdOf(terms);
  await world.registry.connect(world.operator).register(terms, confirmation);
  const rootId = (await world.registry.receivableOf(receivableId)).rootCertificateId;
  return { receivableId, rootId, terms };
}

/** Splits `certificateId` held by `holder` and returns the child ids in order. */
export async function splitCertificate(
  world: TierlineWorld,
  holder: HardhatEthersSigner,
  certificateId: bigint,
  parts: Array<{ to: HardhatEthersSigner; amount: bigint }>,
): Promise<bigint[]> {
  const first = await world.certificates.nextCertificateId();
  await world.certificates.connect(holder).split(
    certificateId,
    parts.map((p) => ({ to: p.to.address, amount: p.amount })),
  );
  return parts.map((_, i) => first + BigInt(i));
}

/**
 * `funder` funds request `requestId` bound to the terms it names and to the certificate's
 * remaining claim as the chain shows it now (what a careful financier reads just before
 * funding). Returns the transaction, for tests to assert its events and reverts.
 */
export async function fundRequest(
  world: Pick<TierlineWorld, "financing">,
  funder: HardhatEthersSigner,
  requestId: bigint,
  expectedPrice: bigint,
  expectedRepayAmount: bigint,
) {
  const request = await world.financing.requestOf(requestId);
  const remainingClaim =
    request.status === 0n ? 0n : await world.financing.remainingClaimOf(request.certificateId).catch(() => 0n);
  return world.financing.connect(funder).fund(requestId, expectedPrice, expectedRepayAmount, remainingClaim);
}
