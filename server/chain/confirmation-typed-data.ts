// The debtor's EIP-712 confirmation, as ReceivableRegistry.CONFIRMATION_TYPEHASH defines it.
// One definition for the service, the tests and the benchmarks: a field out of order here
// would make every signature fail on-chain.
import { concat, keccak256, TypedDataEncoder } from "ethers";

export const CONFIRMATION_DOMAIN_NAME = "Tierline ReceivableRegistry";
export const CONFIRMATION_DOMAIN_VERSION = "1";

export const CONFIRMATION_TYPES = {
  ReceivableConfirmation: [
    { name: "receivableId", type: "bytes32" },
    { name: "documentHash", type: "bytes32" },
    { name: "seller", type: "address" },
    { name: "debtor", type: "address" },
    { name: "faceValue", type: "uint256" },
    { name: "settlementToken", type: "address" },
    { name: "dueDate", type: "uint64" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** The domain a confirmation is signed under: the registry it is meant for, on its chain. */
export interface ConfirmationDomain {
  name: string;
  version: string;
  chainId: number | bigint | string;
  verifyingContract: string;
}

// TypedDataEncoder.hash parses the types and hashes the domain again on every call (getAddress
// and keccak in JavaScript): ~0.35 ms of each confirmation in the bench profile (issue 12). The
// types never change and a service speaks to one registry, so both are worked out once.
const encoder = TypedDataEncoder.from(CONFIRMATION_TYPES);
const domainSeparators = new Map<string, string>();

/** The EIP-712 digest of `message` under `domain`: what the debtor signs and the registry recovers. */
export function confirmationDigest(domain: ConfirmationDomain, message: Record<string, unknown>): string {
  const key = `${domain.name}|${domain.version}|${domain.chainId}|${domain.verifyingContract.toLowerCase()}`;
  let separator = domainSeparators.get(key);
  if (separator === undefined) {
    separator = TypedDataEncoder.hashDomain(domain);
    domainSeparators.set(key, separator);
  }
  return keccak256(concat(["0x1901", separator, encoder.hash(message)]));
}
