// Stress test on the credit network: some parties default; which certificates lose how
// much, and who falls next (rounds of contagion until nobody new defaults).
//
// Rules (all money in bigint smallest units):
// - A defaulted party pays back `recoveryRate` of what it owes. Every outstanding
//   certificate whose debtor (the receivable's debtor) has defaulted loses
//   ceil(outstanding × (1 - recoveryRate)); the rate is taken in parts per million and
//   the loss rounds up, so the stress never understates a loss.
// - Each party's buffer is its net position on the platform before the stress:
//       buffer = capital + claims - payables
//   claims: what it is owed (outstanding certificates it holds on other debtors);
//   payables: what it owes (outstanding certificates others hold on it);
//   capital: outside resources, 0 unless the caller supplies a figure per party.
//   A party that takes a loss and whose buffer minus its cumulative loss drops below
//   zero defaults in the next round: it can no longer cover what it owes on the platform
//   from what it is owed. A party already below zero before the stress (a core
//   enterprise owes much more than it holds) is deemed funded from outside the platform
//   and falls only if the stress costs it something.
// - Round 1 is the given defaults and the losses their payables cause; the parties those
//   losses push below zero default in round 2, and so on until a round pushes nobody.
// - A certificate a party holds on itself is not a claim on anyone and is left out.
import type { CreditExposure } from "./build-graph.js";

const PPM = 1_000_000n;

export interface CertificateLoss {
  certificateId: string;
  receivableId: string;
  tier: number;
  holder: string;
  debtor: string;
  outstanding: bigint;
  loss: bigint;
  round: number;
}

export interface PartyStress {
  address: string;
  claims: bigint;
  payables: bigint;
  capital: bigint;
  buffer: bigint;
  loss: bigint;
  /** buffer - loss */
  remaining: bigint;
  /** The round in which it defaults (1: given), or null if it survives. */
  defaultedInRound: number | null;
}

export interface StressRound {
  round: number;
  /** Parties defaulting in this round. */
  defaulting: string[];
  certificates: number;
  loss: bigint;
}

export interface TierLoss {
  tier: number;
  certificates: number;
  outstanding: bigint;
  loss: bigint;
}

export interface StressResult {
  recoveryPpm: number;
  rounds: StressRound[];
  certificates: CertificateLoss[];
  /** Every party that defaults or loses something, defaults first (by round), then by loss. */
  parties: PartyStress[];
  byTier: TierLoss[];
  totalLoss: bigint;
  defaulted: string[];
}

export interface StressOptions {
  /** Outside capital per party address; 0 when absent. */
  capitalOf?: (address: string) => bigint;
}

export function runStress(
  exposures: readonly CreditExposure[],
  initiallyDefaulted: readonly string[],
  recoveryRate: number,
  options: StressOptions = {},
): StressResult {
  if (!(recoveryRate >= 0 && recoveryRate <= 1))
    throw new RangeError(`recoveryRate must be within [0, 1], got ${recoveryRate}`);
  const recoveryPpm = Math.round(recoveryRate * 1_000_000);
  const lossPpm = PPM - BigInt(recoveryPpm);
  const capitalOf = options.capitalOf ?? (() => 0n);

  const claims = new Map<string, bigint>();
  const payables = new Map<string, bigint>();
  const byDebtor = new Map<string, CreditExposure[]>();
  for (const exposure of exposures) {
    if (exposure.outstanding <= 0n || exposure.holder === exposure.debtor) continue;
    claims.set(exposure.holder, (claims.get(exposure.holder) ?? 0n) + exposure.outstanding);
    payables.set(exposure.debtor, (payables.get(exposure.debtor) ?? 0n) + exposure.outstanding);
    const list = byDebtor.get(exposure.debtor);
    if (list) list.push(exposure);
    else byDebtor.set(exposure.debtor, [exposure]);
  }
  const bufferOf = (address: string) =>
    capitalOf(address) + (claims.get(address) ?? 0n) - (payables.get(address) ?? 0n);

  const defaultedIn = new Map<string, number>();
  const lossOf = new Map<string, bigint>();
  const certificates: CertificateLoss[] = [];
  const rounds: StressRound[] = [];

  let frontier = [...new Set(initiallyDefaulted)].sort();
  let round = 1;
  while (frontier.length > 0) {
    for (const address of frontier) defaultedIn.set(address, round);
    let roundLoss = 0n;
    let roundCertificates = 0;
    const hit = new Set<string>();
    for (const debtor of frontier) {
      for (const exposure of byDebtor.get(debtor) ?? []) {
        const loss = ceilDiv(exposure.outstanding * lossPpm, PPM);
        certificates.push({ ...exposure, loss, round });
        roundCertificates += 1;
        roundLoss += loss;
        lossOf.set(exposure.holder, (lossOf.get(exposure.holder) ?? 0n) + loss);
        hit.add(exposure.holder);
      }
    }
    rounds.push({ round, defaulting: frontier, certificates: roundCertificates, loss: roundLoss });
    frontier = [...hit]
      .filter(
        (address) =>
          !defaultedIn.has(address) &&
          (lossOf.get(address) ?? 0n) > 0n &&
          bufferOf(address) - lossOf.get(address)! < 0n,
      )
      .sort();
    round += 1;
  }

  const touched = new Set<string>([...defaultedIn.keys(), ...lossOf.keys()]);
  const parties: PartyStress[] = [...touched].map((address) => {
    const buffer = bufferOf(address);
    const loss = lossOf.get(address) ?? 0n;
    return {
      address,
      claims: claims.get(address) ?? 0n,
      payables: payables.get(address) ?? 0n,
      capital: capitalOf(address),
      buffer,
      loss,
      remaining: buffer - loss,
      defaultedInRound: defaultedIn.get(address) ?? null,
    };
  });
  parties.sort(
    (a, b) =>
      (a.defaultedInRound ?? Infinity) - (b.defaultedInRound ?? Infinity) ||
      (b.loss > a.loss ? 1 : b.loss < a.loss ? -1 : 0) ||
      a.address.localeCompare(b.address),
  );

  const tiers = new Map<number, TierLoss>();
  for (const c of certificates) {
    const t = tiers.get(c.tier) ?? { tier: c.tier, certificates: 0, outstanding: 0n, loss: 0n };
    t.certificates += 1;
    t.outstanding += c.outstanding;
    t.loss += c.loss;
    tiers.set(c.tier, t);
  }

  return {
    recoveryPpm,
    rounds,
    certificates,
    parties,
    byTier: [...tiers.values()].sort((a, b) => a.tier - b.tier),
    totalLoss: certificates.reduce((sum, c) => sum + c.loss, 0n),
    defaulted: [...defaultedIn.keys()],
  };
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
