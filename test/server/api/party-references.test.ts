// One shape for a party named in an answer: PartyRef { address, partyId, name }. A field that
// names a party by its bare id (`holderPartyId`) carries its PartyRef beside it (`holder`), so
// a client reads every party the same way. Walks every answer in the OpenAPI document; the
// bare ids that stay without a ref are listed below, and a new one fails here.
import { expect } from "chai";
import { operations, openApiDocument, refName, resolve, successSchemas, type JsonSchema } from "../openapi-document.js";

// `<schema>.<field>`: a party's own id in an answer about that party (the subject, not a
// reference to another one), kept as it is.
const SUBJECT_PARTY_IDS = [
  "TestFundsOutcome.partyId",
  "EarlyPaymentRateSet.partyId",
  "RiskAlert.partyId",
  "CreditLimit.partyId",
  "WebhookEndpoint.partyId",
  "createWebhookEndpoint.partyId",
];
// Lists of ids: a list of PartyRefs would be a new field, not yet asked for.
const LEGACY_ID_LISTS = ["Party.relatedPartyIds", "CreatedParty.relatedPartyIds"];

const isPartyRef = (schema: JsonSchema | undefined): boolean =>
  schema !== undefined &&
  (refName(schema) === "PartyRef" || (schema.anyOf ?? []).some((option) => refName(option) === "PartyRef"));

interface PartyIdField {
  at: string;
  field: string;
  siblings: Record<string, JsonSchema>;
}

/** Every property naming a party id, in every object an answer can contain. */
function partyIdFields(): PartyIdField[] {
  const found: PartyIdField[] = [];
  const visited = new Set<string>();
  const walk = (schema: JsonSchema | undefined, at: string): void => {
    if (!schema) return;
    const name = refName(schema);
    if (name) {
      if (visited.has(name)) return;
      visited.add(name);
      return walk(resolve(schema), name);
    }
    for (const [field, property] of Object.entries(schema.properties ?? {})) {
      if (/PartyIds?$|^partyId$/.test(field)) found.push({ at, field, siblings: schema.properties! });
      walk(property, property.$ref ? at : `${at}.${field}`);
    }
    if (typeof schema.additionalProperties === "object") walk(schema.additionalProperties, at);
    walk(schema.items, at);
    for (const option of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) walk(option, at);
  };
  for (const { operation } of operations())
    for (const schema of successSchemas(operation)) walk(schema, refName(schema) ?? operation.operationId);
  return found;
}

describe("API: a party in an answer is one shape, PartyRef { address, partyId, name }", function () {
  const fields = partyIdFields();

  it("documents PartyRef once, with the address and the nullable party id and name", function () {
    const ref = openApiDocument.components.schemas.PartyRef!;
    expect(ref.required).to.have.members(["address", "partyId", "name"]);
    expect(Object.keys(ref.properties ?? {})).to.have.members(["address", "partyId", "name"]);
  });

  it("finds the party ids the answers carry (the walk reaches nested and listed objects)", function () {
    const where = fields.map(({ at, field }) => `${at}.${field}`);
    expect(where).to.include.members([
      "Certificate.holderPartyId",
      "FinancingRequest.financierPartyId",
      "ForeclosedPledge.certificate.holderPartyId",
      "Repayments.items.payerPartyId",
    ]);
  });

  it("puts a PartyRef beside every <role>PartyId, named <role>, and marks the bare id deprecated", function () {
    const missing = fields
      .filter(({ field }) => /.PartyId$/.test(field))
      .filter(({ field, siblings }) => {
        const role = field.replace(/PartyId$/, "");
        return !isPartyRef(siblings[role]) || !siblings[field]!.deprecated;
      })
      .map(({ at, field }) => `${at}.${field}`);
    expect(missing).to.deep.equal([]);
  });

  it("answers a bare partyId only inside a PartyRef-shaped object or as the subject's own id", function () {
    const bare = fields
      .filter(({ field }) => field === "partyId")
      .filter(({ siblings }) => !("address" in siblings && "name" in siblings))
      .map(({ at, field }) => `${at}.${field}`);
    expect([...new Set(bare)].sort()).to.deep.equal([...SUBJECT_PARTY_IDS].sort());
  });

  it("keeps lists of party ids only where they were before", function () {
    const lists = fields.filter(({ field }) => field.endsWith("PartyIds")).map(({ at, field }) => `${at}.${field}`);
    expect([...new Set(lists)].sort()).to.deep.equal([...LEGACY_ID_LISTS].sort());
  });
});
