// Every entry point (npm start, demo, financier, audit, reset, reindex, the benchmarks) reads
// the same settings as `npm start`, refuses an old Node with the fix spelled out, and fails
// with one line when the chain it is pointed at does not answer.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { loadEndpoints } from "../../../server/config.js";
import { nodeVersionProblem } from "../../../scripts/lib/node-version.js";
import { freePort, startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty } from "../scenario.js";

const REPO = process.cwd();
const TSX = path.join(REPO, "node_modules/.bin/tsx");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(TIERLINE_|PORT$|HOST$)/.test(key)),
  ) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: REPO,
        env: { ...clean, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, ...env },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The entry points package.json runs, with the file each one starts. */
function entryScripts(): Array<{ name: string; file: string }> {
  const scripts = (
    JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> }
  ).scripts;
  return Object.entries(scripts).flatMap(([name, command]) => {
    const match = /(?:tsx|hardhat run(?: --network \S+)?) (scripts\/\S+\.ts)/.exec(command);
    return match ? [{ name, file: match[1]! }] : [];
  });
}

describe("entry points", function () {
  this.timeout(180_000);

  describe("on a Node that is too old", function () {
    it("names the version needed and the fix, and accepts 22.13 and later", function () {
      const problem = nodeVersionProblem("20.19.1");
      expect(problem).to.include("Node.js 22.13 or later");
      expect(problem).to.include("20.19.1");
      expect(problem).to.include(".nvmrc");
      expect(nodeVersionProblem("22.12.0")).to.be.a("string");
      expect(nodeVersionProblem("22.13.0")).to.equal(undefined);
      expect(nodeVersionProblem("24.21.0")).to.equal(undefined);
      expect(readFileSync(path.join(REPO, ".nvmrc"), "utf8").trim()).to.equal("24");
    });

    it("is checked first by every entry point package.json runs", function () {
      const entries = entryScripts();
      expect(entries.map((e) => e.name)).to.include.members([
        "start",
        "demo",
        "financier",
        "audit",
        "reset",
        "reindex",
        "bench:throughput",
        "bench:risk",
        "bench:gas",
        "bench:growth",
        "deploy:network",
      ]);
      for (const { name, file } of entries) {
        const firstImport = readFileSync(path.join(REPO, file), "utf8")
          .split("\n")
          .find((line) => line.startsWith("import "));
        expect(firstImport, `${name} (${file})`).to.match(/^import "(\.\/|\.\.\/)lib\/node-version\.js";$/);
      }
    });

    it("stops `npm run demo` with one line before any native module loads", async function () {
      // Node 20 as far as the script can tell: the check must stop it before better-sqlite3 loads.
      const pretend = "data:text/javascript,Object.defineProperty(process.versions,'node',{value:'20.19.1'})";
      const result = await run(process.execPath, ["--import", "tsx", "--import", pretend, "scripts/demo.ts"], {});
      expect(result.code).to.equal(1);
      expect(result.stderr.trim().split("\n")).to.have.length(1);
      expect(result.stderr).to.include("needs Node.js 22.13 or later; this is Node.js 20.19.1");
      expect(result.stdout).to.equal("");
    });
  });

  describe("configuration", function () {
    it("derives the API, the chain and the credentials from the same variables as `npm start`", function () {
      const endpoints = loadEndpoints(
        { HOST: "0.0.0.0", PORT: "19201", TIERLINE_CHAIN_PORT: "19202", TIERLINE_DATA_DIR: "/tmp/x" },
        "/",
      );
      expect(endpoints).to.deep.equal({
        apiUrl: "http://127.0.0.1:19201",
        rpcUrl: "http://127.0.0.1:19202",
        embeddedChain: true,
        dataDir: "/tmp/x",
        credentialsFile: "/tmp/x/credentials.json",
      });
      // TIERLINE_RPC_URL is the chain Tierline runs on, for the CLIs too (no registrar key needed to read).
      const external = loadEndpoints({ TIERLINE_RPC_URL: "http://chain.example:8545" }, "/srv");
      expect(external.rpcUrl).to.equal("http://chain.example:8545");
      expect(external.embeddedChain).to.equal(false);
      expect(external.apiUrl).to.equal("http://127.0.0.1:3000");
      expect(external.dataDir).to.equal("/srv/.tierline");
    });

    describe("against a running service", function () {
      let t: TestService;
      before(async function () {
        t = await startTestService();
      });
      after(async function () {
        await t?.close();
      });

      it("the audit CLI finds the API where PORT says, and its key in TIERLINE_DATA_DIR", async function () {
        const api = new ApiClient(() => t.baseUrl, t.operatorKey);
        const auditor = await createTestParty(api, ["auditor"]);
        const dir = mkdtempSync(path.join(tmpdir(), "tierline-entry-"));
        try {
          writeFileSync(
            path.join(dir, "credentials.json"),
            JSON.stringify({ operator: { apiKey: t.operatorKey }, parties: [{ ...auditor, roles: ["auditor"] }] }),
          );
          const port = new URL(t.baseUrl).port;
          const result = await run(TSX, ["scripts/audit.ts", "exposure", auditor.id, "--format", "json"], {
            PORT: port,
            TIERLINE_DATA_DIR: dir,
          });
          expect(result.code, result.stderr).to.equal(0);
          expect(JSON.parse(result.stdout).party.id).to.equal(auditor.id);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it("the financier CLI reads the chain where TIERLINE_CHAIN_PORT says and the API where PORT says", async function () {
        const result = await run(TSX, ["scripts/financier.ts", "list"], {
          PORT: new URL(t.baseUrl).port,
          TIERLINE_CHAIN_PORT: new URL(t.chain.url).port,
        });
        expect(result.code, result.stderr).to.equal(0);
      });

      it("reset refuses while a Tierline uses the data directory, whatever port this terminal names", async function () {
        const result = await run(TSX, ["scripts/reset.ts", "--yes"], {
          TIERLINE_DATA_DIR: t.dataDir,
          TIERLINE_CHAIN_PORT: String(await freePort()),
        });
        expect(result.code).to.equal(1);
        expect(result.stderr).to.include("is in use by another Tierline process");
        expect(result.stderr).to.include("Nothing was deleted");
        expect(existsSync(t.dataDir)).to.equal(true);
      });
    });

    it("reset works with TIERLINE_RPC_URL set and no registrar key (it only needs where things are)", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "tierline-reset-"));
      const backup = path.join(tmpdir(), `tierline-reset-backup-${process.pid}-${Date.now()}.json`);
      mkdirSync(path.join(dir, "chain"));
      try {
        // An external chain: the keys outlive the directory, so reset asks for --delete-keys and backs them up first.
        const result = await run(TSX, ["scripts/reset.ts", "--yes", "--delete-keys", "--backup", backup], {
          TIERLINE_DATA_DIR: dir,
          TIERLINE_RPC_URL: "http://127.0.0.1:1",
          TIERLINE_BACKUP_PASSPHRASE: "a passphrase for the test",
        });
        expect(result.code, result.stderr).to.equal(0);
        expect(existsSync(dir)).to.equal(false);
        expect(existsSync(backup)).to.equal(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(backup, { force: true });
      }
    });

    it("a bad TIERLINE_RPC_URL stops `npm start` with one line", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "tierline-badrpc-"));
      try {
        const url = `http://127.0.0.1:${await freePort()}`;
        const result = await run(TSX, ["scripts/start.ts"], {
          TIERLINE_DATA_DIR: dir,
          TIERLINE_RPC_URL: url,
          TIERLINE_REGISTRAR_KEY: `0x${"11".repeat(32)}`,
          PORT: String(await freePort()),
          LOG_LEVEL: "silent",
        });
        expect(result.code).to.equal(1);
        const lines = result.stderr.trim().split("\n");
        expect(lines, result.stderr).to.have.length(1);
        expect(lines[0]).to.match(new RegExp(`^Tierline failed to start: the chain at ${url}/? is not answering`));
        expect(lines[0]).to.include("TIERLINE_RPC_URL");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
