// `npm run deploy:network` writes the deployed addresses to a file; `npm start` must find them
// there (TIERLINE_CONTRACTS_FILE, or <data dir>/contracts.json), and a variable set by hand wins.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ConfigError, loadConfig, parseContractsVariable } from "../../server/config.js";

const contracts = (registry: string) => ({
  settlementToken: "0x" + "11".repeat(20),
  partyRegistry: "0x" + "22".repeat(20),
  receivableRegistry: registry,
  certificateToken: "0x" + "44".repeat(20),
  financingMarket: "0x" + "55".repeat(20),
  settlementEscrow: "0x" + "66".repeat(20),
  timelock: "0x" + "77".repeat(20),
  deploymentBlock: 19,
  chainId: 4243,
});
const FROM_FILE = "0x" + "33".repeat(20);
const BY_HAND = "0x" + "99".repeat(20);

describe("the deployed contracts' file", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-contracts-"));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });
  const registryOf = (env: NodeJS.ProcessEnv) =>
    parseContractsVariable(loadConfig(env, dir).TIERLINE_CONTRACTS!).receivableRegistry;

  describe("when deploy:network wrote <data dir>/contracts.json", function () {
    it("is read by a start with that data directory, chain id included", function () {
      writeFileSync(path.join(dir, "contracts.json"), JSON.stringify(contracts(FROM_FILE)));
      const config = loadConfig({ TIERLINE_DATA_DIR: dir }, dir);
      expect(parseContractsVariable(config.TIERLINE_CONTRACTS!)).to.deep.equal(contracts(FROM_FILE));
    });

    it("accepts the dilution and recourse ledgers that deployments write since issue 16", function () {
      const withLedgers = {
        ...contracts(FROM_FILE),
        dilutionLedger: "0x" + "88".repeat(20),
        recourseLedger: "0x" + "aa".repeat(20),
      };
      writeFileSync(path.join(dir, "contracts.json"), JSON.stringify(withLedgers));
      const config = loadConfig({ TIERLINE_DATA_DIR: dir }, dir);
      expect(parseContractsVariable(config.TIERLINE_CONTRACTS!)).to.deep.equal(withLedgers);
    });

    it("gives way to TIERLINE_CONTRACTS set by hand", function () {
      writeFileSync(path.join(dir, "contracts.json"), JSON.stringify(contracts(FROM_FILE)));
      const env = { TIERLINE_DATA_DIR: dir, TIERLINE_CONTRACTS: JSON.stringify(contracts(BY_HAND)) };
      expect(registryOf(env)).to.equal(BY_HAND);
    });
  });

  describe("when TIERLINE_CONTRACTS_FILE names the file", function () {
    it("reads it, relative to the working directory", function () {
      writeFileSync(path.join(dir, "shared.json"), JSON.stringify(contracts(FROM_FILE)));
      expect(
        registryOf({ TIERLINE_DATA_DIR: path.join(dir, "replica-1"), TIERLINE_CONTRACTS_FILE: "shared.json" }),
      ).to.equal(FROM_FILE);
    });

    it("refuses to start when the file is not there", function () {
      expect(() => loadConfig({ TIERLINE_CONTRACTS_FILE: "missing.json" }, dir))
        .to.throw(ConfigError)
        .with.property("problems")
        .that.deep.equals([`TIERLINE_CONTRACTS_FILE: no file at ${path.join(dir, "missing.json")}`]);
    });
  });

  describe("when there is no file and no variable", function () {
    it("leaves the contracts unset (deploy on first start, as before)", function () {
      expect(loadConfig({ TIERLINE_DATA_DIR: dir }, dir).TIERLINE_CONTRACTS).to.equal(undefined);
    });
  });
});
