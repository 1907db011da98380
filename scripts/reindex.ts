// `npm run reindex`: empties the index and rebuilds it from chain events alone, against
// the running chain (start `npm start` first, or set TIERLINE_RPC_URL).
import "./lib/node-version.js";
import { bootService } from "../server/boot.js";
import { loadConfig } from "../server/config.js";
import { createLogger } from "../server/logging.js";
import { EMBEDDED_REGISTRAR_KEY } from "./chain/embedded-chain.js";
import { exitOnConfigError } from "./lib/config-error.js";

const config = exitOnConfigError(() => loadConfig());
const log = createLogger(config.LOG_LEVEL);
const service = await bootService({
  config,
  log,
  registrarKey: config.TIERLINE_REGISTRAR_KEY ?? EMBEDDED_REGISTRAR_KEY,
  deployIfMissing: false,
});
await service.ctx.indexer.stop();
const events = await service.ctx.indexer.rebuild();
console.log(`index rebuilt from ${events} chain events, up to block ${await service.ctx.indexer.indexedBlock()}`);
await service.close();
