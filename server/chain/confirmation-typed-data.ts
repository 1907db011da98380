// The debtor's EIP-712 confirmation, as ReceivableRegistry.CONFIRMATION_TYPEHASH defines it.
// One definition for the service, the tests and the benchmarks: a field out of order here
// would make every signature fail on-chain.
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
