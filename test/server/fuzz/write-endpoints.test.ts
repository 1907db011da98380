// Bad input on every write endpoint (every POST route of allRoutes()), as properties with a
// fixed seed: random JSON, mutations of a valid body (a field left out, an unknown field such
// as "status" or "txHash", a wrong type, a bad amount, date, document number, name, enum, id),
// raw bodies no JSON endpoint may take, oversized and deeply nested bodies, and a 10,000-line
// invoice. Every answer is a 4xx in the error shape with an UPPER_SNAKE code and nothing
// internal in it, and afterwards the database and the chain are as they were.
import { expect } from "chai";
import fc from "fast-check";
import { Wallet } from "ethers";
import { allRoutes } from "../../../server/api/app.js";
import { MAX_BODY_DEPTH } from "../../../server/api/body-guards.js";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { deeplyNested, mutationOf, randomJson, rawMalformed, type BodyShape, type Json } from "./bad-values.js";
import {
  expectRefusal,
  expectSameState,
  rawRequest,
  stateOf,
  type RefusalExpectation,
  type StateSnapshot,
} from "./refusals.js";

// Fixed, so a run is repeatable; TIERLINE_FUZZ_SEED and TIERLINE_FUZZ_SCALE explore further.
const SEED = Number(process.env.TIERLINE_FUZZ_SEED ?? 20_261_123);
const SCALE = Number(process.env.TIERLINE_FUZZ_SCALE ?? 1);
const RUNS = {
  randomJson: 100 * SCALE,
  mutations: 200 * SCALE,
  rawBodies: 50 * SCALE,
  idempotent: 25 * SCALE,
} as const;

interface World {
  operatorKey: string;
  seller: TestParty;
  debtor: TestParty;
  nonCustodialDebtor: TestParty;
  tier2: TestParty;
  financier: TestParty;
  /** Registered; its root split into tier2 60M, seller 30M (live) and seller 10M (in an open request). */
  activeReceivable: string;
  rootCertificate: string;
  sellerPiece: string;
  lockedPiece: string;
  openRequest: string;
  /** Awaiting the non-custodial debtor's signature. */
  pendingReceivable: string;
  /** A confirmation for it signed by the wrong key: well-formed, refused by the registry. */
  wrongKeyConfirmation: { nonce: string; deadline: number; signature: string };
  heldReceivable: string;
}

interface ExplicitCase {
  what: string;
  body: unknown;
  expect: RefusalExpectation;
}

interface WriteCase {
  caller: (w: World) => string;
  url: (w: World) => string;
  /** Valid bodies the mutations start from ({} for a route that takes no body). */
  bases: Array<(w: World) => Json>;
  shape: BodyShape;
  /** The refusal of `{}`, when it is not a validation error (undefined: `{}` is valid and must not be sent). */
  emptyObjectCode?: string | undefined;
  /** Well-formed or hand-picked bodies, each sent once, with the refusal they must get. */
  explicit?: (w: World) => ExplicitCase[];
}

const VALIDATION = "VALIDATION_FAILED";
let registryCounter = 0;
const freshRegistryId = () => `FUZZREG${Date.now().toString(36).toUpperCase()}${++registryCounter}`;

const submissionShape: BodyShape = {
  fields: {
    debtorId: { kind: "partyRef", min: 1, max: 64 },
    "purchaseOrder.number": { kind: "code", max: 64 },
    "purchaseOrder.issuedAt": { kind: "date" },
    "purchaseOrder.currency": { kind: "enum", values: ["USD"] },
    "purchaseOrder.lines": { kind: "array", min: 1, max: 1_000 },
    "purchaseOrder.lines.*.sku": { kind: "code", max: 64 },
    "purchaseOrder.lines.*.quantity": { kind: "int", min: 1, max: 1_000_000_000 },
    "purchaseOrder.lines.*.unitPrice": { kind: "amount", positive: true },
    "delivery.carrier": { kind: "name", max: 100 },
    "delivery.waybill": { kind: "code", max: 64 },
    "delivery.shippedAt": { kind: "date" },
    "delivery.receivedAt": { kind: "date" },
    "delivery.receivedBy": { kind: "name", max: 100 },
    "delivery.lines": { kind: "array", min: 1, max: 1_000 },
    "delivery.lines.*.sku": { kind: "code", max: 64 },
    "delivery.lines.*.quantity": { kind: "int", min: 1, max: 1_000_000_000 },
    "invoice.number": { kind: "code", max: 64 },
    "invoice.issuedAt": { kind: "date" },
    "invoice.dueDate": { kind: "date" },
    "invoice.lines": { kind: "array", min: 1, max: 1_000 },
    "invoice.lines.*.sku": { kind: "code", max: 64 },
    "invoice.lines.*.quantity": { kind: "int", min: 1, max: 1_000_000_000 },
    "invoice.lines.*.unitPrice": { kind: "amount", positive: true },
    "invoice.tax": { kind: "amount", positive: false },
    "invoice.total": { kind: "amount", positive: true },
  },
};

/** A submission with `lines` invoice lines (and as many ordered and delivered), each 1 x 1.000000. */
function manyLines(debtorId: string, lines: number, invoiceOnly = false) {
  const documents = validSubmission(debtorId);
  const priced = Array.from({ length: lines }, (_, i) => ({ sku: `SKU-${i + 1}`, quantity: 1, unitPrice: "1000000" }));
  documents.invoice.lines = priced;
  documents.invoice.total = (BigInt(lines) * 1_000_000n).toString();
  if (!invoiceOnly) {
    documents.purchaseOrder.lines = priced;
    documents.delivery.lines = priced.map(({ sku, quantity }) => ({ sku, quantity }));
  }
  return documents;
}

const CASES: Record<string, WriteCase> = {
  "post /v1/parties": {
    caller: (w) => w.operatorKey,
    url: () => "/v1/parties",
    bases: [
      (w) => ({
        name: "Fuzz Trading Ltd",
        registryId: freshRegistryId(),
        industry: "textiles",
        roles: ["supplier", "debtor"],
        relatedPartyIds: [w.seller.id],
      }),
      () => ({
        name: "Société Générale d'Essai 株式会社",
        registryId: freshRegistryId(),
        industry: "banking",
        roles: ["financier"],
        address: Wallet.createRandom().address,
      }),
    ],
    shape: {
      fields: {
        name: { kind: "name", max: 200 },
        registryId: { kind: "code", max: 64 },
        industry: { kind: "name", max: 100 },
        roles: { kind: "array", min: 1, max: 4 },
        "roles.*": { kind: "enum", values: ["supplier", "debtor", "financier", "auditor"] },
        relatedPartyIds: { kind: "array", min: 0, max: 50 },
        "relatedPartyIds.*": { kind: "partyRef", min: 0, max: 64 },
        address: { kind: "address" },
      },
      optional: ["address", "relatedPartyIds"],
    },
    explicit: (w) => [
      {
        what: "the operator role",
        body: { name: "Would Be Operator", registryId: freshRegistryId(), industry: "x", roles: ["operator"] },
        expect: { field: "body.roles.0" },
      },
      {
        what: "a registry id taken",
        body: { name: "Copy Cat", registryId: registryIdOf(w.seller), industry: "x", roles: ["supplier"] },
        expect: { status: 409, code: "PARTY_ALREADY_EXISTS" },
      },
      {
        what: "an address taken",
        body: {
          name: "Copy Cat",
          registryId: freshRegistryId(),
          industry: "x",
          roles: ["supplier"],
          address: w.seller.address,
        },
        expect: { status: 409, code: "ADDRESS_IN_USE" },
      },
      {
        what: "an unknown related party",
        body: {
          name: "Related",
          registryId: freshRegistryId(),
          industry: "x",
          roles: ["supplier"],
          relatedPartyIds: ["pty_nobody"],
        },
        expect: { status: 409, code: "RELATED_PARTY_UNKNOWN" },
      },
      {
        what: "a registry id under 4 characters",
        body: { name: "Short", registryId: "ab1", industry: "x", roles: ["supplier"] },
        expect: { field: "body.registryId" },
      },
    ],
  },
  "post /v1/receivables": {
    caller: (w) => w.seller.apiKey,
    url: () => "/v1/receivables",
    bases: [(w) => validSubmission(w.debtor.id)],
    shape: submissionShape,
    explicit: (w) => {
      const mismatched = manyLines(w.debtor.id, 1_000);
      mismatched.invoice.total = (1_000n * 1_000_000n + 1n).toString();
      const inFuture = validSubmission(w.debtor.id);
      inFuture.invoice.dueDate = "9999-12-31T23:59:59Z";
      const before1970 = validSubmission(w.debtor.id);
      before1970.purchaseOrder.issuedAt = "0000-01-01T00:00:00Z";
      const dueFeb30 = validSubmission(w.debtor.id);
      dueFeb30.invoice.dueDate = "2026-02-30T00:00:00Z";
      const euro = validSubmission(w.debtor.id);
      euro.purchaseOrder.currency = "EUR";
      return [
        {
          what: "10,000 invoice lines",
          body: manyLines(w.debtor.id, 10_000, true),
          expect: { field: "body.invoice.lines" },
        },
        {
          what: "1,001 lines on every document",
          body: manyLines(w.debtor.id, 1_001),
          expect: { field: "body.invoice.lines" },
        },
        {
          what: "1,000 lines whose total is off by one",
          body: mismatched,
          expect: { status: 422, code: "VERIFICATION_FAILED" },
        },
        {
          what: "an unknown debtor",
          body: validSubmission("pty_nobody"),
          expect: { status: 422, code: "VERIFICATION_FAILED" },
        },
        { what: "a due date in 9999", body: inFuture, expect: { status: 422, code: "VERIFICATION_FAILED" } },
        { what: "an order issued in year 0", body: before1970, expect: { field: "body.purchaseOrder.issuedAt" } },
        { what: "a due date of 30 February", body: dueFeb30, expect: { field: "body.invoice.dueDate" } },
        { what: "another currency", body: euro, expect: { status: 422, code: "VERIFICATION_FAILED" } },
        {
          what: "a status set by the client",
          body: { ...validSubmission(w.debtor.id), status: "active" },
          expect: { field: "body" },
        },
      ];
    },
  },
  "post /v1/receivables/:id/confirm": {
    caller: (w) => w.nonCustodialDebtor.apiKey,
    url: (w) => `/v1/receivables/${w.pendingReceivable}/confirm`,
    bases: [(w) => ({ ...w.wrongKeyConfirmation })],
    shape: {
      fields: {
        nonce: { kind: "uint256" },
        deadline: { kind: "int", min: 1, max: Number.MAX_SAFE_INTEGER },
        signature: { kind: "signature" },
      },
      // Each may be left out as far as the schema goes; a non-custodial debtor is then asked for all three (422).
      optional: ["nonce", "deadline", "signature"],
    },
    emptyObjectCode: "CONFIRMATION_SIGNATURE_REQUIRED",
    explicit: (w) => [
      {
        what: "no signature",
        body: { nonce: w.wrongKeyConfirmation.nonce, deadline: w.wrongKeyConfirmation.deadline },
        expect: { status: 422, code: "CONFIRMATION_SIGNATURE_REQUIRED" },
      },
      {
        what: "a signature by another key",
        body: { ...w.wrongKeyConfirmation },
        expect: { status: 422, code: "CONFIRMATION_INVALID_SIGNATURE" },
      },
      { what: "an expired deadline", body: { ...w.wrongKeyConfirmation, deadline: 1 }, expect: { status: 422 } },
      {
        what: "a nonce of 2^256",
        body: { ...w.wrongKeyConfirmation, nonce: (2n ** 256n).toString() },
        expect: { field: "body.nonce" },
      },
      {
        what: "a signature of one nibble",
        body: { ...w.wrongKeyConfirmation, signature: "0x1" },
        expect: { field: "body.signature" },
      },
      { what: "a status set by the client", body: { status: "active" }, expect: { field: "body" } },
    ],
  },
  "post /v1/receivables/:id/review": {
    caller: (w) => w.operatorKey,
    url: (w) => `/v1/receivables/${w.heldReceivable}/review`,
    bases: [() => ({ decision: "approve", note: "documents checked with the buyer" })],
    shape: {
      fields: { decision: { kind: "enum", values: ["approve", "reject"] }, note: { kind: "text", max: 1_000 } },
    },
    explicit: () => [
      {
        what: "a status instead of a decision",
        body: { status: "awaiting_confirmation", note: "x" },
        expect: { field: "body" },
      },
    ],
  },
  // Decline and withdraw are aimed at the registered receivable, so that even a well-formed
  // body changes nothing: the state refuses it (409 RECEIVABLE_NOT_CLOSABLE).
  "post /v1/receivables/:id/decline": {
    caller: (w) => w.debtor.apiKey,
    url: (w) => `/v1/receivables/${w.activeReceivable}/decline`,
    bases: [() => ({ reason: "we received 90, not 100" })],
    shape: { fields: { reason: { kind: "name", max: 1_000 } } },
    explicit: () => [
      { what: "no reason", body: {}, expect: { field: "body.reason" } },
      { what: "a status set by the client", body: { reason: "x", status: "declined" }, expect: { field: "body" } },
      {
        what: "a well-formed decline too late",
        body: { reason: "x" },
        expect: { status: 409, code: "RECEIVABLE_NOT_CLOSABLE" },
      },
    ],
  },
  "post /v1/receivables/:id/withdraw": {
    caller: (w) => w.seller.apiKey,
    url: (w) => `/v1/receivables/${w.activeReceivable}/withdraw`,
    bases: [() => ({ reason: "wrong due date" })],
    shape: { fields: { reason: { kind: "name", max: 1_000 } }, optional: ["reason"] },
    emptyObjectCode: "RECEIVABLE_NOT_CLOSABLE",
    explicit: () => [
      { what: "a status set by the client", body: { status: "withdrawn" }, expect: { field: "body" } },
      { what: "a well-formed withdrawal too late", body: {}, expect: { status: 409, code: "RECEIVABLE_NOT_CLOSABLE" } },
    ],
  },
  // Disputes and credit notes (issue 16) are aimed at the registered receivable by its debtor;
  // only malformed bodies are sent, so each is refused before anything reaches the chain.
  "post /v1/receivables/:id/disputes": {
    caller: (w) => w.debtor.apiKey,
    url: (w) => `/v1/receivables/${w.activeReceivable}/disputes`,
    bases: [() => ({ reasonCode: "SHORT_DELIVERY", documentHash: `0x${"ab".repeat(32)}` })],
    shape: { fields: {} },
    explicit: () => [
      { what: "no reason", body: { documentHash: `0x${"ab".repeat(32)}` }, expect: { field: "body.reasonCode" } },
      {
        what: "a reason in lower case",
        body: { reasonCode: "short", documentHash: `0x${"ab".repeat(32)}` },
        expect: { field: "body.reasonCode" },
      },
      {
        what: "a short document hash",
        body: { reasonCode: "RETURN", documentHash: "0x1234" },
        expect: { field: "body.documentHash" },
      },
      {
        what: "a status set by the client",
        body: { reasonCode: "RETURN", documentHash: `0x${"ab".repeat(32)}`, status: "open" },
        expect: { field: "body" },
      },
    ],
  },
  "post /v1/receivables/:id/disputes/withdraw": {
    caller: (w) => w.debtor.apiKey,
    url: (w) => `/v1/receivables/${w.activeReceivable}/disputes/withdraw`,
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [{ what: "a status", body: { status: "withdrawn" }, expect: { field: "body" } }],
  },
  "post /v1/receivables/:id/credit-notes": {
    caller: (w) => w.debtor.apiKey,
    url: (w) => `/v1/receivables/${w.activeReceivable}/credit-notes`,
    bases: [
      () => ({
        amount: "1000000",
        reasonCode: "RETURN",
        documentHash: `0x${"cd".repeat(32)}`,
        lines: [{ sku: "SKU-1", quantity: 1 }],
      }),
    ],
    shape: {
      fields: {
        amount: { kind: "amount", positive: true, anyWellFormed: true },
        lines: { kind: "array", min: 1, max: 1_000 },
      },
    },
    explicit: () => [
      {
        what: "a line with no quantity",
        body: {
          amount: "1000000",
          reasonCode: "RETURN",
          documentHash: `0x${"cd".repeat(32)}`,
          lines: [{ sku: "SKU-1" }],
        },
        expect: { field: "body.lines.0.quantity" },
      },
      {
        what: "a cut chosen per holder by the client",
        body: {
          amount: "1000000",
          reasonCode: "RETURN",
          documentHash: `0x${"cd".repeat(32)}`,
          lines: [{ sku: "SKU-1", quantity: 1 }],
          cuts: [{ certificateId: "1", amount: "1000000" }],
        },
        expect: { field: "body" },
      },
    ],
  },
  "post /v1/credit-notes/:id/withdraw": {
    caller: (w) => w.debtor.apiKey,
    url: () => "/v1/credit-notes/1/withdraw",
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [{ what: "a status", body: { status: "withdrawn" }, expect: { field: "body" } }],
  },
  "post /v1/credit-notes/:id/consent": {
    caller: (w) => w.seller.apiKey,
    url: () => "/v1/credit-notes/1/consent",
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [
      { what: "a signature supplied by the client", body: { signature: "0x12" }, expect: { field: "body" } },
    ],
  },
  // The arbiter path (issue 16): no credit note 1 exists in this world, so even a well-formed
  // recommendation changes nothing (404); only the operator may send one.
  "post /v1/credit-notes/:id/arbitration": {
    caller: (w) => w.operatorKey,
    url: () => "/v1/credit-notes/1/arbitration",
    bases: [() => ({ decision: "approve", reason: "the seller did not answer within its response period" })],
    shape: {
      fields: { decision: { kind: "enum", values: ["approve", "reject"] }, reason: { kind: "text", max: 2_000 } },
    },
    explicit: () => [
      {
        what: "a decision the operator takes itself",
        body: { decision: "apply", reason: "x" },
        expect: { field: "body.decision" },
      },
      {
        what: "a proposal chosen by the client",
        body: { decision: "approve", reason: "x", operationId: `0x${"ab".repeat(32)}` },
        expect: { field: "body" },
      },
    ],
  },
  // The arbiter's dismissal of a dispute (issue 16): the active receivable has no open dispute,
  // so even a well-formed recommendation changes nothing (409 DISPUTE_NOT_OPEN).
  "post /v1/receivables/:id/disputes/dismissal": {
    caller: (w) => w.operatorKey,
    url: (w) => `/v1/receivables/${w.activeReceivable}/disputes/dismissal`,
    bases: [() => ({ reason: "the debtor never backed its dispute with a credit note" })],
    shape: { fields: { reason: { kind: "text", max: 2_000 } } },
    explicit: () => [
      { what: "no reason", body: {}, expect: { field: "body.reason" } },
      {
        what: "a well-formed recommendation with no dispute open",
        body: { reason: "x" },
        expect: { code: "DISPUTE_NOT_OPEN" },
      },
      {
        what: "a proposal chosen by the client",
        body: { reason: "x", operationId: `0x${"ab".repeat(32)}` },
        expect: { field: "body" },
      },
    ],
  },
  // Recourse (issue 16): aimed at the seller's live piece and a claim id; only malformed bodies
  // are sent, and the routes without a body refuse one.
  "post /v1/certificates/:id/recourse": {
    caller: (w) => w.seller.apiKey,
    url: (w) => `/v1/certificates/${w.sellerPiece}/recourse`,
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [
      { what: "a guarantor chosen by the client", body: { guarantor: "0x12" }, expect: { field: "body" } },
    ],
  },
  "post /v1/certificates/:id/recourse-claims": {
    caller: (w) => w.seller.apiKey,
    url: (w) => `/v1/certificates/${w.sellerPiece}/recourse-claims`,
    bases: [() => ({ kind: "default" })],
    shape: { fields: { kind: { kind: "enum", values: ["dilution", "default"] } } },
    explicit: () => [
      { what: "no kind", body: {}, expect: { field: "body.kind" } },
      { what: "an amount chosen by the client", body: { kind: "default", amount: "1" }, expect: { field: "body" } },
    ],
  },
  "post /v1/recourse-claims/:id/pay": {
    caller: (w) => w.seller.apiKey,
    url: () => "/v1/recourse-claims/1/pay",
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [{ what: "an amount chosen by the client", body: { amount: "1" }, expect: { field: "body" } }],
  },
  "post /v1/recourse-claims/:id/escalate": {
    caller: (w) => w.seller.apiKey,
    url: () => "/v1/recourse-claims/1/escalate",
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [
      { what: "a guarantor chosen by the client", body: { guarantor: "0x12" }, expect: { field: "body" } },
    ],
  },
  "post /v1/certificates/:id/split": {
    caller: (w) => w.seller.apiKey,
    url: (w) => `/v1/certificates/${w.sellerPiece}/split`,
    bases: [
      (w) => ({
        parts: [
          { toPartyId: w.tier2.id, amount: "20000000" },
          { toPartyId: w.seller.id, amount: "10000000" },
        ],
      }),
    ],
    shape: {
      fields: {
        parts: { kind: "array", min: 1, max: 32 },
        "parts.*.toPartyId": { kind: "partyRef", min: 1, max: 64 },
        "parts.*.amount": { kind: "amount", positive: true },
      },
    },
    explicit: (w) => [
      {
        what: "parts short of the face value",
        body: { parts: [{ toPartyId: w.tier2.id, amount: "29999999" }] },
        expect: { status: 422 },
      },
      {
        what: "parts above the face value",
        body: { parts: [{ toPartyId: w.tier2.id, amount: "30000001" }] },
        expect: { status: 422 },
      },
      {
        what: "33 parts",
        body: { parts: Array.from({ length: 33 }, () => ({ toPartyId: w.tier2.id, amount: "1" })) },
        expect: { field: "body.parts" },
      },
      {
        what: "a part to an unknown party",
        body: { parts: [{ toPartyId: "pty_nobody", amount: "30000000" }] },
        expect: {},
      },
    ],
  },
  "post /v1/certificates/:id/transfer": {
    caller: (w) => w.seller.apiKey,
    url: (w) => `/v1/certificates/${w.sellerPiece}/transfer`,
    bases: [(w) => ({ toPartyId: w.tier2.id })],
    shape: { fields: { toPartyId: { kind: "partyRef", min: 1, max: 64 } } },
    explicit: () => [
      {
        what: "a holder set by the client",
        body: { holder: "0x0000000000000000000000000000000000000001" },
        expect: { field: "body" },
      },
    ],
  },
  "post /v1/financing-requests": {
    caller: (w) => w.seller.apiKey,
    url: () => "/v1/financing-requests",
    bases: [
      (w) => ({ certificateId: w.sellerPiece, kind: "discount", price: "29000000" }),
      (w) => ({ certificateId: w.sellerPiece, kind: "pledge", price: "20000000", repayAmount: "25000000" }),
    ],
    shape: {
      fields: {
        certificateId: { kind: "decimalId" },
        kind: { kind: "enum", values: ["discount", "pledge"] },
        price: { kind: "amount", positive: true },
        repayAmount: { kind: "amount", positive: false },
      },
      optional: ["repayAmount"],
    },
    explicit: (w) => [
      {
        what: "a price above the face value",
        body: { certificateId: w.sellerPiece, kind: "discount", price: "30000001" },
        expect: { status: 422, code: "FINANCING_TERMS_INVALID" },
      },
      {
        what: "a repay amount on a discount",
        body: { certificateId: w.sellerPiece, kind: "discount", price: "1", repayAmount: "2" },
        expect: { status: 422, code: "FINANCING_TERMS_INVALID" },
      },
      {
        what: "a pledge repaying less than its price",
        body: { certificateId: w.sellerPiece, kind: "pledge", price: "2", repayAmount: "1" },
        expect: { status: 422, code: "FINANCING_TERMS_INVALID" },
      },
      {
        what: "a pledge repaying above face",
        body: { certificateId: w.sellerPiece, kind: "pledge", price: "2", repayAmount: "30000001" },
        expect: { status: 422, code: "FINANCING_TERMS_INVALID" },
      },
      {
        what: "a locked certificate",
        body: { certificateId: w.lockedPiece, kind: "discount", price: "1" },
        expect: { status: 409, code: "CERTIFICATE_LOCKED" },
      },
      {
        what: "the retired root",
        body: { certificateId: w.rootCertificate, kind: "discount", price: "1" },
        expect: { status: 409, code: "CERTIFICATE_RETIRED" },
      },
      {
        what: "a status set by the client",
        body: { certificateId: w.sellerPiece, kind: "discount", price: "1", status: "sold" },
        expect: { field: "body" },
      },
    ],
  },
  "post /v1/webhooks/endpoints": {
    caller: (w) => w.seller.apiKey,
    url: () => "/v1/webhooks/endpoints",
    bases: [() => ({ url: "http://127.0.0.1:9/hook" })],
    shape: { fields: {} },
    explicit: () => [
      { what: "an ftp URL", body: { url: "ftp://127.0.0.1/hook" }, expect: { field: "body.url" } },
      { what: "not a URL", body: { url: "hook" }, expect: { field: "body.url" } },
      {
        what: "an unknown event type",
        body: { url: "http://127.0.0.1:9/hook", eventTypes: ["receivable.stolen"] },
        expect: { field: "body.eventTypes.0" },
      },
    ],
  },
  "post /v1/webhooks/endpoints/:id/deliveries/:deliveryId/replay": {
    caller: (w) => w.seller.apiKey,
    url: () => "/v1/webhooks/endpoints/whe_none/deliveries/1/replay",
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: "NOT_FOUND",
    explicit: () => [{ what: "a state", body: { state: "pending" }, expect: { field: "body" } }],
  },
  "post /v1/financing-requests/:id/cancel": {
    caller: (w) => w.seller.apiKey,
    url: (w) => `/v1/financing-requests/${w.openRequest}/cancel`,
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [
      { what: "a status", body: { status: "cancelled" }, expect: { field: "body" } },
      { what: "an empty list", body: [], expect: { field: "body" } },
    ],
  },
  "post /v1/financing-requests/:id/fund": {
    caller: (w) => w.financier.apiKey,
    url: (w) => `/v1/financing-requests/${w.openRequest}/fund`,
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [{ what: "other terms", body: { price: "1", repayAmount: "0" }, expect: { field: "body" } }],
  },
  "post /v1/financing-requests/:id/repay-pledge": {
    caller: (w) => w.seller.apiKey,
    url: (w) => `/v1/financing-requests/${w.openRequest}/repay-pledge`,
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [
      { what: "an amount chosen by the client", body: { amount: "1" }, expect: { field: "body" } },
      { what: "an empty list", body: [], expect: { field: "body" } },
    ],
  },
  "post /v1/financing-requests/:id/foreclose": {
    caller: (w) => w.financier.apiKey,
    url: (w) => `/v1/financing-requests/${w.openRequest}/foreclose`,
    bases: [() => ({})],
    shape: { fields: {} },
    emptyObjectCode: undefined,
    explicit: () => [{ what: "a status set by the client", body: { status: "foreclosed" }, expect: { field: "body" } }],
  },
  "post /v1/receivables/:id/repayments": {
    caller: (w) => w.debtor.apiKey,
    url: (w) => `/v1/receivables/${w.activeReceivable}/repayments`,
    bases: [() => ({ amount: "1000000" }), () => ({ early: true, maxAmount: "50000000" })],
    shape: {
      fields: {
        amount: { kind: "amount", positive: true },
        early: { kind: "true" },
        maxAmount: { kind: "amount", positive: true },
      },
      optional: ["maxAmount"],
    },
    explicit: () => [
      {
        what: "more than is outstanding",
        body: { amount: "100000001" },
        expect: { status: 409, code: "REPAYMENT_EXCEEDS_OUTSTANDING" },
      },
      { what: "early, with no early-payment rate", body: { early: true }, expect: {} },
      { what: "both shapes at once", body: { amount: "1", early: true }, expect: { field: "body" } },
      {
        what: "a repaid amount set by the client",
        body: { amount: "1", repaidAmount: "100000000" },
        expect: { field: "body" },
      },
    ],
  },
  // Aimed at a party that does not exist: a body the schema accepts is then refused (404)
  // and nothing is suspended, reactivated or minted.
  ...Object.fromEntries(
    (["suspend", "reactivate"] as const).map((action) => [
      `post /v1/parties/:id/${action}`,
      {
        caller: (w: World) => w.operatorKey,
        url: () => `/v1/parties/pty_fuzz_nobody/${action}`,
        bases: [() => ({})],
        shape: { fields: {} },
        emptyObjectCode: "NOT_FOUND",
        explicit: () => [
          { what: "a status set by the client", body: { status: "active" }, expect: { field: "body" } },
          { what: "an empty list", body: [], expect: { field: "body" } },
        ],
      } satisfies WriteCase,
    ]),
  ),
  "post /v1/parties/:id/test-funds": {
    caller: (w) => w.operatorKey,
    url: () => "/v1/parties/pty_fuzz_nobody/test-funds",
    bases: [() => ({ amount: "1000000" })],
    shape: { fields: { amount: { kind: "amount", positive: true } } },
    explicit: () => [
      { what: "a zero amount", body: { amount: "0" }, expect: { field: "body.amount" } },
      { what: "an amount as a float", body: { amount: 1.5 }, expect: { field: "body.amount" } },
      { what: "another recipient", body: { amount: "1", to: "0x" + "1".repeat(40) }, expect: { field: "body" } },
    ],
  },
  // The seller has no held payments: a body the schema accepts is refused with NOTHING_TO_WITHDRAW.
  "post /v1/me/held-payments/withdraw": {
    caller: (w) => w.seller.apiKey,
    url: () => "/v1/me/held-payments/withdraw",
    bases: [(w) => ({ to: w.tier2.address })],
    shape: { fields: { to: { kind: "address" } }, optional: ["to"] },
    emptyObjectCode: "NOTHING_TO_WITHDRAW",
    explicit: () => [
      { what: "an amount chosen by the client", body: { amount: "1" }, expect: { field: "body" } },
      { what: "a short address", body: { to: "0x1234" }, expect: { field: "body.to" } },
    ],
  },
  "post /v1/parties/:id/early-payment-rate": {
    caller: (w) => w.operatorKey,
    url: (w) => `/v1/parties/${w.debtor.id}/early-payment-rate`,
    bases: [() => ({ rateBps: 250 })],
    shape: { fields: { rateBps: { kind: "int", min: 0, max: 10_000 } } },
    explicit: () => [
      { what: "10,001 bps", body: { rateBps: 10_001 }, expect: { field: "body.rateBps" } },
      { what: "a rate as a percentage string", body: { rateBps: "2.5%" }, expect: { field: "body.rateBps" } },
    ],
  },
  "post /v1/operator/chain/advance-time": {
    caller: (w) => w.operatorKey,
    url: () => "/v1/operator/chain/advance-time",
    bases: [() => ({ seconds: 1 })],
    shape: { fields: { seconds: { kind: "int", min: 1, max: 10 * 365 * 24 * 3600 } } },
    explicit: () => [
      { what: "no time at all", body: { seconds: 0 }, expect: { field: "body.seconds" } },
      { what: "a duration as a string", body: { seconds: "3 days" }, expect: { field: "body.seconds" } },
    ],
  },
  "post /v1/risk/industries/:industry": {
    caller: (w) => w.operatorKey,
    url: () => "/v1/risk/industries/textiles",
    bases: [() => ({ index: 400, threshold: 700 })],
    shape: { fields: { index: { kind: "int", min: 0, max: 1_000 }, threshold: { kind: "int", min: 0, max: 1_000 } } },
    explicit: () => [
      { what: "an index of 1,001", body: { index: 1_001, threshold: 0 }, expect: { field: "body.index" } },
    ],
  },
  "post /v1/risk/limits/:partyId": {
    caller: (w) => w.operatorKey,
    url: (w) => `/v1/risk/limits/${w.debtor.id}`,
    bases: [() => ({ kind: "debtor", limit: "500000000" })],
    shape: {
      fields: {
        kind: { kind: "enum", values: ["debtor", "supplier"] },
        limit: { kind: "amount", positive: false, anyWellFormed: true },
      },
    },
    explicit: () => [
      { what: "a negative limit", body: { kind: "supplier", limit: "-1" }, expect: { field: "body.limit" } },
    ],
  },
  "post /v1/risk/stress": {
    caller: (w) => w.operatorKey,
    url: () => "/v1/risk/stress",
    bases: [(w) => ({ defaulted: [w.debtor.id], recoveryRate: 0.4 })],
    shape: {
      fields: {
        defaulted: { kind: "array", min: 1, max: 1_000 },
        "defaulted.*": { kind: "partyRef", min: 1, max: 64 },
        recoveryRate: { kind: "number", min: 0, max: 1 },
      },
    },
    explicit: () => [
      {
        what: "a recovery rate of 110 %",
        body: { defaulted: ["pty_x"], recoveryRate: 1.1 },
        expect: { field: "body.recoveryRate" },
      },
    ],
  },
};

let registryIds = new Map<string, string>();
const registryIdOf = (party: TestParty) => registryIds.get(party.id)!;

describe("API fuzz: bad input on every write endpoint", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  const w = {} as World;
  let initial: StateSnapshot;
  const tally = new Map<string, number>();
  const count = (route: string, n = 1) => tally.set(route, (tally.get(route) ?? 0) + n);

  const send = (
    route: string,
    body: string | Buffer | undefined,
    headers: Record<string, string> = { "content-type": "application/json" },
    apiKey?: string | null,
  ) => {
    const spec = CASES[route]!;
    count(route);
    return rawRequest(t.baseUrl, spec.url(w), {
      body,
      headers,
      apiKey: apiKey === null ? undefined : (apiKey ?? spec.caller(w)),
    });
  };
  const sendJson = (route: string, body: unknown, headers?: Record<string, string>) =>
    send(route, JSON.stringify(body), { "content-type": "application/json", ...headers });

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    w.operatorKey = t.operatorKey;
    w.seller = await createTestParty(operator, ["supplier"]);
    w.debtor = await createTestParty(operator, ["debtor"]);
    w.tier2 = await createTestParty(operator, ["supplier"]);
    w.financier = await createTestParty(operator, ["financier"]);
    w.nonCustodialDebtor = await createTestParty(operator, ["debtor"], { address: Wallet.createRandom().address });
    const rows = await t.service.ctx.db.selectFrom("parties").select(["id", "registry_id"]).execute();
    registryIds = new Map(rows.map((r) => [r.id, r.registry_id]));
    const seller = api.as(w.seller.apiKey);

    const submitted = await seller.post("/v1/receivables", validSubmission(w.debtor.id));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    w.activeReceivable = submitted.body.id;
    const confirmed = await api.as(w.debtor.apiKey).post(`/v1/receivables/${w.activeReceivable}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    w.rootCertificate = confirmed.body.certificateId;
    const split = await seller.post(`/v1/certificates/${w.rootCertificate}/split`, {
      parts: [
        { toPartyId: w.tier2.id, amount: "60000000" },
        { toPartyId: w.seller.id, amount: "30000000" },
        { toPartyId: w.seller.id, amount: "10000000" },
      ],
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    const piece = (face: string) =>
      split.body.children.find((c: { faceValue: string }) => c.faceValue === face).id as string;
    w.sellerPiece = piece("30000000");
    w.lockedPiece = piece("10000000");
    const opened = await seller.post("/v1/financing-requests", {
      certificateId: w.lockedPiece,
      kind: "discount",
      price: "9000000",
    });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    w.openRequest = opened.body.id;

    const pending = await seller.post("/v1/receivables", validSubmission(w.nonCustodialDebtor.id));
    expect(pending.status, JSON.stringify(pending.body)).to.equal(201);
    w.pendingReceivable = pending.body.id;
    const typed = await api.as(w.nonCustodialDebtor.apiKey).get(`/v1/receivables/${w.pendingReceivable}/confirmation`);
    expect(typed.status, JSON.stringify(typed.body)).to.equal(200);
    const signature = await Wallet.createRandom().signTypedData(
      typed.body.domain,
      typed.body.types,
      typed.body.message,
    );
    w.wrongKeyConfirmation = {
      nonce: typed.body.message.nonce,
      deadline: Number(typed.body.message.deadline),
      signature,
    };

    const related = await createTestParty(operator, ["debtor"], { relatedPartyIds: [w.seller.id] });
    const held = await seller.post("/v1/receivables", validSubmission(related.id));
    expect(held.body.status, JSON.stringify(held.body)).to.equal("held_for_review");
    w.heldReceivable = held.body.id;

    initial = await stateOf(t);
  });
  after(async function () {
    const summary = [...tally.entries()].map(([route, n]) => `${route}: ${n}`).join("\n      ");
    console.log(`      requests per write endpoint (seed ${SEED}):\n      ${summary}`);
    await t?.close();
  });

  it("has a case for every write endpoint the app serves, and no other", function () {
    const served = allRoutes()
      .filter((route) => route.method === "post")
      .map((route) => `${route.method} ${route.path}`);
    expect(served.length).to.be.greaterThanOrEqual(14);
    expect(Object.keys(CASES).sort()).to.deep.equal([...served].sort());
  });

  it("starts every mutation from a body the route's schema accepts", function () {
    for (const route of allRoutes().filter((r) => r.method === "post")) {
      const spec = CASES[`${route.method} ${route.path}`]!;
      for (const base of spec.bases) {
        const body = base(w);
        if (route.body)
          expect(route.body.safeParse(body).success, `${route.path}: ${JSON.stringify(body)}`).to.equal(true);
        else expect(body).to.deep.equal({});
      }
    }
  });

  it("takes names in any script: the refusals are of invisible characters, not of languages", function () {
    const createParty = allRoutes().find((r) => r.method === "post" && r.path === "/v1/parties")!.body!;
    for (const name of [
      "株式会社テスト",
      "Société Générale",
      "شركة الاختبار",
      "Müller & Söhne GmbH",
      "ООО Ромашка",
      "टाटा स्टील",
      "Ελληνικά Α.Ε.",
      "🚢 Shipping Co",
      "O'Brien-Smith Ltd.",
    ]) {
      const parsed = createParty.safeParse({ name, registryId: "REG-0001", industry: name, roles: ["supplier"] });
      expect(parsed.success, `${name}: ${JSON.stringify(parsed.error?.issues)}`).to.equal(true);
    }
  });

  for (const [route, spec] of Object.entries(CASES)) {
    const [, path] = route.split(" ");
    describe(`POST ${path}`, function () {
      let caseBefore: StateSnapshot;
      before(async function () {
        caseBefore = await stateOf(t);
      });

      it(`refuses random JSON (${RUNS.randomJson} runs)`, async function () {
        const bodiless = spec.bases.length === 1 && JSON.stringify(spec.bases[0]!(w)) === "{}";
        const codes = [VALIDATION, "MALFORMED_JSON", ...(spec.emptyObjectCode ? [spec.emptyObjectCode] : [])];
        await fc.assert(
          fc.asyncProperty(
            randomJson().filter((body) => !(bodiless && JSON.stringify(body) === "{}")),
            async (body) => {
              const response = await sendJson(route, body);
              expectRefusal(response, `random JSON ${JSON.stringify(body)}`, { codes });
            },
          ),
          { numRuns: RUNS.randomJson, seed: SEED },
        );
      });

      it(`refuses mutations of a valid body (${RUNS.mutations} runs): 400 naming the field, or the state's refusal`, async function () {
        let bySchema = 0;
        await fc.assert(
          fc.asyncProperty(fc.oneof(...spec.bases.map((base) => mutationOf(base(w), spec.shape))), async (mutation) => {
            const response = await sendJson(route, mutation.body);
            const what = `${mutation.what} at ${mutation.path}: ${JSON.stringify(mutation.body).slice(0, 300)}`;
            if (mutation.schema) {
              bySchema++;
              expectRefusal(response, what, { status: 400, field: mutation.path });
            } else {
              expectRefusal(response, what);
              expect(response.status, what).not.to.be.oneOf([401, 403]);
            }
          }),
          { numRuns: RUNS.mutations, seed: SEED },
        );
        expect(bySchema, "mutations the schema must refuse").to.be.greaterThan(RUNS.mutations / 2);
      });

      it(`refuses raw bodies that are not JSON, or not JSON it reads (${RUNS.rawBodies} runs)`, async function () {
        const base = spec.bases[0]!(w);
        const json = JSON.stringify(
          JSON.stringify(base) === "{}" ? { status: "done", reason: "client says so" } : base,
        );
        await fc.assert(
          fc.asyncProperty(rawMalformed(json), async (raw) => {
            const response = await send(route, raw.body, raw.headers);
            expectRefusal(response, raw.what, { status: raw.status, code: raw.code });
          }),
          { numRuns: RUNS.rawBodies, seed: SEED },
        );
      });

      it("refuses duplicate keys when the last one is bad, a BOM before a bad body, and bytes that are not UTF-8", async function () {
        const base = JSON.stringify(spec.bases[0]!(w));
        const open = base.slice(0, -1) + (base === "{}" ? "" : ",");
        const cases: Array<[string, string | Buffer]> = [
          ["a duplicate status", `${open}"status":"active","status":"repaid"}`],
          ["a duplicate key whose last value is wrong", `${open}"x":1,"x":{"nested":[1,2,3]}}`],
          ["a BOM before a bad body", `\ufeff${open}"status":"active"}`],
          [
            "bytes that are not UTF-8",
            Buffer.concat([
              Buffer.from(`${open}"status":"`),
              Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x80]),
              Buffer.from('"}'),
            ]),
          ],
        ];
        for (const [what, body] of cases) {
          const response = await send(route, body);
          expectRefusal(response, what, { status: 400, code: VALIDATION });
        }
      });

      it("refuses a body over 1 MB with 413 PAYLOAD_TOO_LARGE, with or without a key, with or without a length", async function () {
        const big = JSON.stringify({ ...(spec.bases[0]!(w) as object), padding: "x".repeat(1024 * 1024) });
        for (const [apiKey, chunked] of [
          [undefined, false],
          [null, false],
          [undefined, true],
        ] as const) {
          count(route);
          const response = await rawRequest(t.baseUrl, spec.url(w), {
            body: big,
            headers: { "content-type": "application/json" },
            apiKey: apiKey === null ? undefined : spec.caller(w),
            chunked,
          });
          expectRefusal(
            response,
            `1 MB + ${big.length - 1024 * 1024} bytes (key: ${apiKey !== null}, chunked: ${chunked})`,
            { status: 413, code: "PAYLOAD_TOO_LARGE" },
          );
        }
      });

      if (spec.explicit) {
        it("refuses the hand-picked bodies with their own codes", async function () {
          for (const example of spec.explicit!(w)) {
            const response = await sendJson(route, example.body);
            expectRefusal(response, example.what, example.expect);
          }
        });
      }

      it("has changed nothing: database rows, chain events, transactions, blocks and contract logs are as before", async function () {
        expectSameState(await stateOf(t), caseBefore);
      });
    });
  }

  describe("when a read gets a malformed id or query", function () {
    const pathParameter = fc.oneof(
      fc.string({ unit: "binary", minLength: 1, maxLength: 80 }),
      fc.stringMatching(/^[0-9]{1,120}$/),
      fc.stringMatching(/^0x[0-9a-fA-F]{0,130}$/),
      fc.constantFrom(
        "0",
        "-1",
        "1e3",
        "1.5",
        "..",
        "%00",
        "null",
        "undefined",
        "__proto__",
        "constructor",
        " ",
        "\u0000",
        "\u202e",
        "' OR 1=1 --",
        "x".repeat(2_000),
      ),
    );
    /** encodeURIComponent throws on a lone surrogate: replace those first, as a client's encoder would. */
    const encode = (text: string) =>
      encodeURIComponent(
        text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"),
      );
    const queryValue = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.constantFrom("", "-1", "1e9", "999999999999999999999", "open", "json", "text"),
    );

    it(`answers every GET route with a 2xx or a 4xx, never a 5xx (${RUNS.mutations} runs)`, async function () {
      const reads = allRoutes().filter((route) => route.method === "get" && route.auth);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...reads),
          fc.array(pathParameter, { minLength: 3, maxLength: 3 }),
          fc.array(
            fc.tuple(
              fc.oneof(fc.constantFrom("status", "format", "top", "kind", "limit"), fc.string({ maxLength: 8 })),
              queryValue,
            ),
            { maxLength: 4 },
          ),
          async (route, values, query) => {
            let i = 0;
            const path = route.path.replace(/:([A-Za-z]+)/g, () => encode(values[i++]!));
            const search = query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
            const url = `${path}${search ? `?${search}` : ""}`;
            const response = await rawRequest(t.baseUrl, url, { method: "GET", apiKey: w.operatorKey });
            if (response.status >= 400) expectRefusal(response, `GET ${url}`);
            else expect(response.status, `GET ${url}`).to.be.within(200, 299);
          },
        ),
        { numRuns: RUNS.mutations, seed: SEED },
      );
    });
  });

  describe("when a refused request carries an Idempotency-Key", function () {
    it(`stores the refusal once per key and answers a retry with it (${RUNS.idempotent} runs)`, async function () {
      const route = "post /v1/receivables";
      const spec = CASES[route]!;
      const rowsBefore = (await stateOf(t)).idempotencyRows;
      let keyed = 0;
      await fc.assert(
        fc.asyncProperty(mutationOf(spec.bases[0]!(w), spec.shape), fc.uuid(), async (mutation, uuid) => {
          const key = `fuzz-${uuid}`;
          const first = await sendJson(route, mutation.body, { "idempotency-key": key });
          expectRefusal(first, mutation.what);
          const again = await sendJson(route, mutation.body, { "idempotency-key": key });
          expectRefusal(again, `${mutation.what} (retried)`, { status: first.status, code: first.body.error.code });
          expect(again.headers["idempotent-replayed"]).to.equal("true");
          const row = await t.service.ctx.db
            .selectFrom("idempotency")
            .selectAll()
            .where("party_id", "=", w.seller.id)
            .where("key", "=", key)
            .executeTakeFirstOrThrow();
          expect(row).to.include({ state: "done", status_code: first.status });
          keyed++;
        }),
        { numRuns: RUNS.idempotent, seed: SEED },
      );
      // One row per key, each a stored refusal: the only rows a refused request may leave.
      expect((await stateOf(t)).idempotencyRows - rowsBefore).to.equal(keyed);
    });

    it("refuses a body nested 1 MB deep with BODY_TOO_DEEP instead of overflowing the stack while hashing it", async function () {
      for (const body of [
        deeplyNested(500_000, "array"),
        deeplyNested(170_000, "object"),
        deeplyNested(MAX_BODY_DEPTH + 1, "array"),
      ]) {
        expect(body.length).to.be.lessThan(1024 * 1024);
        const response = await send("post /v1/receivables", body, {
          "content-type": "application/json",
          "idempotency-key": `deep-${body.length}`,
        });
        expectRefusal(response, `${body.length} bytes of nesting`, { status: 400, code: "BODY_TOO_DEEP" });
        expect(response.body.error.details).to.deep.equal({ limit: MAX_BODY_DEPTH });
      }
      const justDeepEnough = "[".repeat(MAX_BODY_DEPTH) + "]".repeat(MAX_BODY_DEPTH);
      const response = await send("post /v1/receivables", justDeepEnough, {
        "content-type": "application/json",
        "idempotency-key": "deep-limit",
      });
      expectRefusal(response, "nesting at the limit", { status: 400, code: VALIDATION });
    });
  });

  describe("after every bad request", function () {
    it("has changed nothing but the stored refusals of keyed requests", async function () {
      const now = await stateOf(t);
      expect(now.idempotencyRows).to.be.greaterThan(initial.idempotencyRows);
      expectSameState(now, initial, ["idempotencyRows"]);
      const rows = await t.service.ctx.db.selectFrom("idempotency").select(["state", "status_code"]).execute();
      for (const row of rows) expect(row.status_code, JSON.stringify(row)).to.be.within(400, 499);
    });

    it("left every target where it was: the receivables waiting, the request open, the certificates with their holders", async function () {
      const { db, chain } = t.service.ctx;
      const statusOf = async (id: string) =>
        (await db.selectFrom("receivables").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status;
      expect(await statusOf(w.pendingReceivable)).to.equal("awaiting_confirmation");
      expect(await statusOf(w.heldReceivable)).to.equal("held_for_review");
      expect(Number(await chain.contracts.registry.getFunction("statusOf")(w.pendingReceivable))).to.equal(0);
      expect((await chain.contracts.financing.getFunction("requestOf")(w.openRequest)).status).to.equal(1n); // Open
      expect(await chain.contracts.certificates.getFunction("ownerOf")(w.sellerPiece)).to.equal(w.seller.address);
      expect(await chain.contracts.registry.getFunction("earlyPaymentRateOf")(w.debtor.address)).to.equal(0n);
      expect((await db.selectFrom("parties").select("id").execute()).length).to.equal(initial.parties.length);
    });

    it("still serves good requests: the routes were refusing the input, not broken", async function () {
      const response = await api
        .as(w.seller.apiKey)
        .post(`/v1/certificates/${w.sellerPiece}/transfer`, { toPartyId: w.tier2.id });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.certificate.holderPartyId).to.equal(w.tier2.id);
    });
  });

  describe("when an invoice has 1,000 lines, the most allowed", function () {
    it("verifies it cleanly: 201, every rule passed", async function () {
      const response = await api.as(w.seller.apiKey).post("/v1/receivables", manyLines(w.debtor.id, 1_000));
      expect(response.status, JSON.stringify(response.body).slice(0, 500)).to.equal(201);
      expect(response.body.status).to.equal("awaiting_confirmation");
      expect(response.body.verification.outcome).to.equal("passed");
      expect(response.body.faceValue).to.equal("1000000000");
    });
  });
});
