// Decodes contract logs by a map from topic to event, built once per ABI. ethers'
// Interface.parseLog finds a log's event by hashing every event signature of the ABI again
// on each call (keccak in JavaScript): measured at 2–3 ms of CPU per registration between the
// indexer and the registration batcher (issue 12). Here a log costs its ABI decoding only, and
// an event made of one-word values only (addresses, integers, booleans, fixed bytes: nearly
// all of ours) is read word by word, with each address checksummed once: ethers' generic
// decoder, which hashes every address again, was still ~0.6 ms of each registration.
import { getAddress, Result, type EventFragment, type Interface, type ParamType } from "ethers";

export interface DecodedLog {
  name: string;
  fragment: EventFragment;
  args: Result;
}

/** Reads one 32-byte word (64 lowercase hex digits) as ethers' coder for the type would. */
type WordReader = (word: string) => unknown;

interface EventPlan {
  fragment: EventFragment;
  /** Absent when some input is not a one-word value: ethers decodes the log then. */
  words?: { names: string[]; indexed: boolean[]; readers: WordReader[]; indexedCount: number; dataWords: number };
}

const byInterface = new WeakMap<Interface, Map<string, EventPlan>>();

// Checksummed addresses by lowercase hex: the same few parties and contracts recur in every log.
const CHECKSUMS_KEPT = 10_000;
const checksums = new Map<string, string>();
function checksummed(hex40: string): string {
  let address = checksums.get(hex40);
  if (address === undefined) {
    if (checksums.size >= CHECKSUMS_KEPT) checksums.clear();
    address = getAddress(`0x${hex40}`);
    checksums.set(hex40, address);
  }
  return address;
}

const ZERO_PREFIX = "0".repeat(24);

/** The reader for a one-word type, or undefined for any other (dynamic, tuple, array). */
function wordReader(param: ParamType): WordReader | undefined {
  const type = param.type;
  if (type === "address") {
    return (word) => {
      // ethers refuses an address word with its high 12 bytes set (toBeHex(value, 20)).
      if (!word.startsWith(ZERO_PREFIX)) throw new Error("address word out of range");
      return checksummed(word.slice(24));
    };
  }
  if (type === "bool") return (word) => BigInt(`0x${word}`) !== 0n;
  const integer = /^(u?)int(\d+)$/.exec(type);
  if (integer) {
    const bits = Number(integer[2]);
    const signed = integer[1] === "";
    return (word) => {
      const value = BigInt.asUintN(bits, BigInt(`0x${word}`));
      return signed ? BigInt.asIntN(bits, value) : value;
    };
  }
  const fixed = /^bytes(\d+)$/.exec(type);
  if (fixed) {
    const size = Number(fixed[1]);
    return (word) => `0x${word.slice(0, size * 2)}`;
  }
  return undefined;
}

function planOf(fragment: EventFragment): EventPlan {
  const readers: WordReader[] = [];
  for (const input of fragment.inputs) {
    const reader = wordReader(input);
    if (!reader) return { fragment };
    readers.push(reader);
  }
  const indexed = fragment.inputs.map((input) => input.indexed === true);
  const indexedCount = indexed.filter(Boolean).length;
  return {
    fragment,
    words: {
      names: fragment.inputs.map((input) => input.name),
      indexed,
      readers,
      indexedCount,
      dataWords: indexed.length - indexedCount,
    },
  };
}

function plansOf(abi: Interface): Map<string, EventPlan> {
  let plans = byInterface.get(abi);
  if (!plans) {
    const built = new Map<string, EventPlan>();
    abi.forEachEvent((fragment) => {
      if (!fragment.anonymous) built.set(fragment.topicHash.toLowerCase(), planOf(fragment));
    });
    byInterface.set(abi, built);
    plans = built;
  }
  return plans;
}

/** The words of `plan`'s event read from the log, as ethers would give them; throws where ethers would. */
function readWords(words: NonNullable<EventPlan["words"]>, topics: readonly string[], data: string): Result {
  if (topics.length - 1 < words.indexedCount) throw new Error("missing topics");
  const body = data.toLowerCase();
  if (!/^0x[0-9a-f]*$/.test(body) || body.length < 2 + 64 * words.dataWords) throw new Error("data too short");
  const values: unknown[] = [];
  let topic = 1;
  let offset = 2;
  for (let i = 0; i < words.readers.length; i++) {
    let word: string;
    if (words.indexed[i]) {
      word = topics[topic++]!.toLowerCase();
      if (!/^0x[0-9a-f]{64}$/.test(word)) throw new Error("malformed topic");
      word = word.slice(2);
    } else {
      word = body.slice(offset, offset + 64);
      offset += 64;
    }
    values.push(words.readers[i]!(word));
  }
  return Result.fromItems(values, words.names);
}

/** The event `log` is in `abi`, decoded; null when it is none of its events (or malformed). */
export function decodeLog(abi: Interface, log: { topics: readonly string[]; data: string }): DecodedLog | null {
  const plan = plansOf(abi).get(log.topics[0]?.toLowerCase() ?? "");
  if (!plan) return null;
  const { fragment } = plan;
  try {
    const args = plan.words
      ? readWords(plan.words, log.topics, log.data)
      : abi.decodeEventLog(fragment, log.data, log.topics);
    return { name: fragment.name, fragment, args };
  } catch {
    return null;
  }
}
