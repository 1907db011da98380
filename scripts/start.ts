// `npm start`: the embedded local chain, the contracts (deployed once per chain), the
// database, the demo cast on first start, the indexer and the API — then where to go next.
import "./lib/node-version.js";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { bootService, ChainMismatchError, ChainUnreachableError } from "../server/boot.js";
import { ConfigError, loadConfig, type Config } from "../server/config.js";
import { createApp } from "../server/api/app.js";
import { createLogger, logFormatFor, StartupLogGate } from "../server/logging.js";
import { firstStartPlan, seedDemo, writeCredentials, type Credentials } from "../server/seed.js";
import { DataDirLock, DataDirLockedError } from "./chain/data-dir-lock.js";
import { BLOCK_INTERVAL_MS, startEmbeddedChain, type EmbeddedChain } from "./chain/embedded-chain.js";

/** A path to show: relative when it lies under the working directory, absolute otherwise. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : path.resolve(file);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Tierline cannot start: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  // Routine start-up lines wait behind a gate and go to a file, so that the banner is what
  // is on screen; warnings and errors pass at once. From the banner on, everything passes.
  const gate = new StartupLogGate(process.stdout);
  const log = createLogger(config.LOG_LEVEL, gate, logFormatFor(config.LOG_FORMAT));

  // One data directory, one instance: held until this process ends.
  let lock: DataDirLock;
  try {
    lock = DataDirLock.acquire(config.dataDir, "npm start");
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      console.error(`Tierline cannot start: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }

  let chain: EmbeddedChain | undefined;
  if (config.embeddedChain) {
    console.log(
      `starting the embedded chain on 127.0.0.1:${config.TIERLINE_CHAIN_PORT} (state in ${shown(path.join(config.dataDir, "chain"))})…`,
    );
    try {
      chain = await startEmbeddedChain(config.dataDir, config.TIERLINE_CHAIN_PORT, {
        allowedOrigins: config.TIERLINE_CHAIN_ALLOWED_ORIGINS,
        log: (message) => log.warn({ component: "chain" }, message),
      });
    } catch (error) {
      console.error(`Tierline cannot start the embedded chain: ${(error as Error).message}`);
      lock.release();
      process.exit(1);
    }
  }
  const stopChain = async () => chain?.stop();

  let service;
  try {
    service = await bootService({
      config,
      log,
      rpcUrl: chain?.controlUrl,
      deployIfMissing: true,
    });
  } catch (error) {
    await stopChain();
    if (error instanceof ChainMismatchError) {
      console.error(`\n*** Tierline refuses to serve an index that disagrees with the chain ***\n${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof ConfigError) {
      console.error(`Tierline cannot start: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const { ctx } = service;
  const credentialsFile = path.join(config.dataDir, "credentials.json");
  let credentials: Credentials | undefined;
  if (service.newOperatorApiKey) {
    writeCredentials(config.dataDir, { operator: { apiKey: service.newOperatorApiKey }, parties: [] });
    const plan = firstStartPlan(config, ctx.chain.deployment.chainId);
    if (plan.seedDemo) {
      console.log("first start: creating the demo parties…");
      credentials = await seedDemo(ctx, service.newOperatorApiKey);
    } else {
      console.log(plan.instructions.join("\n"));
    }
  } else if (existsSync(credentialsFile)) {
    credentials = JSON.parse(readFileSync(credentialsFile, "utf8")) as Credentials;
  }

  const app = createApp(ctx);
  const server = app.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  }).catch(async (error: NodeJS.ErrnoException) => {
    await service.close();
    await stopChain();
    console.error(
      error.code === "EADDRINUSE" ? `port ${config.PORT} is in use: set PORT to another one` : error.message,
    );
    process.exit(1);
  });

  lock.describe({
    api: `http://${config.HOST}:${config.PORT}`,
    chain: chain?.url ?? config.rpcUrl,
    control: chain?.controlUrl,
  });
  const startupLog = path.join(config.dataDir, "startup.log");
  const held = gate.release(startupLog);
  printBanner(
    config,
    { chainId: ctx.chain.deployment.chainId, addresses: { ...ctx.chain.deployment.addresses } },
    credentials,
    credentialsFile,
    held > 0 ? `${held} start-up log lines in ${shown(startupLog)}` : undefined,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Tierline (the chain's state is saved; nothing is lost)…`);
    server.close();
    await service.close();
    await stopChain();
    lock.release();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

function printBanner(
  config: Config,
  deployment: { chainId: string; addresses: Record<string, string> },
  credentials: Credentials | undefined,
  credentialsFile: string,
  startupLogNote: string | undefined,
): void {
  const api = `http://${config.HOST}:${config.PORT}`;
  const rel = shown(credentialsFile);
  const lines = [
    "",
    "Tierline is running.",
    `  Web view   ${api}/   (sign in with an API key from the file below)`,
    `  API        ${api}`,
    `  API docs   ${api}/docs   (OpenAPI document: ${api}/openapi.json)`,
    `  Health     ${api}/health`,
    `  Chain      ${config.rpcUrl}   (chain id ${deployment.chainId}; standard Ethereum JSON-RPC for wallets and the financier CLI${
      config.embeddedChain ? `; blocks every ${BLOCK_INTERVAL_MS} ms while transactions wait` : ""
    })`,
    ...Object.entries(deployment.addresses).map(([name, address]) => `    ${name.padEnd(20)} ${address}`),
    `  Data       ${config.dataDir}`,
    `  API keys   ${rel}`,
    `  Metrics    ${api}/metrics   (readiness: ${api}/health/ready; platform: ${api}/v1/platform)`,
    ...(startupLogNote ? [`  Logs       ${startupLogNote}; from here on, one line per event`] : []),
  ];
  if (credentials) {
    lines.push("", "Demo parties:");
    for (const p of credentials.parties) {
      const key = p.keyFile ? `   own key: ${shown(p.keyFile)}` : "";
      lines.push(`  ${p.id.padEnd(18)} ${p.name.padEnd(34)} ${p.roles.join(",").padEnd(16)} ${p.address}${key}`);
    }
  }
  lines.push(
    "",
    "Next: `npm run demo` tells one receivable's whole story against this running Tierline;",
    "then the API docs, or the walk-through in README.md, e.g.",
    `  curl -s ${api}/health`,
    "Stop with Ctrl-C; `npm start` again finds everything as you left it; `npm run reset` starts afresh.",
    "",
  );
  console.log(lines.join("\n"));
}

main().catch((error: Error) => {
  // One line a person can act on; the stack only when asked for (LOG_LEVEL=debug).
  const cause = error.cause instanceof Error ? ` (${error.cause.message.split("\n")[0]})` : "";
  console.error(
    `Tierline failed to start: ${error.message.split("\n")[0]}${error instanceof ChainUnreachableError ? "" : cause}`,
  );
  if (process.env.LOG_LEVEL === "debug" || process.env.LOG_LEVEL === "trace") console.error(error);
  process.exit(1);
});
