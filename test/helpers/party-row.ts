// Rows for tests that write the store directly: shared with the benchmarks (scripts/lib/sample-rows.ts).
export { fundedRequestRow, partyRow, receivableRow, tradeDocuments } from "../../scripts/lib/sample-rows.js";
