// Stress test on the credit network: some parties default; which certificates lose how
// much, who bears each loss, and who falls next (rounds of contagion until nobody new defaults).
//
// Rules (all money in bigint smallest units):
// - A defaulted party pays back `recoveryRate` of what it owes. Every outstanding
//   certificate whose debtor (the receivable's debtor) has defaulted loses
//   ceil(outstanding × (1 - recoveryRate)); the rate is taken in parts per million and
//   the loss rounds up, so the stress never understates a loss.
// - Recourse (issue 16), as endorsers of a bill of exchange: a certificate whose holder is
//   guaranteed by endorsements with recourse (an earlier holder granted recourse on the
//   piece or on an ancestor it held, and is not the holder itself) passes its loss to its
//   nearest endorser — latest endorsement on the piece first, then up through its ancestors,
//   towards the original seller. The endorser bears the whole loss. If that endorser itself
//   defaults (in any round), every loss it carried as a guarantor moves, whole, to the next
//   endorser above it that has not defaulted; the holder keeps the loss only when every
//   endorser above it has fallen. `guarantorsOf` gives each certificate's endorsers,
//   nearest first (the caller reads them from the index).
// - Open recourse claims already on the chain are debts: the guarantor owes the creditor
//   the claim's amount. They count in buffers (a claim held by the creditor, a payable of the
//   guarantor), and when the guarantor defaults the creditor loses ceil(amount × (1 -
//   recoveryRate)) on it, like on a certificate. Such a claim is not passed further up: the
//   chain lets only a guarantor that paid escalate.
// - Each party's buffer is its net position on the platform before the stress:
//       buffer = capital + claims - payables
//   claims: what it is owed (outstanding certificates it holds on other debtors, open
//   recourse claims it holds); payables: what it owes (outstanding certificates others hold
//   on it, open recourse claims on it as a guarantor); capital: outside resources, 0 unless
//   the caller supplies a figure per party. Recourse it could be called on but that nobody
//   has claimed yet is contingent: not a payable before the stress, a loss once a debtor
//   below it defaults. A party whose buffer minus its cumulative loss drops below zero after
//   a loss defaults in the next round: it can no longer cover what it owes on the platform
//   from what it is owed. A party already below zero before the stress (a core enterprise
//   owes much more than it holds) is deemed funded from outside the platform and falls only
//   if the stress costs it something.
// - A party's `loss` is everything the stress charged it, guarantees included (what pushed it
//   below zero); `passedOn` is the part it carried as a guarantor and could not honour
//   because it defaulted, which moved to the next endorser (or back to the holder).
// - Round 1 is the given defaults and the losses their payables cause; the parties those
//   losses push below zero default in round 2 (and their guarantees move up), and so on
//   until a round pushes nobody.
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
  /** Who bears the loss at the end of the run: the holder, or the endorser that guarantees it. */
  bearer: string;
  /** The endorsers that guarantee it to its holder, nearest first (empty: no recourse). */
  guarantors: string[];
}

/** An open recourse claim already on the chain: `guarantor` owes `creditor` `amount`. */
export interface OpenRecourseClaim {
  claimId: string;
  leafId: string;
  creditor: string;
  guarantor: string;
  amount: bigint;
}

export interface RecourseClaimLoss extends OpenRecourseClaim {
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
  /** The part of `loss` it was charged as a guarantor of pieces it passed with recourse. */
  recourseLoss: bigint;
  /** Guarantees it could not honour because it defaulted: moved up to the next endorser. */
  passedOn: bigint;
  /** The round in which it defaults (1: given), or null if it survives. */
  defaultedInRound: number | null;
}

export interface StressRound {
  round: number;
  /** Parties defaulting in this round. */
  defaulting: string[];
  /** Certificates and open recourse claims losing in this round. */
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
  /** Open recourse claims whose guarantor defaults. */
  recourseClaims: RecourseClaimLoss[];
  /** Every party that defaults or loses something, defaults first (by round), then by loss. */
  parties: PartyStress[];
  byTier: TierLoss[];
  /** Certificates' losses plus open recourse claims' losses. */
  totalLoss: bigint;
  defaulted: string[];
}

export interface StressOptions {
  /** Outside capital per party address; 0 when absent. */
  capitalOf?: (address: string) => bigint;
  /** The endorsers guaranteeing a certificate to its holder, nearest first; none when absent. */
  guarantorsOf?: (exposure: CreditExposure) => readonly string[];
  /** Open recourse claims already recorded on the chain. */
  openClaims?: readonly OpenRecourseClaim[];
}

/** One certificate's loss while the run decides who bears it. */
interface Charge {
  loss: CertificateLoss;
  /** Index in `loss.guarantors` of the current bearer; -1: the holder. */
  at: number;
}

export function runStress(
  exposures: readonly CreditExposure[],
  initiallyDefaulted: readonly string[],
  recoveryRate: number,
  options: StressOptions = {},
): StressResult {
  const steps = stressRounds(exposures, initiallyDefaulted, recoveryRate, options);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/**
 * The same run, pausing before each round's losses for `beforeRound(due)` — the certificates
 * about to lose — so the caller can read what `guarantorsOf` needs for them (the service reads
 * their endorsements from the index) in one pass, without running the stress again.
 */
export async function runStressReading(
  exposures: readonly CreditExposure[],
  initiallyDefaulted: readonly string[],
  recoveryRate: number,
  options: StressOptions,
  beforeRound: (due: readonly CreditExposure[]) => Promise<void>,
): Promise<StressResult> {
  const steps = stressRounds(exposures, initiallyDefaulted, recoveryRate, options);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    await beforeRound(step.value);
  }
}

/** The run as a generator: yields each round's losing certificates before charging them. */
function* stressRounds(
  exposures: readonly CreditExposure[],
  initiallyDefaulted: readonly string[],
  recoveryRate: number,
  options: StressOptions,
): Generator<CreditExposure[], StressResult, void> {
  if (!(recoveryRate >= 0 && recoveryRate <= 1))
    throw new RangeError(`recoveryRate must be within [0, 1], got ${recoveryRate}`);
  const recoveryPpm = Math.round(recoveryRate * 1_000_000);
  const lossPpm = PPM - BigInt(recoveryPpm);
  const capitalOf = options.capitalOf ?? (() => 0n);
  const guarantorsOf = options.guarantorsOf ?? (() => []);

  const claims = new Map<string, bigint>();
  const payables = new Map<string, bigint>();
  const add = (map: Map<string, bigint>, address: string, amount: bigint) =>
    map.set(address, (map.get(address) ?? 0n) + amount);
  const byDebtor = new Map<string, CreditExposure[]>();
  for (const exposure of exposures) {
    if (exposure.outstanding <= 0n || exposure.holder === exposure.debtor) continue;
    add(claims, exposure.holder, exposure.outstanding);
    add(payables, exposure.debtor, exposure.outstanding);
    const list = byDebtor.get(exposure.debtor);
    if (list) list.push(exposure);
    else byDebtor.set(exposure.debtor, [exposure]);
  }
  const claimsOn = new Map<string, OpenRecourseClaim[]>();
  for (const claim of options.openClaims ?? []) {
    if (claim.amount <= 0n || claim.creditor === claim.guarantor) continue;
    add(claims, claim.creditor, claim.amount);
    add(payables, claim.guarantor, claim.amount);
    const list = claimsOn.get(claim.guarantor);
    if (list) list.push(claim);
    else claimsOn.set(claim.guarantor, [claim]);
  }
  const bufferOf = (address: string) =>
    capitalOf(address) + (claims.get(address) ?? 0n) - (payables.get(address) ?? 0n);

  const defaultedIn = new Map<string, number>();
  const lossOf = new Map<string, bigint>();
  const recourseLossOf = new Map<string, bigint>();
  const passedOnOf = new Map<string, bigint>();
  /** The charges each endorser carries as a guarantor, to move up if it defaults. */
  const carried = new Map<string, Charge[]>();
  const certificates: CertificateLoss[] = [];
  const recourseClaims: RecourseClaimLoss[] = [];
  const rounds: StressRound[] = [];
  let hit = new Set<string>();

  /** Charges the loss to the first endorser from `from` on that has not defaulted, else the holder. */
  const charge = (entry: Charge, from: number) => {
    const { loss } = entry;
    let at = from;
    while (at < loss.guarantors.length && defaultedIn.has(loss.guarantors[at]!)) at += 1;
    entry.at = at < loss.guarantors.length ? at : -1;
    const bearer = entry.at === -1 ? loss.holder : loss.guarantors[entry.at]!;
    loss.bearer = bearer;
    add(lossOf, bearer, loss.loss);
    if (entry.at !== -1) {
      add(recourseLossOf, bearer, loss.loss);
      const list = carried.get(bearer);
      if (list) list.push(entry);
      else carried.set(bearer, [entry]);
    }
    hit.add(bearer);
  };

  let frontier = [...new Set(initiallyDefaulted)].sort();
  let round = 1;
  while (frontier.length > 0) {
    for (const address of frontier) defaultedIn.set(address, round);
    let roundLoss = 0n;
    let roundCertificates = 0;
    hit = new Set<string>();
    // Guarantees the parties falling now carried move up to the next endorser (or the holder).
    for (const guarantor of frontier) {
      for (const entry of carried.get(guarantor) ?? []) {
        add(passedOnOf, guarantor, entry.loss.loss);
        charge(entry, entry.at + 1);
      }
      carried.delete(guarantor);
    }
    const due = frontier.flatMap((debtor) => byDebtor.get(debtor) ?? []);
    if (due.length > 0) yield due;
    for (const debtor of frontier) {
      for (const exposure of byDebtor.get(debtor) ?? []) {
        const amount = ceilDiv(exposure.outstanding * lossPpm, PPM);
        const guarantors = [...new Set(guarantorsOf(exposure))].filter(
          (g) => g !== exposure.holder && g !== exposure.debtor,
        );
        const loss: CertificateLoss = { ...exposure, loss: amount, round, bearer: exposure.holder, guarantors };
        certificates.push(loss);
        charge({ loss, at: -1 }, 0);
        roundCertificates += 1;
        roundLoss += amount;
      }
      for (const claim of claimsOn.get(debtor) ?? []) {
        const amount = ceilDiv(claim.amount * lossPpm, PPM);
        recourseClaims.push({ ...claim, loss: amount, round });
        add(lossOf, claim.creditor, amount);
        hit.add(claim.creditor);
        roundCertificates += 1;
        roundLoss += amount;
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
      recourseLoss: recourseLossOf.get(address) ?? 0n,
      passedOn: passedOnOf.get(address) ?? 0n,
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
    recourseClaims,
    parties,
    byTier: [...tiers.values()].sort((a, b) => a.tier - b.tier),
    totalLoss: certificates.reduce((sum, c) => sum + c.loss, 0n) + recourseClaims.reduce((sum, c) => sum + c.loss, 0n),
    defaulted: [...defaultedIn.keys()],
  };
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
