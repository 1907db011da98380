// One data directory, one instance. `npm start`, `npm run reset` and `npm run reindex` take
// this lock for as long as they run: a file created exclusively (O_EXCL) in the data
// directory, naming the holder's PID, its process start time and its ports. A holder that
// died (SIGKILL, power cut) is recognised at once — its PID is gone, or belongs to another
// process started later — and its lock is taken over; a live holder is named in the refusal.
// Chosen over proper-lockfile, whose stale detection waits for an mtime to age (10 s by
// default) and records no PID to name.
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import path from "node:path";

export const LOCK_FILE = "instance.lock";

export interface LockHolder {
  pid: number;
  /** The process's start time (Linux: /proc/<pid>/stat field 22), to tell a reused PID apart. */
  processStart: string | null;
  command: string;
  since: string;
  api?: string;
  chain?: string;
  /** The embedded chain's private channel (ipc://…): readable by the data directory's owner only. */
  control?: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    const where = [holder.api ? `API ${holder.api}` : "", holder.chain ? `chain ${holder.chain}` : ""]
      .filter(Boolean)
      .join(", ");
    super(
      `the data directory ${dataDir} is in use by another Tierline process: PID ${holder.pid} (${holder.command}` +
        `${where ? `; ${where}` : ""}; since ${holder.since}). Stop that process first (Ctrl-C in its terminal, or kill ${holder.pid}), ` +
        "or use another TIERLINE_DATA_DIR.",
    );
  }
}

/** The start time of process `pid`, or null where it cannot be read (not Linux). */
export function processStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function running(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const start = processStartOf(holder.pid);
  return holder.processStart === null || start === null || start === holder.processStart;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LockHolder;
  } catch {
    return undefined;
  }
}

/** Who holds `dataDir` now, if a live process does. */
export function currentHolder(dataDir: string): LockHolder | undefined {
  const holder = readHolder(path.join(dataDir, LOCK_FILE));
  return holder && running(holder) ? holder : undefined;
}

export class DataDirLock {
  #released = false;
  readonly #onExit = () => this.release();

  private constructor(
    readonly dataDir: string,
    private holder: LockHolder,
  ) {
    process.once("exit", this.#onExit);
  }

  get file(): string {
    return path.join(this.dataDir, LOCK_FILE);
  }

  /**
   * Takes the lock on `dataDir` (created 0700 if missing; an existing one is set to 0700) or
   * throws DataDirLockedError naming the live holder.
   */
  static acquire(dataDir: string, command: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    const file = path.join(dataDir, LOCK_FILE);
    const holder: LockHolder = {
      pid: process.pid,
      processStart: processStartOf(process.pid),
      command,
      since: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const fd = openSync(file, "wx", 0o600);
        writeSync(fd, JSON.stringify(holder, null, 2) + "\n");
        closeSync(fd);
        return new DataDirLock(dataDir, holder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const current = readHolder(file);
      if (current && running(current)) throw new DataDirLockedError(dataDir, current);
      if (!current && existsSync(file)) {
        // Being written this instant by another starter: look again shortly.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        const again = readHolder(file);
        if (again && running(again)) throw new DataDirLockedError(dataDir, again);
      }
      // The holder is gone: move its lock aside (only one taker wins the rename) and retry.
      try {
        renameSync(file, `${file}.stale-${process.pid}`);
        rmSync(`${file}.stale-${process.pid}`, { force: true });
      } catch {
        /* another taker moved it first */
      }
    }
    const current = readHolder(file);
    if (current) throw new DataDirLockedError(dataDir, current);
    throw new Error(`could not take the lock ${file}`);
  }

  /** Adds where this instance listens, for the message a second instance shows. */
  describe(where: { api?: string; chain?: string; control?: string }): void {
    if (this.#released) return;
    this.holder = { ...this.holder, ...where };
    const temp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(temp, "w", 0o600);
    writeSync(fd, JSON.stringify(this.holder, null, 2) + "\n");
    closeSync(fd);
    renameSync(temp, this.file);
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    process.removeListener("exit", this.#onExit);
    const current = readHolder(this.file);
    if (current?.pid === process.pid && current.since === this.holder.since) rmSync(this.file, { force: true });
  }
}
