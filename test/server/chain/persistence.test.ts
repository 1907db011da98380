// The embedded chain's state cannot be lost: snapshots are written by the service (temp
// file, fsync, rename, the previous one kept), a process killed half-way through a save
// leaves the last good snapshot whole, a damaged snapshot is detected at start and the last
// good one loaded (and the log says so), and anvil writes nothing outside the data directory.
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { snapshotDelay, startEmbeddedChain } from "../../../scripts/chain/embedded-chain.js";
import { ChainSnapshots, readSnapshot } from "../../../scripts/chain/chain-snapshots.js";

const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEAD = "0x000000000000000000000000000000000000dEaD";

/** Every file under `dir`, relative paths. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe("The embedded chain's persistence", function () {
  let dataDir: string;
  let home: string;
  beforeEach(function () {
    dataDir = mkdtempSync(path.join(tmpdir(), "tierline-persist-"));
    home = mkdtempSync(path.join(tmpdir(), "tierline-home-"));
  });
  afterEach(function () {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  const start = (notes: string[] = []) =>
    startEmbeddedChain(dataDir, 0, {
      publicEndpoint: false,
      env: { HOME: home },
      log: (m) => notes.push(m),
      snapshotIntervalMs: 3_600_000, // saves only when the test says (and at stop)
    });

  describe("when the chain grows", function () {
    it("writes nothing under the home directory, and keeps its state, atomically, in the data directory", async function () {
      const chain = await start();
      const [from] = await chain.control.call<string[]>("eth_accounts");
      // anvil's defaults start writing per-block states under ~/.foundry/anvil/tmp after a few
      // hundred blocks (1,187 files after 1,192 blocks here): grow well past that.
      for (let block = 0; block < 1_200; block++) {
        await chain.control.call("eth_sendTransaction", [{ from, to: DEAD, value: "0x1" }]);
        await chain.control.call("evm_mine");
        if (block % 300 === 299) await chain.snapshot();
      }
      const head = Number(await chain.control.call<string>("eth_blockNumber"));
      await chain.stop();
      expect(head).to.be.at.least(1_200);
      expect(filesUnder(home), "files anvil wrote under HOME").to.deep.equal([]);
      const chainFiles = filesUnder(path.join(dataDir, "chain")).sort();
      expect(chainFiles).to.deep.equal(["anvil.log", "genesis.json", "state.json.gz", "state.previous.json.gz"].sort());
      const snapshot = readSnapshot(readFileSync(path.join(dataDir, "chain", "state.json.gz")));
      expect(snapshot.blockNumber).to.equal(head);
      expect((statSync(path.join(dataDir, "chain")).mode & 0o777).toString(8)).to.equal("700");
      expect((statSync(path.join(dataDir, "chain", "state.json.gz")).mode & 0o777).toString(8)).to.equal("600");
    });
  });

  describe("when the process is killed half-way through writing a snapshot", function () {
    it("keeps the last good snapshot whole, and the next start saves what the orphaned node held", async function () {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "test/server/chain/fixtures/dumping-chain.ts", dataDir],
        { cwd: PROJECT_ROOT, env: { ...process.env, HOME: home }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const exit = await new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_c, s) => resolve(s)));
      expect(exit, `stdout: ${stdout}\nstderr: ${stderr}`).to.equal("SIGKILL");
      expect(stderr).to.include("TIERLINE_CRASH_AT: crashing at chain:snapshot-half-written");
      const saved = (JSON.parse(stdout.split("\n")[0]!) as { saved: number }).saved;

      const chainDir = path.join(dataDir, "chain");
      // The torn write is there, cut short; the current snapshot is the last good one.
      const partial = readFileSync(path.join(chainDir, "state.json.gz.partial"));
      expect(() => readSnapshot(partial)).to.throw(/gzip/);
      expect(readSnapshot(readFileSync(path.join(chainDir, "state.json.gz"))).blockNumber).to.equal(saved);

      // The killed process's node is still running, holding two blocks the torn save did not
      // keep: the next start saves them from it before stopping it, and serves them.
      const notes: string[] = [];
      const chain = await start(notes);
      try {
        expect(notes.join("\n")).to.match(/stopping the chain node \(pid \d+\) that a stopped Tierline left running/);
        expect(notes.join("\n")).to.include(`saved its state first (block ${saved + 2})`);
        expect(Number(await chain.control.call<string>("eth_blockNumber"))).to.equal(saved + 2);
        const nonce = Number(
          await chain.control.call<string>("eth_getTransactionCount", [
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "latest",
          ]),
        );
        expect(nonce).to.equal(10);
      } finally {
        await chain.stop();
      }
    });
  });

  describe("as the state grows", function () {
    it("waits between saves at least four times as long as the last save took", function () {
      // 9.5 s a dump at 10,000 receivables: saved every second, the node would do little else.
      expect(snapshotDelay(1_000, undefined)).to.equal(1_000);
      expect(snapshotDelay(1_000, 120)).to.equal(1_000);
      expect(snapshotDelay(1_000, 9_500)).to.equal(38_000);
    });
  });

  describe("when the terminal stops it", function () {
    it("saves the blocks made since the last save, though the signal reaches the whole process group", async function () {
      // Ctrl-C in a terminal and `timeout npm start` signal every process of the group at once.
      // The node must not die of that signal before the stop has saved what it holds.
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "test/server/chain/fixtures/interrupted-chain.ts", dataDir],
        { cwd: PROJECT_ROOT, env: { ...process.env, HOME: home }, stdio: ["ignore", "pipe", "pipe"], detached: true },
      );
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      while (!stdout.includes("head") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const head = (JSON.parse(stdout.split("\n")[0]!) as { head: number }).head;
      expect(head).to.be.greaterThan(0);

      process.kill(-child.pid!, "SIGINT");
      expect(await exit, `stdout: ${stdout}\nstderr: ${stderr}`).to.equal(0);
      expect(stdout).to.include("stopped");
      const chainDir = path.join(dataDir, "chain");
      expect(readSnapshot(readFileSync(path.join(chainDir, "state.json.gz"))).blockNumber).to.equal(head);
    });
  });

  describe("when the current snapshot is damaged", function () {
    it("falls back to the previous good snapshot, says so, and keeps the damaged file", async function () {
      const chain = await start();
      const [from] = await chain.control.call<string[]>("eth_accounts");
      await chain.control.call("eth_sendTransaction", [{ from, to: DEAD, value: "0x1" }]);
      await chain.control.call("evm_mine");
      const older = await chain.snapshot();
      await chain.control.call("eth_sendTransaction", [{ from, to: DEAD, value: "0x1" }]);
      await chain.control.call("evm_mine");
      await chain.stop(); // saves the newest state as current; the older one becomes previous
      const snapshots = new ChainSnapshots(path.join(dataDir, "chain"));
      expect(readSnapshot(readFileSync(snapshots.previous)).blockNumber).to.equal(older.blockNumber);
      expect(readSnapshot(readFileSync(snapshots.current)).blockNumber).to.equal(older.blockNumber + 1);
      const genesisBefore = JSON.parse(readFileSync(path.join(dataDir, "chain", "genesis.json"), "utf8"));

      truncateSync(snapshots.current, Math.floor(statSync(snapshots.current).size / 2));
      const notes: string[] = [];
      const again = await start(notes);
      try {
        expect(notes.join("\n")).to.match(
          /state\.json\.gz does not read back .*falling back to the last good snapshot .*state\.previous\.json\.gz/,
        );
        expect(Number(await again.control.call<string>("eth_blockNumber"))).to.equal(older.blockNumber);
        expect(JSON.parse(readFileSync(path.join(dataDir, "chain", "genesis.json"), "utf8"))).to.deep.equal(
          genesisBefore,
        );
      } finally {
        await again.stop();
      }
    });

    it("refuses to start a new chain over snapshots that do not read back, and deletes nothing", async function () {
      const chain = await start();
      await chain.stop();
      const snapshots = new ChainSnapshots(path.join(dataDir, "chain"));
      writeFileSync(snapshots.current, "not a snapshot");
      writeFileSync(snapshots.previous, "");
      let message = "";
      await start().then(
        (c) => c.stop(),
        (error: Error) => (message = error.message),
      );
      expect(message).to.match(/no chain snapshot in .* reads back/);
      expect(message).to.include("Nothing was deleted");
      expect(message).not.to.match(/npm run reset/);
      expect(readFileSync(snapshots.current, "utf8")).to.equal("not a snapshot");
      expect(existsSync(snapshots.previous)).to.equal(true);
    });
  });
});
