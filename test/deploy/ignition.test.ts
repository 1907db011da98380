// The Hardhat Ignition modules (ignition/modules/Tierline.ts, the path to any EVM network) build
// exactly the wiring of the deploy library (server/chain/deploy-tierline.ts, used by `npm start`'s
// embedded chain): both are deployed onto one chain and every role holder (read back from the
// RoleGranted/RoleRevoked events, so an extra holder would show), every wired address, the
// timelock's delay and the local token's owner are compared, and asserted one by one. Once on
// Hardhat's in-process chain; once on a separate anvil process that mines a block every half second, with
// a chain id that is not the local one and random keys (no dev account holds anything).
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { Contract, JsonRpcProvider, parseEther, Wallet, ZeroHash, id, type Provider, type Signer } from "ethers";
import { artifacts, network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { deployTierline, type TierlineDeployment } from "../../server/chain/deploy-tierline.js";
import {
  deployTierlineWithIgnition,
  type IgnitionDeployOptions,
  type IgnitionRoles,
} from "../../scripts/deploy/ignition-deploy.js";
import { startAnvil, type AnvilProcess } from "../helpers/anvil-process.js";

const ROLE_NAMES = [
  "REGISTRAR_ROLE",
  "PAUSER_ROLE",
  "PARTY_MANAGER_ROLE",
  "ATTESTER_ROLE",
  "ARBITER_ROLE",
  "PROPOSER_ROLE",
  "EXECUTOR_ROLE",
  "CANCELLER_ROLE",
];
const roleName = new Map<string, string>([
  [ZeroHash, "DEFAULT_ADMIN_ROLE"],
  ...ROLE_NAMES.map((n) => [id(n), n] as const),
]);

const ACCESS_ABI = [
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
];
const WIRING_ABI = [
  ...ACCESS_ABI,
  "function parties() view returns (address)",
  "function registry() view returns (address)",
  "function certificates() view returns (address)",
  "function financing() view returns (address)",
  "function financingMarket() view returns (address)",
  "function settlementEscrow() view returns (address)",
  "function escrow() view returns (address)",
  "function dilution() view returns (address)",
  "function dilutionLedger() view returns (address)",
  "function settlementToken() view returns (address)",
  "function getMinDelay() view returns (uint256)",
  "function owner() view returns (address)",
  "function tierPolicy() view returns (uint8 maxTier, uint256 minPieceSize, uint16 maxSplitParts)",
];

/** What a deployment left behind, with every address replaced by who it is. */
interface WiringSnapshot {
  roles: Record<string, Record<string, string[]>>;
  wiring: Record<string, string>;
  timelockDelay: bigint;
  tierPolicy: { maxTier: bigint; minPieceSize: bigint; maxSplitParts: bigint };
  tokenOwner?: string;
}

async function snapshot(
  provider: Provider,
  deployment: TierlineDeployment,
  keys: Record<string, string>,
): Promise<WiringSnapshot> {
  const a = deployment.addresses;
  const who = new Map<string, string>(
    [...Object.entries(keys), ...Object.entries(a)].map(([name, address]) => [address.toLowerCase(), name]),
  );
  const label = (address: string) => who.get(address.toLowerCase()) ?? `unknown ${address}`;
  const at = (address: string) => new Contract(address, WIRING_ABI, provider);

  const roles: WiringSnapshot["roles"] = {};
  const administered = {
    partyRegistry: a.partyRegistry,
    receivableRegistry: a.receivableRegistry,
    certificateToken: a.certificateToken,
    financingMarket: a.financingMarket,
    dilutionLedger: a.dilutionLedger,
    timelock: a.timelock,
  };
  for (const [name, address] of Object.entries(administered)) {
    const contract = at(address);
    const events = [
      ...(await contract.queryFilter(contract.filters.RoleGranted!(), 0)),
      ...(await contract.queryFilter(contract.filters.RoleRevoked!(), 0)),
    ].sort((x, y) => x.blockNumber - y.blockNumber || x.index - y.index);
    const holders = new Map<string, Set<string>>();
    for (const event of events) {
      const parsed = contract.interface.parseLog(event)!;
      const role = roleName.get(parsed.args.role as string) ?? (parsed.args.role as string);
      const set = holders.get(role) ?? new Set<string>();
      if (parsed.name === "RoleGranted") set.add(label(parsed.args.account as string));
      else set.delete(label(parsed.args.account as string));
      holders.set(role, set);
    }
    roles[name] = Object.fromEntries(
      [...holders].filter(([, set]) => set.size > 0).map(([role, set]) => [role, [...set].sort()]),
    );
  }

  const read = async (address: string, getter: string) => label((await at(address).getFunction(getter)()) as string);
  const wiring: Record<string, string> = {};
  const getters: Array<[keyof typeof a, string[]]> = [
    ["receivableRegistry", ["parties", "certificates", "settlementEscrow", "settlementToken", "dilutionLedger"]],
    ["certificateToken", ["parties", "registry", "financingMarket", "settlementEscrow", "dilutionLedger"]],
    ["financingMarket", ["parties", "registry", "certificates", "escrow", "settlementToken", "dilutionLedger"]],
    ["settlementEscrow", ["registry", "certificates", "financing", "settlementToken"]],
    ["dilutionLedger", ["registry", "certificates", "financing"]],
    ["recourseLedger", ["registry", "certificates", "dilution", "escrow", "settlementToken"]],
  ];
  for (const [contract, names] of getters) {
    for (const getter of names) wiring[`${contract}.${getter}`] = await read(a[contract], getter);
  }
  const timelockDelay = (await at(a.timelock).getFunction("getMinDelay")()) as bigint;
  const [maxTier, minPieceSize, maxSplitParts] = (await at(a.certificateToken).getFunction("tierPolicy")()) as [
    bigint,
    bigint,
    bigint,
  ];
  const tierPolicy = { maxTier, minPieceSize, maxSplitParts };
  const tokenOwner = deployment.localToken ? await read(a.settlementToken, "owner") : undefined;
  return { roles, wiring, timelockDelay, tierPolicy, ...(tokenOwner === undefined ? {} : { tokenOwner }) };
}

/** The state both deployments must leave, written out: what the trust model asks for. */
function expectTheTrustModel(s: WiringSnapshot, delay: bigint): void {
  expect(s.roles).to.deep.equal({
    partyRegistry: { DEFAULT_ADMIN_ROLE: ["timelock"], PARTY_MANAGER_ROLE: ["partyManager"] },
    receivableRegistry: { DEFAULT_ADMIN_ROLE: ["timelock"], REGISTRAR_ROLE: ["registrar"], PAUSER_ROLE: ["pauser"] },
    certificateToken: { DEFAULT_ADMIN_ROLE: ["timelock"], PAUSER_ROLE: ["pauser"] },
    financingMarket: { DEFAULT_ADMIN_ROLE: ["timelock"], ATTESTER_ROLE: ["attester"], PAUSER_ROLE: ["pauser"] },
    dilutionLedger: { DEFAULT_ADMIN_ROLE: ["timelock"], ARBITER_ROLE: ["timelock"] },
    timelock: {
      DEFAULT_ADMIN_ROLE: ["timelock"],
      PROPOSER_ROLE: ["governor"],
      EXECUTOR_ROLE: ["governor"],
      CANCELLER_ROLE: ["governor"],
    },
  });
  expect(s.wiring).to.deep.equal({
    "receivableRegistry.parties": "partyRegistry",
    "receivableRegistry.certificates": "certificateToken",
    "receivableRegistry.settlementEscrow": "settlementEscrow",
    "receivableRegistry.settlementToken": "settlementToken",
    "certificateToken.parties": "partyRegistry",
    "certificateToken.registry": "receivableRegistry",
    "certificateToken.financingMarket": "financingMarket",
    "certificateToken.settlementEscrow": "settlementEscrow",
    "financingMarket.parties": "partyRegistry",
    "financingMarket.registry": "receivableRegistry",
    "financingMarket.certificates": "certificateToken",
    "financingMarket.escrow": "settlementEscrow",
    "financingMarket.settlementToken": "settlementToken",
    "settlementEscrow.registry": "receivableRegistry",
    "settlementEscrow.certificates": "certificateToken",
    "settlementEscrow.financing": "financingMarket",
    "settlementEscrow.settlementToken": "settlementToken",
    "receivableRegistry.dilutionLedger": "dilutionLedger",
    "certificateToken.dilutionLedger": "dilutionLedger",
    "financingMarket.dilutionLedger": "dilutionLedger",
    "dilutionLedger.registry": "receivableRegistry",
    "dilutionLedger.certificates": "certificateToken",
    "dilutionLedger.financing": "financingMarket",
    "recourseLedger.registry": "receivableRegistry",
    "recourseLedger.certificates": "certificateToken",
    "recourseLedger.dilution": "dilutionLedger",
    "recourseLedger.escrow": "settlementEscrow",
    "recourseLedger.settlementToken": "settlementToken",
  });
  expect(s.timelockDelay).to.equal(delay);
  // The contract's defaults, but no piece below one whole unit of the 6-decimal token (1.00).
  expect(s.tierPolicy).to.deep.equal({ maxTier: 10n, minPieceSize: 1_000_000n, maxSplitParts: 32n });
}

/** Deploys with the library (deployer `libraryDeployer`) and with Ignition (the connection's first account). */
async function deployBothWays(
  connection: NetworkConnection,
  provider: Provider,
  libraryDeployer: Signer,
  roles: IgnitionRoles,
  extra: Omit<IgnitionDeployOptions, "roles"> = {},
) {
  const keys = {
    governor: roles.governor,
    pauser: roles.pauser,
    registrar: roles.registrar,
    partyManager: roles.partyManager,
    attester: roles.attester,
  };
  const library = await deployTierline(libraryDeployer, (name) => artifacts.readArtifact(name), {
    settlementToken: extra.settlementToken,
    roles: { ...roles, registrars: [roles.registrar] },
  });
  const ignition = await deployTierlineWithIgnition(connection, { roles, ...extra });
  const [ignitionDeployer] = await connection.ethers.getSigners();
  return {
    library,
    ignition,
    fromLibrary: await snapshot(provider, library, { ...keys, deployer: await libraryDeployer.getAddress() }),
    fromIgnition: await snapshot(provider, ignition, { ...keys, deployer: ignitionDeployer!.address }),
  };
}

describe("deploying with Hardhat Ignition", function () {
  describe("on Hardhat's in-process chain", function () {
    it("wires every role, address and the timelock exactly as the deploy library does, local token included", async function () {
      const connection = await network.create();
      const [, libraryDeployer, governor, pauser, registrar, partyManager, attester] =
        await connection.ethers.getSigners();
      const roles: IgnitionRoles = {
        governor: governor!.address,
        pauser: pauser!.address,
        registrar: registrar!.address,
        partyManager: partyManager!.address,
        attester: attester!.address,
        timelockDelay: 0n,
        tokenOwner: registrar!.address,
      };
      const { library, ignition, fromLibrary, fromIgnition } = await deployBothWays(
        connection,
        connection.ethers.provider,
        libraryDeployer!,
        roles,
      );
      expect(ignition.addresses.receivableRegistry).to.not.equal(library.addresses.receivableRegistry);
      expect(ignition.localToken).to.equal(true);
      expectTheTrustModel(fromIgnition, 0n);
      expect(fromIgnition.tokenOwner).to.equal("registrar");
      expect(fromIgnition).to.deep.equal(fromLibrary);
    });

    it("settles in an existing ERC-20 when one is given, and deploys no token of its own", async function () {
      const connection = await network.create();
      const [deployer, libraryDeployer, governor, pauser, registrar, partyManager, attester] =
        await connection.ethers.getSigners();
      const token = await connection.ethers.deployContract("LocalSettlementToken", [deployer!.address]);
      const tokenAddress = await token.getAddress();
      const roles: IgnitionRoles = {
        governor: governor!.address,
        pauser: pauser!.address,
        registrar: registrar!.address,
        partyManager: partyManager!.address,
        attester: attester!.address,
        timelockDelay: 3_600n,
      };
      const { ignition, fromLibrary, fromIgnition } = await deployBothWays(
        connection,
        connection.ethers.provider,
        libraryDeployer!,
        roles,
        { settlementToken: tokenAddress },
      );
      expect(ignition.localToken).to.equal(false);
      expect(ignition.addresses.settlementToken).to.equal(tokenAddress);
      expectTheTrustModel(fromIgnition, 3_600n);
      expect(fromIgnition).to.deep.equal(fromLibrary);
    });

    it("refuses a role plan that gives two duties one key, before sending anything", async function () {
      const connection = await network.create();
      const [, governor, pauser, registrar, partyManager] = await connection.ethers.getSigners();
      const provider = connection.ethers.provider;
      const before = await provider.getBlockNumber();
      let refusal: unknown;
      try {
        await deployTierlineWithIgnition(connection, {
          roles: {
            governor: governor!.address,
            pauser: pauser!.address,
            registrar: registrar!.address,
            partyManager: partyManager!.address,
            attester: registrar!.address,
            timelockDelay: 0n,
          },
        });
      } catch (error) {
        refusal = error;
      }
      expect((refusal as Error | undefined)?.message).to.equal(
        "deployTierline: registrars[0] and attester must be different keys",
      );
      expect(await provider.getBlockNumber()).to.equal(before);
    });
  });

  describe("on a separate chain process with interval mining, a non-local chain id and random keys", function () {
    const CHAIN_ID = 424_242;
    const DEPLOYMENT_ID = `ignition-test-${process.pid}`;
    const journal = path.join(process.cwd(), "ignition", "deployments", DEPLOYMENT_ID);
    let anvil: AnvilProcess | undefined;
    let url: string;

    before(async function () {
      anvil = await startAnvil(["--chain-id", String(CHAIN_ID), "--block-time", "0.5"]);
      url = anvil.url;
    });

    after(async function () {
      await anvil?.stop();
      if (existsSync(journal)) rmSync(journal, { recursive: true });
    });

    it("deploys through the `tierline` network's configuration and wires what the library wires", async function () {
      const provider = new JsonRpcProvider(url, CHAIN_ID, {
        staticNetwork: true,
        batchMaxCount: 1,
        cacheTimeout: -1, // a nonce read 250 ms ago is stale when a block comes every 500 ms
      });
      provider.pollingInterval = 200;
      const wallets = Object.fromEntries(
        ["deployer", "libraryDeployer", "governor", "pauser", "registrar", "partyManager", "attester"].map((name) => [
          name,
          Wallet.createRandom().connect(provider),
        ]),
      );
      for (const wallet of [wallets.deployer!, wallets.libraryDeployer!]) {
        await provider.send("anvil_setBalance", [wallet.address, `0x${parseEther("100").toString(16)}`]);
      }
      // The project's `tierline` network (hardhat.config.ts), its config variables given here.
      const connection = await network.create({
        network: "tierline",
        override: { url, accounts: [wallets.deployer!.privateKey] },
      });
      const roles: IgnitionRoles = {
        governor: wallets.governor!.address,
        pauser: wallets.pauser!.address,
        registrar: wallets.registrar!.address,
        partyManager: wallets.partyManager!.address,
        attester: wallets.attester!.address,
        timelockDelay: 2n * 24n * 3600n,
        tokenOwner: wallets.registrar!.address,
      };
      const { ignition, fromLibrary, fromIgnition } = await deployBothWays(
        connection,
        provider,
        wallets.libraryDeployer!,
        roles,
        { deploymentId: DEPLOYMENT_ID, config: { requiredConfirmations: 1, blockPollingInterval: 200 } },
      );
      expect(ignition.chainId).to.equal(BigInt(CHAIN_ID));
      expect(existsSync(path.join(journal, "deployed_addresses.json"))).to.equal(true);
      expectTheTrustModel(fromIgnition, 2n * 24n * 3600n);
      expect(fromIgnition).to.deep.equal(fromLibrary);
      // Interval mining: the deployment took several blocks, none mined on demand.
      expect(await provider.getBlockNumber()).to.be.greaterThan(Number(ignition.deploymentBlock));
      await connection.close();
      provider.destroy();
    });
  });
});
