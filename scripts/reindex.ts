// `npm run reindex`: empties the index and rebuilds it from chain events alone, range by
// range (each range in its own transaction, with progress). It needs the data directory to
// itself: stop `npm start` first. With the embedded chain it starts the chain itself.
import "./lib/node-version.js";
import { bootService } from "../server/boot.js";
import { loadConfig } from "../server/config.js";
import { createLogger, logFormatFor } from "../server/logging.js";
import { DataDirLock, DataDirLockedError } from "./chain/data-dir-lock.js";
import { startEmbeddedChain, type EmbeddedChain } from "./chain/embedded-chain.js";
import { exitOnConfigError } from "./lib/config-error.js";
import { reindexProgress } from "./lib/progress.js";

const config = { ...exitOnConfigError(() => loadConfig()), TIERLINE_KEEPER: "false" as const };
const log = createLogger(config.LOG_LEVEL, process.stderr, logFormatFor(config.LOG_FORMAT, process.stderr));
let lock: DataDirLock;
try {
  lock = DataDirLock.acquire(config.dataDir, "npm run reindex");
} catch (error) {
  if (error instanceof DataDirLockedError) {
    console.error(`npm run reindex: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
let chain: EmbeddedChain | undefined;
if (config.embeddedChain) {
  chain = await startEmbeddedChain(config.dataDir, 0, {
    publicEndpoint: false,
    log: (message) => log.warn({ component: "chain" }, message),
  });
}
const started = performance.now();
try {
  const service = await bootService({
    config,
    log,
    rpcUrl: chain?.controlUrl,
    deployIfMissing: false,
  });
  await service.ctx.indexer.stop();
  const events = await service.ctx.indexer.rebuild(reindexProgress((line) => console.log(line)));
  console.log(
    `index rebuilt from ${events} chain events, up to block ${await service.ctx.indexer.indexedBlock()}, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await service.close();
} finally {
  await chain?.stop();
  lock.release();
}
