// What a user waits for at a given size of the book (issue 12's growth table), measured by
// bench:growth through the HTTP API of the running service:
// - submit and confirm (`Prefer: respond-async`, the accepted answer) of receivables between
//   parties new to the book, so their verification rules and credit limits judge them as any
//   newcomer's, while every index they touch holds the whole book;
// - submit and confirm of receivables new suppliers sell to the bench's debtor, which owes
//   every receivable built: its credit limit check reads what it owes and rescores its history
//   (a core enterprise at month-end);
// - a party's exposure, read for the bench's debtor, which holds every receivable built;
// - the auditor's trace of the first receivable built (its events are the oldest in the book)
//   and of the 1,024-leaf tree;
// - `verify` of a 32 × 32 certificate tree (1,024 leaves; 32 is the tier policy's largest
//   split), built once at the first size and verified again at each size after.
// One request at a time: these are latencies, not throughput.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "../../server/api/app.js";
import type { ServiceContext } from "../../server/context.js";
import { benchDocuments, call, must, type Json } from "./bench-api.js";

const PROBES = 20;
const SUPPLIERS = 3; // at most 8 receivables a supplier (the brushing rule stops at 10 a day)
const SPLIT = 32;

export interface RequestPathFigures {
  submit: number[];
  confirm: number[];
  bookSubmit: number[];
  bookConfirm: number[];
  exposure: number[];
  traceOldest: number[];
  traceTree: number[];
  verify: number[];
  verifiedLeaves: number;
}

/** The tree verified at each size, built on the first call. */
export interface ProbeTree {
  receivableId?: string;
  leaves?: number;
}

let probeRun = 0;

export async function measureRequestPaths(
  ctx: ServiceContext,
  operatorKey: string,
  book: { debtorId: string; debtorKey: string; firstReceivableId: string },
  tree: ProbeTree,
): Promise<RequestPathFigures> {
  const bookDebtorId = book.debtorId;
  const server = await new Promise<Server>((resolve) => {
    const s = createApp(ctx).listen(0, "127.0.0.1", () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const run = ++probeRun;
    const party = async (role: string, n: number): Promise<Json> =>
      must(
        await call(base, operatorKey, "POST", "/v1/parties", {
          name: `Probe ${role} ${run}-${n}`,
          registryId: `PROBE-${role}-${run}-${n}-${Date.now()}`,
          industry: "manufacturing",
          roles: [role],
        }),
        201,
        `probe ${role}`,
      );
    const debtor = await party("debtor", 0);
    const suppliers: Json[] = [];
    for (let i = 0; i < SUPPLIERS; i++) suppliers.push(await party("supplier", i));

    const figures: RequestPathFigures = {
      submit: [],
      confirm: [],
      bookSubmit: [],
      bookConfirm: [],
      exposure: [],
      traceOldest: [],
      traceTree: [],
      verify: [],
      verifiedLeaves: 0,
    };
    /** Submits receivable `n` of `series` from `supplier` to `to`, confirmed by `to`: the two latencies. */
    const submitAndConfirm = async (series: string, supplier: Json, to: Json, n: number) => {
      let t = performance.now();
      const submitted = must(
        await call(base, supplier.apiKey, "POST", "/v1/receivables", benchDocuments(series, to.id, n)),
        201,
        `probe submission ${series} ${n}`,
      );
      const submitMs = performance.now() - t;
      t = performance.now();
      must(
        await call(base, to.apiKey, "POST", `/v1/receivables/${submitted.id}/confirm`, {}, { prefer: "respond-async" }),
        202,
        `probe confirmation ${series} ${n}`,
      );
      return [submitMs, performance.now() - t] as const;
    };
    for (let n = 0; n < PROBES; n++) {
      const [submitMs, confirmMs] = await submitAndConfirm(`P${run}`, suppliers[n % SUPPLIERS]!, debtor, n);
      figures.submit.push(submitMs);
      figures.confirm.push(confirmMs);
    }
    // The book's debtor owes far more than a default limit allows: the operator sets one that fits.
    must(
      await call(
        base,
        operatorKey,
        "POST",
        `/v1/risk/limits/${bookDebtorId}`,
        { kind: "debtor", limit: "1" + "0".repeat(20) },
        {
          "idempotency-key": `growth-limit-${run}`,
        },
      ),
      200,
      "book debtor's limit",
    );
    const bookSuppliers: Json[] = [];
    for (let i = 0; i < SUPPLIERS; i++) bookSuppliers.push(await party("supplier", 10 + i));
    for (let n = 0; n < PROBES; n++) {
      const to = { id: bookDebtorId, apiKey: book.debtorKey };
      const [submitMs, confirmMs] = await submitAndConfirm(`Q${run}`, bookSuppliers[n % SUPPLIERS]!, to, n);
      figures.bookSubmit.push(submitMs);
      figures.bookConfirm.push(confirmMs);
    }

    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      must(await call(base, operatorKey, "GET", `/v1/audit/parties/${bookDebtorId}/exposure`), 200, "exposure");
      figures.exposure.push(performance.now() - t);
    }

    // A seller of its own: at ten times the probes' value it would be a volume spike for theirs.
    if (!tree.receivableId) await buildTree(base, await party("supplier", SUPPLIERS), debtor, tree);
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const verified = must(
        await call(base, operatorKey, "GET", `/v1/audit/verify/${tree.receivableId}`),
        200,
        "verify",
      );
      figures.verify.push(performance.now() - t);
      if (verified.matches !== true)
        throw new Error(`verify found differences: ${JSON.stringify(verified).slice(0, 300)}`);
    }
    figures.verifiedLeaves = tree.leaves!;
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      must(await call(base, operatorKey, "GET", `/v1/audit/receivables/${book.firstReceivableId}/trace`), 200, "trace");
      figures.traceOldest.push(performance.now() - t);
      t = performance.now();
      must(await call(base, operatorKey, "GET", `/v1/audit/receivables/${tree.receivableId}/trace`), 200, "trace");
      figures.traceTree.push(performance.now() - t);
    }
    return figures;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A receivable of 1,100 tUSD split into 32 pieces, each split into 32 again, all kept by the seller. */
async function buildTree(base: string, seller: Json, debtor: Json, tree: ProbeTree): Promise<void> {
  const documents = benchDocuments("TREE", debtor.id, 0);
  const quantity = 11;
  const unitPrice = "100000000"; // 100 tUSD: every second-level piece stays above the 1 tUSD minimum
  documents.purchaseOrder.lines = [{ sku: "SKU-TREE", quantity, unitPrice }];
  documents.delivery.lines = [{ sku: "SKU-TREE", quantity }];
  documents.invoice.lines = [{ sku: "SKU-TREE", quantity, unitPrice }];
  documents.invoice.total = (BigInt(quantity) * BigInt(unitPrice)).toString();
  const submitted = must(await call(base, seller.apiKey, "POST", "/v1/receivables", documents), 201, "tree submission");
  const held = (submitted.verification?.results ?? []).filter((r: Json) => r.outcome !== "pass");
  if (held.length > 0) throw new Error(`the tree's receivable did not pass verification: ${JSON.stringify(held)}`);
  must(
    await call(base, debtor.apiKey, "POST", `/v1/receivables/${submitted.id}/confirm`, {}),
    200,
    "tree confirmation",
  );
  const receivable = must(await call(base, seller.apiKey, "GET", `/v1/receivables/${submitted.id}`), 200, "tree root");

  const split = async (certificateId: string, face: bigint): Promise<Json[]> => {
    const piece = face / BigInt(SPLIT);
    const parts = Array.from({ length: SPLIT }, (_, i) => ({
      toPartyId: seller.id,
      amount: (i === SPLIT - 1 ? face - piece * BigInt(SPLIT - 1) : piece).toString(),
    }));
    const reply = must(
      await call(base, seller.apiKey, "POST", `/v1/certificates/${certificateId}/split`, { parts }),
      200,
      `split of ${certificateId}`,
    );
    return reply.children as Json[];
  };
  const pieces = await split(String(receivable.rootCertificateId), BigInt(documents.invoice.total));
  for (const piece of pieces) await split(String(piece.id), BigInt(piece.faceValue));
  tree.receivableId = String(submitted.id);
  tree.leaves = SPLIT * SPLIT;
}
