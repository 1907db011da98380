// Document identity: the canonical form of document numbers, checked against the vectors
// that docs/document-identity.md publishes for other platforms.
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import { canonicalDocumentNumber, deliveryKeyOf } from "../../../server/model/document-identity.js";
import { normaliseInvoiceNumber, receivableIdOf } from "../../../server/model/receivable-schema.js";

const DOC = readFileSync(new URL("../../../docs/document-identity.md", import.meta.url), "utf8");

/** `| "input" | why | canonical | 0xhash |` rows of the test-vector table. */
const VECTORS = [...DOC.matchAll(/^\| `(".*")` \| (.+?) \| `([^`]*)` \| `(0x[0-9a-f]{64})` \|$/gmu)].map((m) => ({
  input: JSON.parse(m[1]!) as string,
  why: m[2]!,
  canonical: m[3]!,
  hash: m[4]!,
}));

/** `| "invoice" | 0xid |` rows of the registry-id table. */
const ID_VECTORS = [...DOC.matchAll(/^\| `(".*")` \| `(0x[0-9a-f]{64})` \|$/gmu)].map((m) => ({
  invoice: JSON.parse(m[1]!) as string,
  id: m[2]!,
}));

describe("document identity: the canonical form", function () {
  it("publishes enough vectors to be worth following", function () {
    expect(VECTORS.length).to.be.at.least(20);
    expect(ID_VECTORS.length).to.be.at.least(2);
  });

  describe("every vector in docs/document-identity.md", function () {
    for (const vector of VECTORS) {
      it(`${JSON.stringify(vector.input)} (${vector.why}) -> ${vector.canonical}`, function () {
        expect(canonicalDocumentNumber(vector.input)).to.equal(vector.canonical);
        expect(keccak256(toUtf8Bytes(vector.canonical))).to.equal(vector.hash);
        // Canonical is canonical: applying it again changes nothing.
        expect(canonicalDocumentNumber(vector.canonical)).to.equal(vector.canonical);
      });
    }
  });

  it("gives the registry ids the document lists", function () {
    const sellerHash = keccak256(toUtf8Bytes("91310000MA1FL0001X"));
    const debtorHash = keccak256(toUtf8Bytes("91110000MA00ANCH0R"));
    expect(DOC).to.include(sellerHash).and.include(debtorHash);
    for (const { invoice, id } of ID_VECTORS) {
      expect(receivableIdOf(sellerHash, debtorHash, invoice), invoice).to.equal(id);
      // The formula the document states, computed independently of receivableIdOf.
      const invoiceHash = keccak256(toUtf8Bytes(canonicalDocumentNumber(invoice)));
      expect(
        keccak256(
          AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "bytes32"], [sellerHash, debtorHash, invoiceHash]),
        ),
      ).to.equal(id);
    }
  });

  describe("the look-alikes of issue 10", function () {
    it("makes po 944450, PO-944450 and PO944450 one order number", function () {
      const keys = ["po 944450", "PO-944450", "PO944450"].map(canonicalDocumentNumber);
      expect(new Set(keys).size).to.equal(1);
    });

    it("makes Arabic-Indic digits, Cyrillic О and Greek Ο the same invoice number as the original", function () {
      const original = normaliseInvoiceNumber("INV-PO944450-0042");
      expect(normaliseInvoiceNumber("INV-PO944450-٠٠٤٢")).to.equal(original);
      expect(normaliseInvoiceNumber("INV-P\u041E944450-0042")).to.equal(original);
      expect(normaliseInvoiceNumber("INV-P\u039F944450-0042")).to.equal(original);
    });

    it("keeps different numbers apart", function () {
      expect(canonicalDocumentNumber("INV-2026-0042")).to.not.equal(canonicalDocumentNumber("INV-2026-0043"));
      expect(canonicalDocumentNumber("PO-944450")).to.not.equal(canonicalDocumentNumber("PO-944451"));
    });
  });

  it("identifies a delivery by its carrier and waybill, each canonical", function () {
    expect(deliveryKeyOf("Rhein Freight", "WB 77812")).to.equal(deliveryKeyOf("RHEIN-FREIGHT", "wb-77812"));
    expect(deliveryKeyOf("Rhein Freight", "WB 77812")).to.not.equal(deliveryKeyOf("Rhein Freight", "WB 77813"));
    expect(deliveryKeyOf("Rhein Freight", "WB 77812")).to.not.equal(deliveryKeyOf("Main Freight", "WB 77812"));
  });
});
