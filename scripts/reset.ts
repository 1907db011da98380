// `npm run reset`: starts afresh on purpose — deletes the data directory (database,
// chain state, custodial keys, credentials). Refuses while Tierline is running.
import "./lib/node-version.js";
import { existsSync, rmSync } from "node:fs";
import { JsonRpcProvider } from "ethers";
import { loadEndpoints } from "../server/config.js";
import { exitOnConfigError } from "./lib/config-error.js";

// Only where things are: reset needs no registrar key, whatever TIERLINE_RPC_URL says.
const config = exitOnConfigError(() => loadEndpoints());
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
if (!existsSync(config.dataDir)) {
  console.log(`nothing to reset: ${config.dataDir} does not exist`);
} else {
  rmSync(config.dataDir, { recursive: true, force: true });
  console.log(
    `deleted ${config.dataDir}: the next \`npm start\` begins a new chain, new contracts and new demo parties`,
  );
}
