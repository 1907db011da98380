// The embedded chain's saved state, written so that no crash can lose it. The service asks
// the node for its state (anvil_dumpState: gzip-compressed JSON) and writes it itself:
// to a temporary file, fsynced, then renamed over the current snapshot, with the previous
// snapshot kept (a hard link) until the new one is complete. A start picks the newest
// snapshot that reads back whole (gzip's CRC and length catch a torn or damaged file)
// and says so when it had to fall back. Nothing is ever deleted to "recover".
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { crashPoint } from "../../server/faults.js";

export const SNAPSHOT_FILE = "state.json.gz";
export const PREVIOUS_SNAPSHOT_FILE = "state.previous.json.gz";
const TEMP_SUFFIX = ".partial";

export interface SnapshotChoice {
  /** The file chosen, or undefined for a new chain. */
  file: string | undefined;
  /** The state as JSON text, ready for anvil's --load-state. */
  json: Buffer | undefined;
  /** The block number the snapshot holds. */
  blockNumber: number | undefined;
  /** Snapshots that exist but do not read back, with why. */
  rejected: { file: string; reason: string }[];
}

/** Throws unless `bytes` is a complete gzip stream of a JSON object with a block. */
export function readSnapshot(bytes: Buffer): { json: Buffer; blockNumber: number } {
  if (bytes.length === 0) throw new Error("the file is empty");
  let json: Buffer;
  try {
    json = gunzipSync(bytes);
  } catch (error) {
    throw new Error(`not a complete gzip stream (${(error as Error).message})`, { cause: error });
  }
  // A cheap shape check: the state object starts with its block environment.
  const head = json.subarray(0, 4096).toString("utf8");
  const match = /"block"\s*:\s*\{[^}]*?"number"\s*:\s*"(0x[0-9a-fA-F]+)"/.exec(head);
  if (!head.startsWith("{") || !match) throw new Error("not an anvil state (no block environment)");
  let end = json.length - 1;
  while (end > 0 && /\s/.test(String.fromCharCode(json[end]!))) end--;
  if (json[end] !== 0x7d) throw new Error("the JSON is cut short");
  return { json, blockNumber: Number(match[1]) };
}

export class ChainSnapshots {
  constructor(readonly chainDir: string) {}

  get current(): string {
    return path.join(this.chainDir, SNAPSHOT_FILE);
  }
  get previous(): string {
    return path.join(this.chainDir, PREVIOUS_SNAPSHOT_FILE);
  }

  /** Is there any saved state (good or not)? A chain with saved state is never started empty. */
  any(): boolean {
    return existsSync(this.current) || existsSync(this.previous);
  }

  /** The newest snapshot that reads back whole: the current one, else the previous one. */
  choose(): SnapshotChoice {
    const rejected: SnapshotChoice["rejected"] = [];
    for (const file of [this.current, this.previous]) {
      if (!existsSync(file)) continue;
      try {
        const { json, blockNumber } = readSnapshot(readFileSync(file));
        return { file, json, blockNumber, rejected };
      } catch (error) {
        rejected.push({ file, reason: (error as Error).message });
      }
    }
    return { file: undefined, json: undefined, blockNumber: undefined, rejected };
  }

  /**
   * Writes `gzipped` as the new current snapshot: temp file, fsync, keep the old current as
   * the previous one, rename, fsync the directory. At every instant `current` is either the
   * old complete snapshot or the new complete one.
   */
  save(gzipped: Buffer): void {
    readSnapshot(gzipped); // never replace a good snapshot with a bad one
    const temp = this.current + TEMP_SUFFIX;
    const fd = openSync(temp, "w", 0o600);
    try {
      const half = Math.floor(gzipped.length / 2);
      writeSync(fd, gzipped, 0, half);
      crashPoint("chain:snapshot-half-written");
      writeSync(fd, gzipped, half, gzipped.length - half);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (existsSync(this.current)) {
      const link = this.previous + TEMP_SUFFIX;
      rmSync(link, { force: true });
      linkSync(this.current, link);
      renameSync(link, this.previous);
    }
    renameSync(temp, this.current);
    fsyncDirectory(this.chainDir);
  }

  /** Total bytes of the snapshots on disk. */
  size(): number {
    return [this.current, this.previous].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
