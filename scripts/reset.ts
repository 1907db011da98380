// `npm run reset`: starts afresh on purpose — deletes the data directory (database,
// chain state, custodial keys, credentials). Refuses while Tierline is running.
import { existsSync, rmSync } from "node:fs";
import { JsonRpcProvider } from "ethers";
import { loadConfig } from "../server/config.js";

const config = loadConfig();
if (config.embeddedChain) {
  const provider = new JsonRpcProvider(config.rpcUrl, undefined, { staticNetwork: true });
  const running = await provider.send("eth_chainId", []).then(
    () => true,
    () => false,
  );
  provider.destroy();
  if (running) {
    console.error(`the embedded chain still answers on ${config.rpcUrl}: stop \`npm start\` first`);
    process.exit(1);
  }
}
if (config.TIERLINE_DATABASE_URL) {
  // Other replicas may share it, and it may hold more than this data directory: never drop it here.
  console.log(
    "TIERLINE_DATABASE_URL is set: the PostgreSQL database is not touched. Drop and create it again yourself to start afresh.",
  );
}
if (!existsSync(config.dataDir)) {
  console.log(`nothing to reset: ${config.dataDir} does not exist`);
} else {
  rmSync(config.dataDir, { recursive: true, force: true });
  console.log(
    `deleted ${config.dataDir}: the next \`npm start\` begins a new chain, new contracts and new demo parties`,
  );
}
