// One data directory, one instance: a second `npm start` refuses and names the holder's PID
// and ports; `npm run reset` takes the same lock (so it refuses under a running instance,
// whatever ports its own environment names), asks in a terminal, needs --yes elsewhere, and
// against an external chain refuses unless --delete-keys, after an encrypted key backup.
// The data directory is 0700 and the database 0600.
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { Wallet } from "ethers";
import { DataDirLock, DataDirLockedError, LOCK_FILE } from "../../../scripts/chain/data-dir-lock.js";
import { freePort, startLocalService, type LocalService } from "../../../scripts/chain/local-service.js";
import { decryptKeyBackup } from "../../../scripts/key-backup.js";
import { openDatabase } from "../../../server/store/database.js";

const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

/** Runs a script as a user would (no TTY), with TIERLINE_* taken only from `env`. */
function run(script: string, args: string[], env: Record<string, string>) {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("TIERLINE_")) base[k] = v;
  const result = spawnSync(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...base, LOG_LEVEL: "silent", ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 90_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `npm run reset` inside a pseudo-terminal (util-linux `script`) and types `answer`. */
function resetInTerminal(dataDir: string, answer: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("script", ["-qec", `${process.execPath} --import tsx scripts/reset.ts`, "/dev/null"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TIERLINE_DATA_DIR: dataDir, TIERLINE_RPC_URL: "", LOG_LEVEL: "silent" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    let answered = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (!answered && output.includes('Type "reset"')) {
        answered = true;
        child.stdin.write(`${answer}\r`);
      }
    });
    child.once("exit", (code) => resolve({ code, output }));
  });
}

describe("One data directory, one instance", function () {
  let dataDir: string;
  let local: LocalService | undefined;

  const startLocal = async () => {
    local = await startLocalService({
      dataDir,
      chainPort: await freePort(),
      apiPort: 0,
      seed: false,
      env: { LOG_LEVEL: "silent" },
    });
  };

  beforeEach(function () {
    dataDir = mkdtempSync(path.join(tmpdir(), "tierline-lock-"));
  });
  afterEach(async function () {
    await local?.stop();
    local = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe("when a Tierline runs on the data directory", function () {
    it("a second `npm start` on it refuses, naming the holder's PID and ports, and changes nothing", async function () {
      await startLocal();
      const lockBefore = readFileSync(path.join(dataDir, LOCK_FILE), "utf8");
      const second = run("scripts/start.ts", [], {
        TIERLINE_DATA_DIR: dataDir,
        PORT: String(await freePort()),
        TIERLINE_CHAIN_PORT: String(await freePort()),
      });
      expect(second.code, second.stderr).to.equal(1);
      expect(second.stderr).to.include(`PID ${process.pid}`);
      expect(second.stderr).to.include(local!.baseUrl);
      expect(second.stderr).to.include(local!.chain.url);
      expect(readFileSync(path.join(dataDir, LOCK_FILE), "utf8")).to.equal(lockBefore);
      expect((await fetch(`${local!.baseUrl}/health`)).status).to.equal(200);
    });

    it("`npm run reset` refuses, whatever ports its own environment names, and deletes nothing", async function () {
      await startLocal();
      const reset = run("scripts/reset.ts", ["--yes"], {
        TIERLINE_DATA_DIR: dataDir,
        PORT: "1",
        TIERLINE_CHAIN_PORT: "2",
      });
      expect(reset.code, reset.stderr).to.equal(1);
      expect(reset.stderr).to.include(`PID ${process.pid}`);
      expect(reset.stderr).to.include("Nothing was deleted");
      expect(existsSync(path.join(dataDir, "tierline.db"))).to.equal(true);
      expect(existsSync(path.join(dataDir, "chain", "state.json.gz"))).to.equal(true);
      expect((await fetch(`${local!.baseUrl}/health`)).status).to.equal(200);
    });

    it("keeps the data directory 0700 and the database 0600, even over a directory made 0755", async function () {
      chmodSync(dataDir, 0o755);
      await startLocal();
      expect(mode(dataDir)).to.equal("700");
      for (const f of readdirSync(dataDir).filter((f) => f.startsWith("tierline.db")))
        expect(mode(path.join(dataDir, f)), f).to.equal("600");
      expect(mode(path.join(dataDir, "master.key"))).to.equal("600");
      const health = await fetch(`${local!.baseUrl}/health`);
      const body = (await health.json()) as { dataDirectory: { bytes: number } };
      expect(body.dataDirectory.bytes).to.be.greaterThan(statSync(path.join(dataDir, "tierline.db")).size);
    });
  });

  describe("`npm run reindex`", function () {
    it("refuses while a Tierline runs on the directory, and on a stopped one rebuilds with progress", async function () {
      await startLocal();
      const refused = run("scripts/reindex.ts", [], { TIERLINE_DATA_DIR: dataDir });
      expect(refused.code, refused.stderr).to.equal(1);
      expect(refused.stderr).to.include(`PID ${process.pid}`);
      const head = Number(await local!.chain.control.call<string>("eth_blockNumber"));
      const events = await local!.service.ctx.db
        .selectFrom("chain_events")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      await local!.stop();
      local = undefined;

      const reindex = run("scripts/reindex.ts", [], { TIERLINE_DATA_DIR: dataDir });
      expect(reindex.code, reindex.stderr).to.equal(0);
      expect(reindex.stdout).to.match(new RegExp(`block ${head} of ${head} \\(100%\\), ${events.n} events`));
      expect(reindex.stdout).to.include(`index rebuilt from ${events.n} chain events, up to block ${head}`);
      expect(existsSync(path.join(dataDir, LOCK_FILE))).to.equal(false);
    });
  });

  describe("when the holder died without releasing the lock", function () {
    it("takes the lock over at once", function () {
      const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
      writeFileSync(
        path.join(dataDir, LOCK_FILE),
        JSON.stringify({ pid: dead, processStart: "1", command: "npm start", since: "2026-01-01T00:00:00Z" }),
      );
      const lock = DataDirLock.acquire(dataDir, "test");
      expect(JSON.parse(readFileSync(path.join(dataDir, LOCK_FILE), "utf8")).pid).to.equal(process.pid);
      expect(() => DataDirLock.acquire(dataDir, "test again")).to.throw(DataDirLockedError, `PID ${process.pid}`);
      lock.release();
      expect(existsSync(path.join(dataDir, LOCK_FILE))).to.equal(false);
    });
  });

  describe("`npm run reset` on a stopped Tierline", function () {
    beforeEach(async function () {
      await startLocal();
      await local!.stop();
      local = undefined;
    });

    it("refuses without --yes when no terminal can confirm", function () {
      const reset = run("scripts/reset.ts", [], { TIERLINE_DATA_DIR: dataDir });
      expect(reset.code).to.equal(1);
      expect(reset.stderr).to.include("--yes");
      expect(existsSync(path.join(dataDir, "tierline.db"))).to.equal(true);
    });

    it("asks in a terminal: anything but `reset` keeps the data, `reset` deletes it", async function () {
      const declined = await resetInTerminal(dataDir, "no");
      expect(declined.output).to.include("not confirmed; nothing was deleted");
      expect(existsSync(path.join(dataDir, "tierline.db"))).to.equal(true);
      const confirmed = await resetInTerminal(dataDir, "reset");
      expect(confirmed.output).to.include(`deleted ${dataDir}`);
      expect(existsSync(dataDir)).to.equal(false);
    });

    it("deletes everything with --yes", function () {
      const reset = run("scripts/reset.ts", ["--yes"], { TIERLINE_DATA_DIR: dataDir });
      expect(reset.code, reset.stderr).to.equal(0);
      expect(existsSync(dataDir)).to.equal(false);
    });
  });

  describe("`npm run reset` against an external chain", function () {
    const external = {
      TIERLINE_RPC_URL: "http://127.0.0.1:9",
      TIERLINE_REGISTRAR_KEY: Wallet.createRandom().privateKey,
    };
    let backupDir: string;
    beforeEach(async function () {
      backupDir = mkdtempSync(path.join(tmpdir(), "tierline-backup-"));
      writeFileSync(path.join(dataDir, "master.key"), "ab".repeat(32), { mode: 0o600 });
      mkdirSync(path.join(dataDir, "keys"));
      writeFileSync(path.join(dataDir, "keys", "fin.key"), "0x1234\n", { mode: 0o600 });
      const db = await openDatabase(path.join(dataDir, "tierline.db"));
      await db
        .insertInto("parties")
        .values({
          id: "pty_custodial",
          name: "Custodial Co",
          registry_id: "R1",
          legal_id_hash: "0x01",
          industry: "x",
          roles: "[]",
          address: "0x0000000000000000000000000000000000000001",
          custodial: 1,
          encrypted_key: "v1:sealed-key",
          api_key_hash: "h",
          related_party_ids: "[]",
          status: "active",
          created_at: new Date().toISOString(),
        })
        .execute();
      await db.destroy();
    });
    afterEach(function () {
      rmSync(backupDir, { recursive: true, force: true });
    });

    it("refuses without --delete-keys, and deletes nothing", function () {
      const reset = run("scripts/reset.ts", ["--yes"], { TIERLINE_DATA_DIR: dataDir, ...external });
      expect(reset.code).to.equal(1);
      expect(reset.stderr).to.include("--delete-keys");
      expect(reset.stderr).to.include("Nothing was deleted");
      expect(readFileSync(path.join(dataDir, "master.key"), "utf8")).to.equal("ab".repeat(32));
    });

    it("with --delete-keys, first writes an encrypted backup of every key, then deletes", function () {
      const backup = path.join(backupDir, "keys.backup.json");
      const reset = run("scripts/reset.ts", ["--yes", "--delete-keys", "--backup", backup], {
        TIERLINE_DATA_DIR: dataDir,
        TIERLINE_BACKUP_PASSPHRASE: "correct horse battery",
        ...external,
      });
      expect(reset.code, reset.stderr).to.equal(0);
      expect(existsSync(dataDir)).to.equal(false);
      expect(mode(backup)).to.equal("600");
      const text = readFileSync(backup, "utf8");
      expect(text).not.to.include("ab".repeat(32));
      expect(() => decryptKeyBackup(text, "wrong passphrase")).to.throw(/passphrase is wrong/);
      const contents = decryptKeyBackup(text, "correct horse battery");
      expect(Buffer.from(contents.files["master.key"]!, "base64").toString()).to.equal("ab".repeat(32));
      expect(Buffer.from(contents.files[path.join("keys", "fin.key")]!, "base64").toString()).to.equal("0x1234\n");
      expect(contents.custodialKeys).to.deep.equal([
        { id: "pty_custodial", address: "0x0000000000000000000000000000000000000001", encryptedKey: "v1:sealed-key" },
      ]);
      expect(contents.rpcUrl).to.equal(external.TIERLINE_RPC_URL);
    });
  });
});
