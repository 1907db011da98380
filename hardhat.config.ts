// Hardhat 3 configuration. The compiler is the npm `solc` package (soljson.js),
// never a download: these machines reach only the npm registry.
import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;

// Fuzz and invariant run counts. `npm test` uses "default"; `npm run test:deep`
// selects "deep" (see package.json). A fixed seed keeps CI reproducible.
const FUZZ_SEED = "0x7469657231696e65"; // "tier1ine"

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    version: solcVersion,
    path: require.resolve("solc/soljson.js"),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      // Hardhat's built-in table stops at 0.8.34, so name the EVM explicitly.
      evmVersion: "osaka",
    },
  },
  test: {
    solidity: {
      profiles: {
        default: {
          fuzz: { runs: 1_000, seed: FUZZ_SEED },
          invariant: { runs: 1_000, depth: 16, failOnRevert: false },
        },
        deep: {
          fuzz: { runs: 10_000, seed: FUZZ_SEED },
          invariant: { runs: 1_000, depth: 32, failOnRevert: false },
        },
      },
    },
    mocha: { timeout: 120_000 },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    // Any EVM network Tierline is deployed to (`npm run deploy:network`, Ignition). Both values
    // are read only when this network is used: from the environment, or from Hardhat's
    // encrypted keystore (`npx hardhat keystore set TIERLINE_DEPLOYER_KEY`).
    tierline: {
      type: "http",
      chainType: "l1",
      url: configVariable("TIERLINE_RPC_URL"),
      accounts: [configVariable("TIERLINE_DEPLOYER_KEY")],
    },
  },
});
