// The access policy as a table: the README shows exactly what the module says, every
// resource has a cell for every relation of its scope, and a caller in several relations
// gets the most generous of its cells.
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import {
  ACCESS_POLICY,
  decide,
  PARTY_RELATIONS,
  RECEIVABLE_RELATIONS,
  redactFields,
  RESOURCES,
  withPolicyTable,
} from "../../../server/model/access-policy.js";

describe("Access policy table", function () {
  it("is what the README shows (regenerate with `npx tsx scripts/policy-table.ts --write`)", function () {
    const readme = readFileSync(path.resolve(import.meta.dirname, "../../../README.md"), "utf8");
    expect(withPolicyTable(readme) === readme, "README.md's access policy table is stale").to.equal(true);
  });

  it("has a cell for every relation of each resource's scope, and no other", function () {
    for (const resource of RESOURCES) {
      const row = ACCESS_POLICY[resource];
      const relations = row.scope === "party" ? PARTY_RELATIONS : RECEIVABLE_RELATIONS;
      expect(Object.keys(row.cells).sort(), resource).to.deep.equal([...relations].sort());
    }
  });

  it("gives a caller in several relations the most generous cell, and a caller in none the 'other' cell", function () {
    expect(decide("documents", ["holder", "seller"])).to.deep.equal({ access: "whole" });
    expect(decide("documents", ["holder", "evaluatingFinancier"]).access).to.equal("redacted");
    expect(decide("tree", [])).to.deep.equal({ access: "denied", status: 403, code: "FORBIDDEN" });
    expect(decide("partyProfile", []).access).to.equal("whole");
  });

  it("leaves out exactly the fields a redacted cell names, in every line", function () {
    const documents = {
      purchaseOrder: {
        number: "PO-1",
        lines: [
          { sku: "A", quantity: 2, unitPrice: "5" },
          { sku: "B", quantity: 1, unitPrice: "7" },
        ],
      },
      invoice: { total: "17", lines: [{ sku: "A", quantity: 2, unitPrice: "5" }] },
    };
    const shown = redactFields(documents, decide("documents", ["evaluatingFinancier"]));
    expect(shown).to.deep.equal({
      purchaseOrder: {
        number: "PO-1",
        lines: [
          { sku: "A", quantity: 2 },
          { sku: "B", quantity: 1 },
        ],
      },
      invoice: { total: "17", lines: [{ sku: "A", quantity: 2 }] },
    });
    expect(documents.invoice.lines[0]!.unitPrice, "the original is untouched").to.equal("5");
  });
});
