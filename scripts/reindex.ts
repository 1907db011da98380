// `npm run reindex`: empties the index and rebuilds it from chain events alone, against
// the running chain (start `npm start` first, or set TIERLINE_RPC_URL).
import "./lib/node-version.js";
import { bootService } from "../server/boot.js";
import { loadConfig } from "../server/config.js";
import { createLogger, logFormatFor } from "../server/logging.js";
import { exitOnConfigError } from "./lib/config-error.js";

const config = exitOnConfigError(() => loadConfig());
const log = createLogger(config.LOG_LEVEL, process.stderr, logFormatFor(config.LOG_FORMAT, process.stderr));
const service = await bootService({
  config,
  log,
  deployIfMissing: false,
});
await service.ctx.indexer.stop();
// Progress on stderr, one line per step of about 5 %, so that a long rebuild shows it is moving.
let shown = -1;
const events = await service.ctx.indexer.rebuild(({ block, head, fromBlock, events: so }) => {
  const span = Math.max(1, head - fromBlock + 1);
  const percent = Math.min(100, Math.floor(((block - fromBlock + 1) * 100) / span));
  if (percent >= shown + 5 || block === head) {
    shown = percent;
    console.error(`reindex: ${String(percent).padStart(3)} %  block ${block} of ${head}, ${so} events`);
  }
});
console.log(`index rebuilt from ${events} chain events, up to block ${await service.ctx.indexer.indexedBlock()}`);
await service.close();
