// The trust model says the service holds no key that can act as the admin or pause: it boots
// with its hot keys (and the deployer's, for a first deploy) and knows the governor and the
// pauser by address only. Off the local chain it refuses to deploy until both are configured
// as addresses, rather than deploying with keys of its own making.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, Wallet } from "ethers";
import { startAnvil, type AnvilProcess } from "../../helpers/anvil-process.js";
import { bootService } from "../../../server/boot.js";
import { KeyVault } from "../../../server/chain/keys.js";
import {
  loadOperatorKeys,
  loadServiceKeys,
  operatorKeysFile,
  OPERATOR_ROLES,
} from "../../../server/chain/operator-keys.js";
import { ConfigError, loadConfig } from "../../../server/config.js";
import { createLogger } from "../../../server/logging.js";

describe("The operator keys the service boots with", function () {
  this.timeout(60_000);
  let dataDir: string;

  beforeEach(function () {
    dataDir = mkdtempSync(path.join(tmpdir(), "tierline-keys-"));
  });

  afterEach(function () {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("loads the service's keys without decrypting the governor's or the pauser's: unreadable ones are known by address", function () {
    const vault = KeyVault.open(dataDir);
    const all = loadOperatorKeys(dataDir, vault, {}, { generateHot: true });
    const file = operatorKeysFile(dataDir);
    const stored = JSON.parse(readFileSync(file, "utf8"));
    // What a service holding only addresses cannot tell apart from a key kept elsewhere.
    for (const cold of ["governor", "pauser"]) stored.keys[cold].sealed = "not-a-sealed-key";
    writeFileSync(file, JSON.stringify(stored));

    const service = loadServiceKeys(dataDir, vault, {}, { generateHot: true });
    expect(Object.keys(service.held).sort()).to.deep.equal([
      "attester",
      "deployer",
      "keeper",
      "partyManager",
      "registrar",
    ]);
    for (const role of OPERATOR_ROLES) expect(service.addresses[role]).to.equal(new Wallet(all[role]).address);
    expect(() => loadOperatorKeys(dataDir, vault, {}, { generateHot: true })).to.throw();
  });

  describe("on a chain that is not the local one", function () {
    let anvil: AnvilProcess | undefined;
    let url: string;

    before(async function () {
      anvil = await startAnvil(["--chain-id", "424243"]);
      url = anvil.url;
    });

    after(async function () {
      await anvil?.stop();
    });

    it("refuses to deploy without TIERLINE_GOVERNOR and TIERLINE_PAUSER, and sends nothing", async function () {
      const hot = (n: number) => `0x${String(n).padStart(2, "0").repeat(32)}`;
      const config = loadConfig(
        {
          TIERLINE_DATA_DIR: dataDir,
          TIERLINE_RPC_URL: url,
          TIERLINE_REGISTRAR_KEY: hot(11),
          TIERLINE_KEEPER_KEY: hot(12),
          TIERLINE_PARTY_MANAGER_KEY: hot(13),
          TIERLINE_ATTESTER_KEY: hot(14),
          TIERLINE_KEEPER: "false",
        },
        dataDir,
      );
      const provider = new JsonRpcProvider(url);
      const before = await provider.getBlockNumber();

      let refusal: unknown;
      try {
        const booted = await bootService({ config, log: createLogger("silent"), deployIfMissing: true });
        await booted.close();
      } catch (error) {
        refusal = error;
      }
      expect(refusal).to.be.instanceOf(ConfigError);
      expect((refusal as Error).message).to.include("TIERLINE_GOVERNOR and TIERLINE_PAUSER");
      expect(await provider.getBlockNumber()).to.equal(before);
      provider.destroy();
    });
  });
});
