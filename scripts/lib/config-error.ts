// A bad setting stops an entry point with one line per variable, not a stack trace.
import { ConfigError } from "../../server/config.js";

export function exitOnConfigError<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Tierline cannot start: ${error.message}`);
    process.exit(1);
  }
}
