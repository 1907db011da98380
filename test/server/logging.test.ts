// Logs a person can read: readable in a terminal and JSON when collected, one short line per
// request (not every header), the start-up banner on screen rather than under the start-up
// lines, and a reindex that shows its progress.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import type { Server } from "node:http";
import { expect } from "chai";
import { createApp } from "../../server/api/app.js";
import { createLogger, logFormatFor, StartupLogGate } from "../../server/logging.js";
import { reindexProgress } from "../../scripts/lib/progress.js";
import { freePort, startTestService, type TestService } from "./harness.js";

const REPO = process.cwd();
const TSX = path.join(REPO, "node_modules/.bin/tsx");

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { stream, lines: () => text.split("\n").filter(Boolean) };
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(TIERLINE_|PORT$|HOST$|LOG_)/.test(key)),
  );
  return { ...env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, ...extra };
}

describe("logs", function () {
  this.timeout(240_000);

  it("are readable in a terminal and JSON otherwise, unless LOG_FORMAT says", function () {
    expect(logFormatFor(undefined, { isTTY: true })).to.equal("pretty");
    expect(logFormatFor(undefined, { isTTY: false })).to.equal("json");
    expect(logFormatFor("json", { isTTY: true })).to.equal("json");
    expect(logFormatFor("pretty", {})).to.equal("pretty");

    const json = capture();
    createLogger("info", json.stream, "json").info({ receivableId: "0xabc" }, "registered");
    expect(JSON.parse(json.lines()[0]!)).to.include({ msg: "registered", receivableId: "0xabc", level: 30 });

    const pretty = capture();
    createLogger("info", pretty.stream, "pretty").info({ receivableId: "0xabc" }, "registered");
    const text = pretty.lines().join("\n");
    expect(() => JSON.parse(pretty.lines()[0]!)).to.throw();
    expect(text).to.include("INFO");
    expect(text).to.include("registered");
    expect(text).to.include('receivableId: "0xabc"');
  });

  it("hold routine start-up lines back for a file, and let warnings through at once", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "tierline-gate-"));
    try {
      const screen = capture();
      const gate = new StartupLogGate(screen.stream);
      const log = createLogger("info", gate, "json");
      log.info("contracts deployed");
      log.warn("a confirmation was interrupted");
      log.info("party registered");
      expect(screen.lines().map((l) => JSON.parse(l).msg)).to.deep.equal(["a confirmation was interrupted"]);
      const file = path.join(dir, "startup.log");
      expect(gate.release(file)).to.equal(2);
      expect(
        readFileSync(file, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l).msg),
      ).to.deep.equal(["contracts deployed", "party registered"]);
      log.info("after the banner");
      expect(screen.lines().map((l) => JSON.parse(l).msg)).to.deep.equal([
        "a confirmation was interrupted",
        "after the banner",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("of a running service", function () {
    let t: TestService;
    before(async function () {
      t = await startTestService({ TIERLINE_KEEPER: "false" });
    });
    after(async function () {
      await t?.close();
    });

    it("give one short line per request, without the request's and response's headers", async function () {
      const out = capture();
      const app = createApp({ ...t.service.ctx, log: createLogger("info", out.stream, "json") });
      const server: Server = await new Promise((resolve) => {
        const s = app.listen(0, "127.0.0.1", () => resolve(s));
      });
      try {
        const { port } = server.address() as { port: number };
        const response = await fetch(`http://127.0.0.1:${port}/v1/me`, {
          headers: { authorization: `Bearer ${t.operatorKey}`, "user-agent": "x".repeat(200) },
        });
        expect(response.status).to.equal(200);
        // The line is written when the response finishes: wait for it.
        const completed = () => out.lines().find((l) => JSON.parse(l).msg === "request completed");
        while (!completed()) await new Promise((resolve) => setTimeout(resolve, 10));
        const line = completed()!;
        const entry = JSON.parse(line);
        expect(entry.req).to.deep.equal({ id: response.headers.get("x-request-id"), method: "GET", url: "/v1/me" });
        expect(entry.res).to.deep.equal({ statusCode: 200 });
        expect(line).not.to.include("headers");
        expect(line).not.to.include(t.operatorKey);
        expect(line.length).to.be.below(400);
      } finally {
        server.close();
      }
    });

    it("reindex shows its progress up to 100 %", async function () {
      // `npm run reindex` needs the data directory to itself (its lock), which this harness
      // holds: the same rebuild and the same progress lines, in this process.
      const lines: string[] = [];
      const events = await t.service.ctx.indexer.rebuild(reindexProgress((line) => lines.push(line)));
      expect(events).to.be.greaterThan(0);
      expect(lines.length).to.be.greaterThan(0);
      const last = /^ {2}block (\d+) of (\d+) \(100%\), (\d+) events$/.exec(lines.at(-1)!);
      expect(last, lines.at(-1)).to.not.equal(null);
      expect(last![1]).to.equal(last![2]);
      expect(Number(last![3])).to.equal(events);
    });
  });

  it("at `npm start`, the banner is on screen and the start-up lines are in a file", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "tierline-banner-"));
    const child = spawn(TSX, ["scripts/start.ts"], {
      cwd: REPO,
      env: cleanEnv({
        TIERLINE_DATA_DIR: dir,
        PORT: String(await freePort()),
        TIERLINE_CHAIN_PORT: String(await freePort()),
        LOG_FORMAT: "json",
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes("Stop with Ctrl-C")) resolve();
        });
        child.once("exit", (code) => reject(new Error(`npm start exited with ${code}: ${stderr}`)));
      });
      // Up to the banner's last line only: from there on every event is a line (a risk
      // refresh's "credit score changed" was seen in the same stdout chunk as the banner's end).
      const untilBannerEnd = stdout.slice(0, stdout.indexOf("Stop with Ctrl-C"));
      const jsonLines = untilBannerEnd.split("\n").filter((line) => line.startsWith("{"));
      expect(jsonLines, jsonLines.slice(0, 3).join("\n")).to.deep.equal([]);
      expect(stdout).to.include("Tierline is running.");
      const note = /Logs {7}(\d+) start-up log lines in /.exec(stdout);
      expect(note, stdout).to.not.equal(null);
      const file = path.join(dir, "startup.log");
      expect(existsSync(file)).to.equal(true);
      expect(readFileSync(file, "utf8").trim().split("\n")).to.have.length(Number(note![1]));
    } finally {
      child.kill("SIGINT");
      await new Promise((resolve) => child.once("exit", resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
