// `npm run reset`: starts afresh on purpose — deletes the data directory (database, chain
// state, keys, credentials). It takes the data directory's lock first, so it refuses while
// any Tierline uses that directory, whatever ports this terminal's environment names. It
// asks for confirmation in a terminal (`--yes` for scripts and CI). Against an external
// chain the keys control holdings that outlive this directory: it refuses unless told
// `--delete-keys`, and then first writes an encrypted backup of every key.
import "./lib/node-version.js";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { Command } from "commander";
import { ConfigError, loadConfig, type Config } from "../server/config.js";
import { DataDirLock, DataDirLockedError } from "./chain/data-dir-lock.js";
import { collectKeys, writeKeyBackup } from "./key-backup.js";

interface ResetOptions {
  yes?: boolean;
  deleteKeys?: boolean;
  backup?: string;
}

const program = new Command()
  .name("npm run reset --")
  .description("Delete the data directory and start afresh")
  .option("-y, --yes", "do not ask for confirmation (scripts, CI)")
  .option(
    "--delete-keys",
    "with an external chain (TIERLINE_RPC_URL): delete the keys too, after writing an encrypted backup",
  )
  .option("--backup <file>", "where the encrypted key backup goes (default: beside the data directory)")
  .parse();
const options = program.opts<ResetOptions>();

function fail(message: string, code = 1): never {
  console.error(`npm run reset: ${message}`);
  process.exit(code);
}

async function ask(question: string, hidden = false): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) {
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.includes(question)) write.call(rl, s);
    };
  }
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
    if (hidden) process.stdout.write("\n");
  }
}

async function passphrase(): Promise<string> {
  const fromEnv = process.env.TIERLINE_BACKUP_PASSPHRASE;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY)
    fail("set TIERLINE_BACKUP_PASSPHRASE (at least 8 characters) to encrypt the key backup, or run in a terminal");
  const first = await ask("Passphrase for the encrypted key backup (at least 8 characters): ", true);
  const second = await ask("The same passphrase again: ", true);
  if (first !== second) fail("the two passphrases differ; nothing was deleted");
  return first;
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const { dataDir } = config;
if (!existsSync(dataDir)) {
  console.log(`nothing to reset: ${dataDir} does not exist`);
  process.exit(0);
}

let lock: DataDirLock;
try {
  lock = DataDirLock.acquire(dataDir, "npm run reset");
} catch (error) {
  if (error instanceof DataDirLockedError) fail(`${error.message} Nothing was deleted.`);
  throw error;
}

let backupFile: string | undefined;
if (!config.embeddedChain) {
  if (!options.deleteKeys) {
    lock.release();
    fail(
      `Tierline uses the external chain ${config.rpcUrl}: the keys in ${dataDir} (the master key and every custodial party's key) ` +
        "control holdings on that chain that a reset cannot undo; deleting them makes those holdings unreachable. Nothing was deleted. " +
        "If you really mean it, run `npm run reset -- --delete-keys`: an encrypted backup of every key is written first.",
    );
  }
  const secret = await passphrase();
  backupFile = path.resolve(
    options.backup ??
      path.join(path.dirname(dataDir), `tierline-keys-${new Date().toISOString().replace(/[:.]/g, "-")}.backup.json`),
  );
  if (backupFile.startsWith(dataDir + path.sep)) fail("the backup must be written outside the data directory");
  try {
    writeKeyBackup(backupFile, collectKeys(dataDir, config.databaseFile, config.rpcUrl), secret);
  } catch (error) {
    lock.release();
    fail(`could not write the key backup (${(error as Error).message}); nothing was deleted`);
  }
  console.log(`encrypted key backup written to ${backupFile}`);
}

if (!options.yes) {
  if (!process.stdin.isTTY) {
    lock.release();
    fail(
      `not a terminal, so no one can confirm: run \`npm run reset -- --yes\` to delete ${dataDir}. Nothing was deleted.`,
    );
  }
  const answer = await ask(
    `This deletes ${dataDir}: the database, the chain's state, the keys and credentials. Type "reset" to go on: `,
  );
  if (answer !== "reset") {
    lock.release();
    fail("not confirmed; nothing was deleted");
  }
}

if (config.TIERLINE_DATABASE_URL) {
  // Other replicas may share it, and it may hold more than this data directory: never drop it here.
  console.log(
    "TIERLINE_DATABASE_URL is set: the PostgreSQL database is not touched. Drop and create it again yourself to start afresh.",
  );
}
rmSync(dataDir, { recursive: true, force: true });
if (!config.TIERLINE_DATABASE_URL && config.databaseFile !== path.join(dataDir, "tierline.db")) {
  for (const f of [config.databaseFile, `${config.databaseFile}-wal`, `${config.databaseFile}-shm`])
    rmSync(f, { force: true });
}
lock.release();
console.log(
  `deleted ${dataDir}: the next \`npm start\` begins a new chain, new contracts and new demo parties` +
    (backupFile ? ` (keys backed up, encrypted, in ${backupFile})` : ""),
);
