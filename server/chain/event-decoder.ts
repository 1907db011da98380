// Decodes contract logs by a map from topic to event, built once per ABI. ethers'
// Interface.parseLog finds a log's event by hashing every event signature of the ABI again
// on each call (keccak in JavaScript): measured at 2–3 ms of CPU per registration between the
// indexer and the registration batcher (issue 12). Here a log costs its ABI decoding only.
import type { EventFragment, Interface, Result } from "ethers";

export interface DecodedLog {
  name: string;
  fragment: EventFragment;
  args: Result;
}

const byInterface = new WeakMap<Interface, Map<string, EventFragment>>();

/** The event `log` is in `abi`, decoded; null when it is none of its events (or malformed). */
export function decodeLog(abi: Interface, log: { topics: readonly string[]; data: string }): DecodedLog | null {
  let events = byInterface.get(abi);
  if (!events) {
    const built = new Map<string, EventFragment>();
    abi.forEachEvent((fragment) => built.set(fragment.topicHash.toLowerCase(), fragment));
    byInterface.set(abi, built);
    events = built;
  }
  const fragment = events.get(log.topics[0]?.toLowerCase() ?? "");
  if (!fragment) return null;
  try {
    return { name: fragment.name, fragment, args: abi.decodeEventLog(fragment, log.data, log.topics) };
  } catch {
    return null;
  }
}
