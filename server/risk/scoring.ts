// The credit score: base 600 plus the sum of the factors' contributions, clamped to
// 0..1000, and its band (A best .. F worst). computeScore is pure; scoreParty reads the
// party's history first. Storing scores and raising alerts is refresh.ts's job.
import type { ServiceContext } from "../context.js";
import type { PartyRecord } from "../store/parties-store.js";
import {
  allFactors,
  overdueShareOf,
  scoringInputOf,
  type FactorResult,
  type PartyHistory,
  type ScoringInput,
} from "./factors.js";
import { scoringInputFor } from "./kept-scoring.js";
import { clamp } from "./math.js";
import { bandOf, RISK_POLICY, type ScoreBand } from "./policy.js";

export interface ScoreResult {
  partyId: string;
  score: number;
  band: ScoreBand;
  base: number;
  /** The sum of the contributions before clamping to 0..1000. */
  unclamped: number;
  factors: FactorResult[];
  /** Outstanding as a debtor that is overdue or defaulted, basis points (what the overdue alert watches). */
  overdueShareBps: number;
}

export function computeScore(history: PartyHistory | (ScoringInput & { partyId: string })): ScoreResult {
  const input = scoringInputOf(history);
  const factors = allFactors(input);
  const base = RISK_POLICY.score.base;
  const unclamped = base + factors.reduce((sum, f) => sum + f.contribution, 0);
  const score = clamp(unclamped, RISK_POLICY.score.min, RISK_POLICY.score.max);
  return {
    partyId: history.partyId,
    score,
    band: bandOf(score),
    base,
    unclamped,
    factors,
    overdueShareBps: overdueShareOf(input.totals).shareBps,
  };
}

/** The party's score from its history as of now (not stored). */
export async function scoreParty(ctx: ServiceContext, party: PartyRecord): Promise<ScoreResult> {
  return computeScore(await scoringInputFor(ctx, party));
}
