// Structured logs (pino), one JSON line per event. Child loggers carry the request id,
// receivable or certificate id and tx hash where there is one. In a terminal the lines are
// printed readably (pino-pretty); piped or collected, they stay JSON. At start-up the routine
// lines are held back and written to a file, so the banner is what a person sees.
import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { prettyFactory } from "pino-pretty";

export type { Logger };

export type LogFormat = "json" | "pretty";

/** pretty in a terminal, JSON otherwise (LOG_FORMAT overrides). */
export function logFormatFor(setting: string | undefined, stream: { isTTY?: boolean } = process.stdout): LogFormat {
  if (setting === "json" || setting === "pretty") return setting;
  return stream.isTTY ? "pretty" : "json";
}

export function createLogger(level: string, destination?: NodeJS.WritableStream, format: LogFormat = "json"): Logger {
  const out = destination ?? process.stdout;
  const stream = format === "pretty" ? prettyStream(out) : out;
  return pino(
    {
      level,
      base: { service: "tierline" },
      redact: { paths: ["req.headers.authorization", "apiKey", "privateKey", "*.apiKey"], censor: "[redacted]" },
    },
    stream as pino.DestinationStream,
  );
}

function prettyStream(out: NodeJS.WritableStream): Writable {
  const pretty = prettyFactory({ colorize: "isTTY" in out && Boolean(out.isTTY), ignore: "pid,hostname,service" });
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.write(pretty(chunk.toString()));
      done();
    },
  });
}

const WARN = 40;

/**
 * Sits between the logger and the terminal during start-up: warnings and errors pass at once,
 * routine lines wait. `release(file)` writes what waited to `file` (JSON lines) and lets
 * everything through from then on; it answers how many lines waited.
 */
export class StartupLogGate extends Writable {
  #held: string[] | undefined = [];

  constructor(private readonly out: NodeJS.WritableStream) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const line = chunk.toString();
    if (this.#held && levelOf(line) < WARN) this.#held.push(line);
    else this.out.write(line);
    done();
  }

  release(file: string): number {
    const held = this.#held ?? [];
    this.#held = undefined;
    if (held.length > 0) {
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, held.join(""));
    }
    return held.length;
  }
}

function levelOf(line: string): number {
  const match = /"level":(\d+)/.exec(line);
  return match ? Number(match[1]) : WARN;
}
