// FRAUD_SIGNAL: patterns in the trade history that a person should look at before the
// receivable is registered. Every finding holds the submission; none rejects it.
import type { PartyView, RuleResult, VerificationConfig, VerificationHistory, VerificationInput } from "../types.js";

export const FRAUD_SIGNAL_RULE = "FRAUD_SIGNAL";

/** Longest path, in edges, searched from the debtor back to the seller. */
export const MAX_CYCLE_DEPTH = 4;

/** The volume-spike factor is applied in fixed point, so a factor such as 2.5 stays exact. */
const FACTOR_SCALE = 10_000;

const hold = (code: string, message: string, fields: string[], details?: Record<string, unknown>): RuleResult => ({
  rule: FRAUD_SIGNAL_RULE,
  code,
  outcome: "hold",
  message,
  fields,
  ...(details === undefined ? {} : { details }),
});

/**
 * The shortest trade cycle seller -> debtor -> ... -> seller that the new edge closes, as
 * party ids from and back to the seller; undefined when the debtor cannot reach the seller
 * within `maxDepth` edges. Breadth-first over sorted neighbours, so the answer is deterministic.
 */
export function findTradeCycle(
  edges: ReadonlyArray<{ sellerId: string; debtorId: string }>,
  sellerId: string,
  debtorId: string,
  maxDepth: number = MAX_CYCLE_DEPTH,
): string[] | undefined {
  if (sellerId === debtorId) return undefined; // self-dealing, reported by PARTIES
  const neighbours = new Map<string, Set<string>>();
  for (const edge of [...edges, { sellerId, debtorId }]) {
    if (!neighbours.has(edge.sellerId)) neighbours.set(edge.sellerId, new Set());
    neighbours.get(edge.sellerId)!.add(edge.debtorId);
  }
  const sorted = new Map([...neighbours].map(([from, to]) => [from, [...to].sort()]));

  let frontier: string[][] = [[debtorId]];
  const visited = new Set([debtorId]);
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const next: string[][] = [];
    for (const path of frontier) {
      for (const party of sorted.get(path[path.length - 1]!) ?? []) {
        if (party === sellerId) return [sellerId, ...path, sellerId];
        if (visited.has(party)) continue;
        visited.add(party);
        next.push([...path, party]);
      }
    }
    frontier = next;
  }
  return undefined;
}

/** Every fraud signal, in a fixed order: circular trading, volume spike, related party, brushing. */
export async function checkFraudSignals(
  input: VerificationInput,
  debtor: PartyView,
  history: VerificationHistory,
  config: VerificationConfig,
): Promise<RuleResult[]> {
  const { seller, now, submission } = input;
  const since = new Date(now.getTime() - config.brushingWindowHours * 3_600_000);
  const [edges, previousFaces, recent] = await Promise.all([
    history.tradeEdgesFrom(debtor.id, MAX_CYCLE_DEPTH),
    history.previousFaceValues(seller.id, debtor.id),
    history.recentSubmissions(seller.id, debtor.id, since),
  ]);
  const faceValue = BigInt(submission.invoice.total);
  const findings: RuleResult[] = [];

  const cycle = findTradeCycle(edges, seller.id, debtor.id);
  if (cycle !== undefined) {
    // The path runs through trades between other parties, which the seller may not read: the
    // message says only how many parties the cycle joins; the path itself is in details.cycle,
    // which the access policy (verificationReport) shows the operator and auditors only.
    const parties = cycle.length - 1;
    findings.push(
      hold("CIRCULAR_TRADING", `this receivable closes a trade cycle of ${parties} parties`, ["debtorId"], {
        parties,
        cycle,
      }),
    );
  }

  // face > factor x mean  <=>  face x count > factor x sum, exactly, in integers.
  const count = BigInt(previousFaces.length);
  if (previousFaces.length > 0 && previousFaces.length >= config.volumeSpikeMinHistory) {
    const sum = previousFaces.reduce((total, face) => total + face, 0n);
    const factor = BigInt(Math.round(config.volumeSpikeFactor * FACTOR_SCALE));
    if (faceValue * count * BigInt(FACTOR_SCALE) > factor * sum) {
      findings.push(
        hold(
          "VOLUME_SPIKE",
          `face value ${faceValue} is more than ${config.volumeSpikeFactor} x the mean ${sum / count} of the seller's ${count} earlier receivables on this debtor`,
          ["invoice.total"],
        ),
      );
    }
  }

  if (seller.relatedPartyIds.includes(debtor.id) || debtor.relatedPartyIds.includes(seller.id)) {
    findings.push(
      hold("RELATED_PARTY", `seller ${seller.id} and debtor ${debtor.id} are recorded as related parties`, [
        "debtorId",
      ]),
    );
  }

  const inWindow = recent.filter((submissionSeen) => submissionSeen.createdAt.getTime() >= since.getTime()).length;
  if (inWindow > config.brushingMaxCount) {
    findings.push(
      hold(
        "BRUSHING_PATTERN",
        `${inWindow} submissions by seller ${seller.id} on debtor ${debtor.id} in the last ${config.brushingWindowHours} h (more than ${config.brushingMaxCount})`,
        ["debtorId"],
      ),
    );
  }
  return findings;
}
