// A party's score for a read or a limit check, shared between the callers that wait for it.
// Every limit check rescores the parties it concerns first, so that nobody is answered from a
// stale score; at a core enterprise's month-end every confirmation names the same debtor,
// whose history is the largest in the book, and each one rescored all of it again (issue 12).
// The promise kept is unchanged: a caller gets a score computed from a start after its own
// arrival, so it reflects everything committed before the caller asked. What changes is that
// callers arriving while one refresh of that party runs share the next one, instead of each
// queueing its own behind the refresh lock: one rescore per wave, not one per caller.
import type { ServiceContext } from "../context.js";
import { refreshRisk, type RefreshReason } from "./refresh.js";
import type { ScoreResult } from "./scoring.js";

interface Flights {
  /** The refresh under way, if any: it may have started before a new caller arrived. */
  running?: Promise<ScoreResult | undefined>;
  /** The refresh that starts when the running one ends, shared by everyone who arrived meanwhile. */
  next?: Promise<ScoreResult | undefined>;
}

// Per database (a test process runs many services), per party.
const flightsByDb = new WeakMap<object, Map<string, Flights>>();

function flightsOf(ctx: ServiceContext, partyId: string): { flights: Flights; done: () => void } {
  let byParty = flightsByDb.get(ctx.db);
  if (!byParty) flightsByDb.set(ctx.db, (byParty = new Map()));
  let flights = byParty.get(partyId);
  if (!flights) byParty.set(partyId, (flights = {}));
  const kept = flights;
  return {
    flights,
    done: () => {
      if (!kept.running && !kept.next && byParty.get(partyId) === kept) byParty.delete(partyId);
    },
  };
}

/** The party's score, computed (and stored, with its alerts) by a refresh that started after this call. */
export function sharedRefresh(
  ctx: ServiceContext,
  partyId: string,
  reason: RefreshReason,
): Promise<ScoreResult | undefined> {
  const { flights, done } = flightsOf(ctx, partyId);
  if (flights.next) return flights.next;
  const start = (): Promise<ScoreResult | undefined> => {
    const run = refreshRisk(ctx, [partyId], reason).then((scores) => scores.get(partyId));
    flights.running = run;
    const settle = () => {
      if (flights.running === run) flights.running = undefined;
      done();
    };
    run.then(settle, settle);
    return run;
  };
  if (!flights.running) return start();
  const next = flights.running
    .catch(() => undefined) // the running refresh's failure is its own callers' to see
    .then(() => {
      flights.next = undefined;
      return start();
    });
  flights.next = next;
  return next;
}
