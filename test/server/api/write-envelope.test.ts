// One envelope for every write that sends chain transactions: its resource under a named key
// plus `transactions: [{ kind, hash }]`. Held against the OpenAPI document itself, so a new
// write has to be put in one of the two tables below, and a chain write without the envelope
// fails here before any client meets it.
import { expect } from "chai";
import { operations, resolve, successSchemas } from "../openapi-document.js";

// operationId → the named key its resource is answered under (per success status, where they differ).
const CHAIN_WRITES: Record<string, string | Record<string, string>> = {
  createParty: "party",
  suspendParty: "party",
  reactivateParty: "party",
  fundPartyWithTestTokens: "partyId",
  withdrawHeldPayments: "to",
  // 200 after registration; 202 (Prefer: respond-async) with the registration resource.
  confirmReceivable: { "200": "receivable", "202": "registration" },
  splitCertificate: "children",
  transferCertificate: "certificate",
  openFinancingRequest: "request",
  cancelFinancingRequest: "request",
  fundFinancingRequest: "request",
  repayPledge: "request",
  foreclosePledge: "request",
  repayReceivable: "receivable",
  setEarlyPaymentRate: "partyId",
  openDispute: "dispute",
  withdrawDispute: "dispute",
  proposeCreditNote: "creditNote",
  withdrawCreditNote: "creditNote",
  consentToCreditNote: "creditNote",
  grantRecourse: "endorsements",
  openRecourseClaim: "claim",
  payRecourseClaim: "claim",
  escalateRecourseClaim: "claim",
};

// Writes that send no transaction: they change only the service's own records (or, for the
// local chain's clock, call a node RPC that is not a transaction).
const OFF_CHAIN_WRITES = [
  "submitReceivable",
  "reviewReceivable",
  "declineReceivable",
  "withdrawReceivable",
  "setIndustryRisk",
  "setBaseLimit",
  "stressNetwork",
  "advanceLocalChainTime",
  // The operator's recommendation on a credit note: the governor, not the service, sends the call.
  "recommendCreditNoteArbitration",
  "recommendDisputeDismissal",
  "createWebhookEndpoint",
  "deleteWebhookEndpoint",
  "replayWebhookDelivery",
];

const writes = operations()
  .filter(({ method }) => method !== "get")
  .map(({ operation }) => operation);

describe("API: every write that sends transactions answers the transaction envelope", function () {
  it("classifies every write in the document as a chain write or an off-chain one", function () {
    const classified = new Set([...Object.keys(CHAIN_WRITES), ...OFF_CHAIN_WRITES]);
    expect(writes.map((operation) => operation.operationId).filter((id) => !classified.has(id))).to.deep.equal([]);
    const documented = new Set(writes.map((operation) => operation.operationId));
    expect([...classified].filter((id) => !documented.has(id))).to.deep.equal([]);
  });

  for (const [operationId, resourceKeys] of Object.entries(CHAIN_WRITES)) {
    const named = typeof resourceKeys === "string" ? resourceKeys : Object.values(resourceKeys).join("` or `");
    it(`${operationId} answers \`${named}\` and \`transactions: [{ kind, hash }]\``, function () {
      const operation = writes.find((candidate) => candidate.operationId === operationId)!;
      const statuses = Object.keys(operation.responses).filter((status) => status.startsWith("2"));
      expect(statuses).to.not.be.empty;
      for (const status of statuses) {
        const resourceKey = typeof resourceKeys === "string" ? resourceKeys : resourceKeys[status];
        expect(resourceKey, `${operationId} answers ${status}: name its resource key`).to.be.a("string");
        const schema = resolve(
          successSchemas({ ...operation, responses: { [status]: operation.responses[status]! } })[0],
        );
        expect(schema.required).to.include.members(["transactions", resourceKey!]);
        const transactions = resolve(schema.properties?.transactions);
        expect(transactions.type).to.equal("array");
        const sent = resolve(transactions.items);
        expect(sent.required).to.have.members(["kind", "hash"]);
        expect(resolve(sent.properties?.kind).type).to.equal("string");
        expect(resolve(sent.properties?.hash).type).to.equal("string");
      }
    });
  }

  it("marks every top-level txHash and txHashes of a write deprecated", function () {
    const hashFields = writes
      .filter((operation) => operation.operationId in CHAIN_WRITES)
      .flatMap((operation) =>
        successSchemas(operation).flatMap((schema) =>
          Object.entries(resolve(schema).properties ?? {})
            .filter(([name]) => name === "txHash" || name === "txHashes")
            .map(
              ([name, property]) => `${operation.operationId}.${name}${property.deprecated ? "" : " (not deprecated)"}`,
            ),
        ),
      );
    expect(hashFields.sort()).to.deep.equal(
      [
        "cancelFinancingRequest.txHash",
        "confirmReceivable.txHash",
        // The opening answers the request's own fields at the top level: its txHashes is the
        // request's record (open, fund), the same field GET answers, not the write's hashes.
        "openFinancingRequest.txHashes (not deprecated)",
        "foreclosePledge.txHash",
        "fundFinancingRequest.txHashes",
        "repayPledge.txHashes",
        "repayReceivable.txHash",
        "setEarlyPaymentRate.txHash",
        "splitCertificate.txHash",
        "transferCertificate.txHash",
      ].sort(),
    );
  });
});
