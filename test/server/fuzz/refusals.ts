// What every refusal must look like, a raw HTTP client that sends exactly the bytes and
// headers it is given, and a snapshot of everything a write could change: the database's
// rows and the chain's blocks and contract logs.
import { createHash } from "node:crypto";
import http from "node:http";
import { expect } from "chai";
import { sql } from "kysely";
import type { TestService } from "../harness.js";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
}

export interface RawRequest {
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  apiKey?: string;
  /** Send the body with Transfer-Encoding: chunked, without a Content-Length. */
  chunked?: boolean;
}

/** One HTTP request with no defaults added: no content-type unless given, the body's bytes as they are. */
export function rawRequest(baseUrl: string, path: string, request: RawRequest = {}): Promise<RawResponse> {
  const url = new URL(path, baseUrl);
  const body =
    request.body === undefined
      ? undefined
      : Buffer.isBuffer(request.body)
        ? request.body
        : Buffer.from(request.body, "utf8");
  const headers: Record<string, string> = { ...request.headers };
  if (request.apiKey) headers.authorization = `Bearer ${request.apiKey}`;
  if (body !== undefined && !request.chunked) headers["content-length"] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: request.method ?? "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          /* keep the text */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
      });
      res.on("error", reject);
    });
    // The server may answer (413, 415) and close before it has read a large body.
    req.on("error", (error: NodeJS.ErrnoException) =>
      error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error),
    );
    if (body !== undefined) {
      if (request.chunked) {
        for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
      } else req.write(body);
    }
    req.end();
  });
}

export const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/** Stack frames, source paths, internal error names: none may reach a client. */
const LEAKS: Array<[RegExp, string]> = [
  [/\bat [\w.<>]+ \(/, "a stack frame"],
  [/\bat .+:\d+:\d+/, "a stack frame"],
  [/\.(ts|js|mjs|cjs):\d+/, "a source position"],
  [/node_modules/, "a dependency path"],
  [/\/(work|home|tmp|usr)\//, "a file path"],
  [/"stack"/, "a stack"],
  [/\b(SqliteError|TypeError|ReferenceError|RangeError|SyntaxError|AssertionError)\b/, "an internal error name"],
];

export interface RefusalExpectation {
  status?: number;
  code?: string;
  /** Codes the answer may carry (when `code` is not fixed). */
  codes?: string[];
  /** The field the validation error must name, or a parent of it ("body.invoice.lines.0.sku"). */
  field?: string;
}

/**
 * A refusal as the API promises it: a 4xx (never 2xx, never 5xx) in the error shape with an
 * UPPER_SNAKE code, helmet's headers, a request id, and nothing internal in it.
 */
export function expectRefusal(response: RawResponse, what: string, expected: RefusalExpectation = {}): void {
  const context = `${what} -> ${response.status} ${response.text.slice(0, 400)}`;
  expect(response.status, context).to.be.within(400, 499);
  if (expected.status !== undefined) expect(response.status, context).to.equal(expected.status);
  expect(response.headers["content-type"], context).to.match(/^application\/json/);
  expect(response.body, context).to.be.an("object");
  expect(Object.keys(response.body), context).to.deep.equal(["error"]);
  const error = response.body.error;
  expect(Object.keys(error).sort(), context).to.deep.equal(["code", "details", "message"]);
  expect(error.code, context).to.be.a("string").and.match(UPPER_SNAKE);
  expect(error.message, context).to.be.a("string").and.not.equal("");
  if (expected.code !== undefined) expect(error.code, context).to.equal(expected.code);
  if (expected.codes !== undefined) expect(expected.codes, context).to.include(error.code);
  if (expected.field !== undefined) {
    expect(error.code, context).to.equal("VALIDATION_FAILED");
    const paths: string[] = error.details.fields.map((f: { path: string }) => f.path);
    const named = paths.some((p) => expected.field === p || expected.field!.startsWith(`${p}.`));
    expect(
      named,
      `${context}\nexpected a problem at ${expected.field} or a parent of it; got ${paths.join(", ")}`,
    ).to.equal(true);
  }
  for (const [pattern, leak] of LEAKS) expect(response.text, `${context}: leaks ${leak}`).not.to.match(pattern);
  expect(response.headers["x-content-type-options"], context).to.equal("nosniff");
  expect(response.headers["content-security-policy"], context).to.include("default-src 'self'");
  expect(response.headers["x-frame-options"], context).to.equal("SAMEORIGIN");
  expect(response.headers["x-request-id"], context).to.be.a("string").and.not.equal("");
}

export type StateSnapshot = Awaited<ReturnType<typeof stateOf>>;

/**
 * Everything a write could change. Idempotency rows are counted: requests without an
 * Idempotency-Key write none, so the count must not move. A receivable's `confirmation`
 * and `updated_at` are left out: a confirmation the chain refuses records the attempt there
 * and puts the status back (the status is compared).
 */
export async function stateOf(t: TestService) {
  const { db, chain, indexer } = t.service.ctx;
  // The index follows the chain on a timer: bring it up to the chain's head first.
  await indexer.sync();
  const count = async (table: "chain_events" | "tx_journal" | "idempotency"): Promise<number> =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const addresses = Object.values(chain.deployment.addresses) as string[];
  return {
    parties: await db
      .selectFrom("parties")
      .select([
        "id",
        "name",
        "registry_id",
        "industry",
        "roles",
        "address",
        "status",
        "related_party_ids",
        "api_key_hash",
      ])
      .orderBy("id")
      .execute(),
    receivables: await db
      .selectFrom("receivables")
      .select([
        "id",
        "seller_id",
        "debtor_id",
        "invoice_number",
        "po_number",
        "face_value",
        "net_value",
        "due_date",
        "document_hash",
        "documents",
        "verification",
        "status",
      ])
      .orderBy("id")
      .execute(),
    onchainReceivables: await db.selectFrom("onchain_receivables").selectAll().orderBy("id").execute(),
    onchainCertificates: await db.selectFrom("onchain_certificates").selectAll().orderBy("id").execute(),
    onchainFinancingRequests: await db.selectFrom("onchain_financing_requests").selectAll().orderBy("id").execute(),
    onchainParties: await db.selectFrom("onchain_parties").selectAll().orderBy("address").execute(),
    chainEvents: await count("chain_events"),
    transactions: await count("tx_journal"),
    idempotencyRows: await count("idempotency"),
    block: await chain.provider.getBlockNumber(),
    contractLogs: (await chain.provider.getLogs({ address: addresses, fromBlock: 0, toBlock: "latest" })).length,
    otherTables: await otherTables(t),
  };
}

const LISTED = [
  "parties",
  "receivables",
  "onchain_receivables",
  "onchain_certificates",
  "onchain_financing_requests",
  "onchain_parties",
  "chain_events",
  "tx_journal",
  "idempotency",
];
/**
 * Not changed by requests: `meta` holds the indexer's cursor, which follows the chain; the
 * risk engine's scores, their history, its alerts, repayment times and cursor are recomputed
 * in the background (every second and on reads) from the index and the clock. The risk
 * engine's inputs — industry_risk and credit_limits, set by the operator — are compared.
 * rate_limits counts requests (refused ones too) for the replicas' shared rate limiter.
 */
const NOT_STATE = [
  // The webhook outbox gains a row for each chain event the indexer reads, and the dispatcher
  // fans events out and delivers them, in the background; a use case's own outbox row is
  // written in the transaction of its receivables row, which is compared.
  "webhook_outbox",
  "webhook_deliveries",
  "webhook_attempts",
  "meta",
  "risk_scores",
  "risk_score_history",
  "risk_alerts",
  "risk_state",
  "risk_repayment_times",
  "rate_limits",
  // Which receivables' history columns changed, for the risk engine's kept histories: a
  // refused confirmation that reserved its limit (confirming) and gave it back changed the
  // receivable twice, and a reader in between saw it confirming. The receivables are compared.
  "party_history_changes",
];

/** Every other table (those added later too, such as the risk engine's): its row count and a digest of its rows. */
async function otherTables(t: TestService): Promise<Record<string, { rows: number; digest: string }>> {
  const { db } = t.service.ctx;
  // Kysely's introspection lists the tables on SQLite and PostgreSQL alike; rows are digested
  // in a sorted order of their own, since only SQLite has a rowid.
  const tables = (await db.introspection.getTables()).map((table) => table.name).sort();
  const out: Record<string, { rows: number; digest: string }> = {};
  for (const name of tables) {
    if (LISTED.includes(name) || NOT_STATE.includes(name) || name.startsWith("kysely_")) continue;
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    const sorted = rows.rows.map((row) => JSON.stringify(row)).sort();
    out[name] = {
      rows: rows.rows.length,
      digest: createHash("sha256").update(JSON.stringify(sorted)).digest("hex").slice(0, 16),
    };
  }
  return out;
}

/** Compares two snapshots part by part, so a failure names what changed. */
export function expectSameState(
  now: StateSnapshot,
  before: StateSnapshot,
  ignore: Array<keyof StateSnapshot> = [],
): void {
  for (const key of Object.keys(before) as Array<keyof StateSnapshot>) {
    if (ignore.includes(key)) continue;
    expect(now[key], `${key} changed`).to.deep.equal(before[key]);
  }
}
