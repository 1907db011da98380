// Hardhat Ignition modules: the deployment of Tierline to any EVM network (`npm run
// deploy:network`, or `npx hardhat ignition deploy ignition/modules/Tierline.ts`). They build
// exactly the wiring of server/chain/deploy-tierline.ts, which the embedded chain still uses;
// test/deploy/ignition.test.ts deploys both ways and compares every role holder, every wired
// address and the timelock. The deployer wires everything, hands each role to its own key,
// makes a TierlineTimelock the admin of every contract and renounces every power it had.
//
// Parameters (module id "Tierline", or "TierlineWithLocalToken"): governor, pauser, registrar,
// partyManager, attester (addresses, all different, none the deployer: the deploy script checks
// that before anything is sent), timelockDelay (seconds; default two days, 0 only on chain
// 31337), settlementToken (Tierline only: an existing ERC-20), minPieceSize (the certificate
// token's smallest split piece, in the token's smallest unit: one whole unit, 10**decimals;
// required with an existing token, where scripts/deploy/ignition-deploy.ts reads its decimals;
// 10**6 for the local 6-decimal token), tokenOwner (TierlineWithLocalToken only: the local
// token's minter; default the deployer).
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { ArgumentType, Future, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import { id, ZeroHash } from "ethers";

/** One whole unit (1.00) of the local 6-decimal token: its minimum piece size. */
export const LOCAL_TOKEN_MIN_PIECE_SIZE = 10n ** 6n;

/** The timelock delay when none is given: two days, as `npm start` deploys off the local chain. */
export const DEFAULT_TIMELOCK_DELAY_SECONDS = 2n * 24n * 3600n;

/** CertificateToken's own tier policy defaults, kept as they are (only the piece size changes). */
export const DEFAULT_MAX_TIER = 10;
export const DEFAULT_MAX_SPLIT_PARTS = 32;

const ROLE = {
  DEFAULT_ADMIN_ROLE: ZeroHash,
  REGISTRAR_ROLE: id("REGISTRAR_ROLE"),
  PAUSER_ROLE: id("PAUSER_ROLE"),
  PARTY_MANAGER_ROLE: id("PARTY_MANAGER_ROLE"),
  ATTESTER_ROLE: id("ATTESTER_ROLE"),
  ARBITER_ROLE: id("ARBITER_ROLE"),
} as const;

/**
 * The Tierline contracts over `settlementToken`, wired and handed over. `first` is what must be
 * mined before the first Tierline contract (the local token), so the deployment block is theirs.
 */
function deployContracts(
  m: IgnitionModuleBuilder,
  settlementToken: ArgumentType,
  first: Future[],
  minPieceSize: ArgumentType,
) {
  const deployer = m.getAccount(0); // admin only until the hand-over at the end
  const governor = m.getParameter<string>("governor");
  const pauser = m.getParameter<string>("pauser");
  const registrar = m.getParameter<string>("registrar");
  const partyManager = m.getParameter<string>("partyManager");
  const attester = m.getParameter<string>("attester");
  const timelockDelay = m.getParameter<bigint>("timelockDelay", DEFAULT_TIMELOCK_DELAY_SECONDS);

  const partyRegistry = m.contract("PartyRegistry", [deployer], { after: first });
  const receivableRegistry = m.contract("ReceivableRegistry", [deployer, partyRegistry, settlementToken]);
  const certificateToken = m.contract("CertificateToken", [deployer, partyRegistry, receivableRegistry]);
  const financingMarket = m.contract("FinancingMarket", [
    deployer,
    certificateToken,
    receivableRegistry,
    partyRegistry,
  ]);
  const settlementEscrow = m.contract("SettlementEscrow", [receivableRegistry, certificateToken, financingMarket]);
  // Dilution and recourse (issue 16): new contracts beside the four, wired in below.
  const dilutionLedger = m.contract("DilutionLedger", [
    deployer,
    receivableRegistry,
    certificateToken,
    financingMarket,
  ]);
  const recourseLedger = m.contract("RecourseLedger", [
    receivableRegistry,
    certificateToken,
    dilutionLedger,
    settlementEscrow,
  ]);

  // Wiring: each contract learns the others it trusts, once and for good.
  const setup: Future[] = [
    m.call(receivableRegistry, "wire", [certificateToken, settlementEscrow]),
    m.call(financingMarket, "wireEscrow", [settlementEscrow]),
    m.call(certificateToken, "wire", [financingMarket, settlementEscrow]),
    m.call(receivableRegistry, "wireDilution", [dilutionLedger]),
    m.call(certificateToken, "wireDilution", [dilutionLedger]),
    m.call(financingMarket, "wireDilution", [dilutionLedger]),
    // The tier policy's defaults, but no piece below one whole unit of the token (issue 18).
    m.call(certificateToken, "setTierPolicy", [DEFAULT_MAX_TIER, minPieceSize, DEFAULT_MAX_SPLIT_PARTS]),
  ];

  // Duties: each role to its own key.
  setup.push(
    m.call(receivableRegistry, "grantRole", [ROLE.REGISTRAR_ROLE, registrar], {
      id: "ReceivableRegistry_grantRegistrar",
    }),
    m.call(partyRegistry, "grantRole", [ROLE.PARTY_MANAGER_ROLE, partyManager], {
      id: "PartyRegistry_grantPartyManager",
    }),
    m.call(financingMarket, "grantRole", [ROLE.ATTESTER_ROLE, attester], { id: "FinancingMarket_grantAttester" }),
  );
  const pausable = [
    ["ReceivableRegistry", receivableRegistry],
    ["CertificateToken", certificateToken],
    ["FinancingMarket", financingMarket],
  ] as const;
  for (const [name, contract] of pausable) {
    setup.push(m.call(contract, "grantRole", [ROLE.PAUSER_ROLE, pauser], { id: `${name}_grantPauser` }));
  }

  // The admin: a timelock the governor proposes to and executes through, after the delay.
  const timelock = m.contract("TierlineTimelock", [timelockDelay, [governor], [governor]]);
  // A credit note the seller did not co-sign is decided only through the timelock (in public, delayed).
  setup.push(m.call(dilutionLedger, "grantRole", [ROLE.ARBITER_ROLE, timelock], { id: "DilutionLedger_grantArbiter" }));
  const administered = [
    ["PartyRegistry", partyRegistry, ROLE.PARTY_MANAGER_ROLE],
    ["ReceivableRegistry", receivableRegistry, ROLE.PAUSER_ROLE],
    ["CertificateToken", certificateToken, ROLE.PAUSER_ROLE],
    ["FinancingMarket", financingMarket, ROLE.PAUSER_ROLE],
    ["DilutionLedger", dilutionLedger, undefined],
  ] as const;
  for (const [name, contract] of administered) {
    setup.push(
      m.call(contract, "grantRole", [ROLE.DEFAULT_ADMIN_ROLE, timelock], { id: `${name}_grantAdminToTimelock` }),
    );
  }
  // The deployer keeps nothing: only once everything above is mined, its operational role
  // first, its admin role last (renouncing needs no role, so the order only keeps a trail).
  for (const [name, contract, operationalRole] of administered) {
    // The dilution ledger gave the deployer no operational role: only its admin role to renounce.
    const operational =
      operationalRole === undefined
        ? []
        : [
            m.call(contract, "renounceRole", [operationalRole, deployer], {
              id: `${name}_renounceOperationalRole`,
              after: setup,
            }),
          ];
    m.call(contract, "renounceRole", [ROLE.DEFAULT_ADMIN_ROLE, deployer], {
      id: `${name}_renounceAdminRole`,
      after: operational.length === 0 ? setup : operational,
    });
  }

  return {
    partyRegistry,
    receivableRegistry,
    certificateToken,
    financingMarket,
    settlementEscrow,
    dilutionLedger,
    recourseLedger,
    timelock,
  };
}

/** Tierline over an existing ERC-20 (parameter `settlementToken`): the path for a real network. */
const TierlineModule = buildModule("Tierline", (m) => {
  const settlementToken = m.getParameter<string>("settlementToken");
  return deployContracts(m, settlementToken, [], m.getParameter<bigint>("minPieceSize"));
});

/** Tierline with a LocalSettlementToken (tUSD) of its own, for test networks. */
export const TierlineWithLocalTokenModule = buildModule("TierlineWithLocalToken", (m) => {
  const settlementToken = m.contract("LocalSettlementToken", [m.getAccount(0)]);
  const minPieceSize = m.getParameter<bigint>("minPieceSize", LOCAL_TOKEN_MIN_PIECE_SIZE);
  const contracts = deployContracts(m, settlementToken, [settlementToken], minPieceSize);
  // The minter, after the deployer's hand-over (a no-op when it is the deployer itself).
  m.call(settlementToken, "transferOwnership", [m.getParameter("tokenOwner", m.getAccount(0))], {
    after: [contracts.timelock],
  });
  return { settlementToken, ...contracts };
});

export default TierlineModule;
