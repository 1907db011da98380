// The seller's EIP-712 consent to a credit note, as DilutionLedger.CREDIT_NOTE_CONSENT_TYPEHASH
// defines it (issue 16). One definition for the service, the tests and the benchmarks.
export const CREDIT_NOTE_DOMAIN_NAME = "Tierline DilutionLedger";
export const CREDIT_NOTE_DOMAIN_VERSION = "1";

export const CREDIT_NOTE_CONSENT_TYPES = {
  CreditNoteConsent: [
    { name: "creditNoteId", type: "uint256" },
    { name: "receivableId", type: "bytes32" },
    { name: "amount", type: "uint256" },
    { name: "reasonCode", type: "bytes32" },
    { name: "documentHash", type: "bytes32" },
    { name: "deadline", type: "uint256" },
  ],
};
