// The log decoder (chain/event-decoder.ts) reads one-word events word by word instead of through
// ethers' generic decoder. For every event of every Tierline contract, on random topics and data
// (well-formed, and with the faults a foreign log could carry: an address word with high bits
// set, missing topics, short data), it must give what ethers' decodeEventLog gives, or refuse
// (null) where ethers throws.
import { expect } from "chai";
import fc from "fast-check";
import { hexlify, Interface, type EventFragment } from "ethers";
import { CONTRACT_NAMES, readArtifact } from "../../../server/chain/artifacts.js";
import { decodeLog } from "../../../server/chain/event-decoder.js";

const RUNS = 40;
const SEED = 2027;

const word = fc.oneof(
  // Small values: addresses, amounts, enums, booleans as the contracts write them.
  fc.bigInt({ min: 0n, max: (1n << 160n) - 1n }).map((v) => v.toString(16).padStart(64, "0")),
  fc.constantFrom("0".repeat(64), "0".repeat(63) + "1", "f".repeat(64)),
  // Anything: high bits set where a narrow type expects none.
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b).slice(2)),
);

/** ethers' own answer: the decoded values by name and position, or "throws". */
function reference(abi: Interface, fragment: EventFragment, topics: string[], data: string): unknown {
  try {
    const args = abi.decodeEventLog(fragment, data, topics);
    return { array: args.toArray(), object: args.toObject() };
  } catch {
    return "throws";
  }
}

describe("the log decoder", () => {
  for (const name of CONTRACT_NAMES) {
    const abi = new Interface(readArtifact(name).abi);
    const events: EventFragment[] = [];
    abi.forEachEvent((fragment) => events.push(fragment));
    if (events.length === 0) continue;
    it(`decodes each of ${name}'s ${events.length} events as ethers does (${RUNS} runs each, seed ${SEED})`, () => {
      for (const fragment of events) {
        const indexed = fragment.inputs.filter((input) => input.indexed).length;
        const dataWords = fragment.inputs.length - indexed;
        fc.assert(
          fc.property(
            fc.array(word, { minLength: indexed, maxLength: indexed }),
            fc.array(word, { minLength: dataWords, maxLength: dataWords + 1 }),
            fc.constantFrom("whole", "missing topic", "short data"),
            (topicWords, dataWordList, fault) => {
              let topics = [fragment.topicHash, ...topicWords.map((w) => `0x${w}`)];
              let data = `0x${dataWordList.join("")}`;
              if (fault === "missing topic" && indexed > 0) topics = topics.slice(0, -1);
              if (fault === "short data" && dataWords > 0) data = data.slice(0, 2 + 64 * (dataWords - 1) + 10);
              const expected = reference(abi, fragment, topics, data);
              const decoded = decodeLog(abi, { topics, data });
              if (expected === "throws") {
                expect(decoded, `${fragment.format()} with ${fault}`).to.equal(null);
              } else {
                expect(decoded?.name).to.equal(fragment.name);
                expect({ array: decoded!.args.toArray(), object: decoded!.args.toObject() }).to.deep.equal(expected);
              }
            },
          ),
          { numRuns: RUNS, seed: SEED },
        );
      }
    });
  }

  it("gives null for a log of no event in the ABI", () => {
    const abi = new Interface(readArtifact("ReceivableRegistry").abi);
    expect(decodeLog(abi, { topics: [`0x${"ab".repeat(32)}`], data: "0x" })).to.equal(null);
    expect(decodeLog(abi, { topics: [], data: "0x" })).to.equal(null);
  });
});
