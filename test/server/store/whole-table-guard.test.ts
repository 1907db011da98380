// The standard says: no whole-table scan on a request path. This file holds every test run in
// this mocha process to it: it notes each distinct statement the SQLite databases prepare and
// which code asked for it (the first frame of the stack in server/), and after the last test it
// explains each statement the service asked for on a database at the latest migration. A plan
// that scans a whole table fails the run, unless the code that asked is one of READS_EVERYTHING
// below, each with its reason. Statements the tests write themselves are not checked, nor
// those of the child processes some tests start.
// Blind spot: a service function that returns a query's promise without awaiting it leaves no
// frame of its own on the stack; its statement is then taken for the test's and not checked
// (the targeted tests, request-path-scans.test.ts and the query-plan tests, cover those).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import SQLite from "better-sqlite3";
import { openDatabase } from "../../../server/store/database.js";
import { planOf, scansIn } from "./captured-plans.js";

/** Code that reads a whole table on purpose: "file function" as the stack names it, and why. */
const READS_EVERYTHING: Record<string, string> = {
  "server/store/migrations.ts": "migrations rewrite what they migrate, once",
  "server/store/database.ts": "opening a database inspects its schema",
  "server/store/tx-journal-count-triggers.ts": "the backfill when the triggers are added",
  "server/chain/indexer.ts": "a reindex empties the index tables",
  "server/risk/refresh.ts currentCursors": "the risk monitor's cursors, read once at start-up",
  "server/risk/network/build-graph.ts loadCreditNetwork":
    "the network views and the stress test measure the whole network (the hubs are cached until the index changes)",
  "server/keeper/webhook-dispatcher.ts":
    "the fan-out reads the active endpoints: one row per subscriber, not per receivable",
  "server/seed.ts": "the demo cast, created at the first start",
  "server/boot.ts": "start-up reads what a crash may have left half done",
};

const GUARD = "test/server/store/whole-table-guard.test.ts";
const EXPLAINABLE = /^\s*(with|select|update|delete)\b/i;
const FRAME = /\(?(?:file:\/\/)?\/[^\s()]*?\/((?:server|test|scripts)\/[^\s():]+):\d+:\d+\)?$/;

/** Statement -> who asked: "server/… function", or undefined when a test or a script did. */
const asked = new Map<string, string | undefined>();

function askedBy(stack: string): string | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const frame = FRAME.exec(line.trim());
    if (!frame) continue;
    const file = frame[1]!;
    if (file === "server/store/statement-cache.ts" || file === GUARD) continue;
    if (!file.startsWith("server/")) return undefined;
    const name = /^at (?:async )?(?:\S+\.)?(\S+) \(/.exec(line.trim())?.[1] ?? "";
    return `${file} ${name}`.trim();
  }
  return undefined;
}

const prepare = SQLite.prototype.prepare;
SQLite.prototype.prepare = function (this: SQLite.Database, source: string) {
  if (!asked.has(source) && EXPLAINABLE.test(source)) asked.set(source, askedBy(new Error().stack ?? ""));
  return prepare.call(this, source);
} as typeof prepare;

/**
 * A page of a whole table in its key order (every risk alert, newest first): no filter, no
 * sort, so the scan stops after `limit` rows.
 */
const stopsAtThePage = (statement: string, plan: readonly string[]) =>
  /\blimit \?$/i.test(statement.trim()) &&
  !/\bwhere\b/i.test(statement) &&
  !plan.some((line) => line.includes("TEMP B-TREE"));

const allowed = (caller: string) =>
  Object.keys(READS_EVERYTHING).some((code) => caller === code || caller.startsWith(`${code} `));

after("no statement the service ran scans a whole table", async function () {
  SQLite.prototype.prepare = prepare;
  const dir = mkdtempSync(path.join(tmpdir(), "tierline-whole-table-guard-"));
  const file = path.join(dir, "tierline.db");
  try {
    await (await openDatabase(file)).destroy(); // migrated to the latest schema
    const explain = new SQLite(file, { readonly: true });
    const found: string[] = [];
    try {
      for (const [statement, caller] of asked) {
        if (caller === undefined || allowed(caller)) continue;
        const parameters = Array.from(statement.match(/\?/g) ?? [], () => null);
        let plan: string[];
        try {
          plan = planOf(explain, statement, parameters);
        } catch {
          continue; // a table of an older schema (a migration test) or a test's own table
        }
        const scans = scansIn(plan, statement);
        if (scans.length && !stopsAtThePage(statement, plan))
          found.push(`${caller}: ${scans.join("; ")}\n    ${statement.replace(/\s+/g, " ")}`);
      }
    } finally {
      explain.close();
    }
    expect(found, `statements that scan a whole table:\n${found.join("\n")}`).to.deep.equal([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("store: the whole-table guard", function () {
  it("names the service code that asked for a statement, and leaves the tests' own statements out", function () {
    const fromService = [
      "Error",
      "    at Database.prepare (/repo/test/server/store/whole-table-guard.test.ts:50:10)",
      "    at Object.prepare (/repo/server/store/statement-cache.ts:32:32)",
      "    at SqliteConnection.executeQuery (file:///repo/node_modules/kysely/dist/dialect/sqlite/sqlite-driver.js:58:31)",
      "    at async listRecourseClaims (file:///repo/server/domain/recourse.ts:428:16)",
      "    at async Context.<anonymous> (/repo/test/server/api/recourse.test.ts:10:3)",
    ].join("\n");
    const fromTest = [
      "Error",
      "    at Database.prepare (/repo/test/server/store/whole-table-guard.test.ts:50:10)",
      "    at SqliteConnection.executeQuery (file:///repo/node_modules/kysely/dist/dialect/sqlite/sqlite-driver.js:58:31)",
      "    at async Context.<anonymous> (/repo/test/server/api/recourse.test.ts:10:3)",
    ].join("\n");
    expect(askedBy(fromService)).to.equal("server/domain/recourse.ts listRecourseClaims");
    expect(askedBy(fromTest)).to.equal(undefined);
    expect(allowed("server/risk/network/build-graph.ts loadCreditNetwork")).to.equal(true);
    expect(allowed("server/risk/network/build-graph.ts somethingElse")).to.equal(false);
    expect(allowed("server/store/migrations.ts up")).to.equal(true);
    expect(stopsAtThePage('select * from "risk_alerts" order by "id" desc limit ?', ["SCAN risk_alerts"])).to.equal(
      true,
    );
    expect(
      stopsAtThePage('select * from "risk_alerts" order by "kind" limit ?', [
        "SCAN risk_alerts",
        "USE TEMP B-TREE FOR ORDER BY",
      ]),
    ).to.equal(false);
    expect(stopsAtThePage('select * from "receivables" where "po_number" = ? limit ?', ["SCAN receivables"])).to.equal(
      false,
    );
  });
});
