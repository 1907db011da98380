// Structured logs (pino), one JSON line per event. Child loggers carry the request id,
// receivable or certificate id and tx hash where there is one.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "tierline" },
      redact: { paths: ["req.headers.authorization", "apiKey", "privateKey", "*.apiKey"], censor: "[redacted]" },
    },
    destination as pino.DestinationStream | undefined,
  );
}
