// The confirmation's EIP-712 digest with its types and domain worked out once
// (chain/confirmation-typed-data.ts) is the digest ethers computes from scratch, for any message
// and whichever of several registries it is meant for: a cached domain never leaks into another.
import { expect } from "chai";
import fc from "fast-check";
import { getAddress, hexlify, TypedDataEncoder } from "ethers";
import {
  CONFIRMATION_DOMAIN_NAME,
  CONFIRMATION_DOMAIN_VERSION,
  CONFIRMATION_TYPES,
  confirmationDigest,
} from "../../../server/chain/confirmation-typed-data.js";

const RUNS = 200;
const SEED = 27;

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(hexlify(b)));
const uint = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }).map(String);

describe("the confirmation digest", () => {
  it(`equals ethers' TypedDataEncoder.hash for any message and registry (${RUNS} runs, seed ${SEED})`, () => {
    const registries = [
      { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
      { chainId: 31337, verifyingContract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" },
      { chainId: 1, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...registries),
        fc.record({
          receivableId: bytes32,
          documentHash: bytes32,
          seller: address,
          debtor: address,
          faceValue: uint(256),
          settlementToken: address,
          dueDate: uint(64),
          nonce: uint(256),
          deadline: uint(256),
        }),
        (registry, message) => {
          const domain = { name: CONFIRMATION_DOMAIN_NAME, version: CONFIRMATION_DOMAIN_VERSION, ...registry };
          expect(confirmationDigest(domain, message)).to.equal(
            TypedDataEncoder.hash(domain, CONFIRMATION_TYPES, message),
          );
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
