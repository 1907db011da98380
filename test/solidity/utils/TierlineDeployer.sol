// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// The Solidity-test twin of scripts/deploy/deploy-tierline.ts and test/helpers/fixture.ts:
// deploys and wires the contracts the same way (the dilution and recourse ledgers included),
// registers a cast of parties whose keys the tests hold (so the debtor can sign its EIP-712
// confirmation with vm.sign), and funds
// the payers. `TierlineSigning` and `TierlineRandom` carry no creation code, so a handler
// can use them without growing past the contract size limit.

import {vm} from "./Vm.sol";
import {LocalSettlementToken} from "../../../contracts/LocalSettlementToken.sol";
import {PartyRegistry} from "../../../contracts/PartyRegistry.sol";
import {ReceivableRegistry} from "../../../contracts/ReceivableRegistry.sol";
import {CertificateToken} from "../../../contracts/CertificateToken.sol";
import {FinancingMarket} from "../../../contracts/FinancingMarket.sol";
import {SettlementEscrow} from "../../../contracts/SettlementEscrow.sol";
import {DilutionLedger} from "../../../contracts/DilutionLedger.sol";
import {RecourseLedger} from "../../../contracts/RecourseLedger.sol";
import {IReceivableRegistry} from "../../../contracts/interfaces/IReceivableRegistry.sol";
import {IPartyRegistry} from "../../../contracts/interfaces/IPartyRegistry.sol";
import {ICertificateToken} from "../../../contracts/interfaces/ICertificateToken.sol";

/// One deployed, wired Tierline.
struct Tierline {
    LocalSettlementToken token;
    PartyRegistry parties;
    ReceivableRegistry registry;
    CertificateToken certificates;
    FinancingMarket financing;
    SettlementEscrow escrow;
    DilutionLedger dilution;
    RecourseLedger recourse;
}

/// The debtor's EIP-712 confirmation, computed here from the standard rather than read from
/// the registry, so a test that signs with it also checks the registry's digest.
library TierlineSigning {
    bytes32 internal constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 internal constant CONFIRMATION_TYPEHASH = keccak256(
        "ReceivableConfirmation(bytes32 receivableId,bytes32 documentHash,address seller,address debtor,uint256 faceValue,address settlementToken,uint64 dueDate,uint256 nonce,uint256 deadline)"
    );
    /// secp256k1 group order: s and n - s are the two signatures of one message.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function domainSeparator(uint256 chainId, address registry) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(DOMAIN_TYPEHASH, keccak256("Tierline ReceivableRegistry"), keccak256("1"), chainId, registry)
            );
    }

    function digest(
        uint256 chainId,
        address registry,
        address settlementToken,
        bytes32 receivableId,
        IReceivableRegistry.ReceivableTerms memory terms,
        uint256 nonce,
        uint256 deadline
    ) internal pure returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                CONFIRMATION_TYPEHASH,
                receivableId,
                terms.documentHash,
                terms.seller,
                terms.debtor,
                terms.faceValue,
                settlementToken,
                terms.dueDate,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(chainId, registry), structHash));
    }

    /// 65-byte r ‖ s ‖ v, as wallets produce.
    function sign(uint256 privateKey, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, hash);
        return abi.encodePacked(r, s, v);
    }

    /// The debtor `debtorKey` confirms `terms` for `registry` on the current chain.
    function confirm(
        ReceivableRegistry registry,
        uint256 debtorKey,
        IReceivableRegistry.ReceivableTerms memory terms,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (IReceivableRegistry.DebtorConfirmation memory) {
        bytes32 receivableId = registry.receivableIdOf(terms);
        bytes32 hash = digest(
            block.chainid,
            address(registry),
            registry.settlementToken(),
            receivableId,
            terms,
            nonce,
            deadline
        );
        return
            IReceivableRegistry.DebtorConfirmation({
                nonce: nonce,
                deadline: deadline,
                signature: sign(debtorKey, hash)
            });
    }

    bytes32 internal constant ALIAS_CONSENT_TYPEHASH = keccak256(
        "AliasConsent(address account,bytes32 legalIdHash,uint256 nonce,uint256 deadline)"
    );

    /// The party `approverKey` (an address of `legalIdHash`) consents to `account` joining it,
    /// signed over the digest computed here from the standard, not read from the registry.
    function aliasConsent(
        PartyRegistry parties,
        uint256 approverKey,
        address account,
        bytes32 legalIdHash,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (IPartyRegistry.AliasConsent memory) {
        bytes32 domain = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("Tierline PartyRegistry"),
                keccak256("1"),
                block.chainid,
                address(parties)
            )
        );
        bytes32 structHash = keccak256(abi.encode(ALIAS_CONSENT_TYPEHASH, account, legalIdHash, nonce, deadline));
        bytes32 hash = keccak256(abi.encodePacked("\x19\x01", domain, structHash));
        return
            IPartyRegistry.AliasConsent({
                approver: vm.addr(approverKey),
                nonce: nonce,
                deadline: deadline,
                signature: sign(approverKey, hash)
            });
    }
}

/// Deterministic randomness from a fuzz seed, and forge-style bounding without forge-std.
library TierlineRandom {
    function next(uint256 seed) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed)));
    }

    /// Maps `x` into [min, max] (inclusive).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        uint256 width = max - min;
        if (width == type(uint256).max) return x;
        return min + (x % (width + 1));
    }

    /// `count` positive amounts that add up to exactly `total` (needs total >= count), shaped by `seed`.
    function partition(uint256 total, uint256 count, uint256 seed) internal pure returns (uint256[] memory amounts) {
        require(count != 0 && total >= count, "partition: total < count");
        amounts = new uint256[](count);
        uint256 remaining = total;
        for (uint256 i; i + 1 < count; ++i) {
            seed = next(seed);
            // Leave at least one unit for each part still to come.
            uint256 maxHere = remaining - (count - 1 - i);
            // Mix small, large and even cuts so both dust-sized and dominant pieces appear.
            uint256 mode = seed % 4;
            uint256 amount;
            if (mode == 0) amount = 1 + ((seed >> 8) % (maxHere < 16 ? maxHere : 16));
            else if (mode == 1) amount = maxHere;
            else if (mode == 2) amount = remaining / (count - i);
            else amount = 1 + ((seed >> 8) % maxHere);
            if (amount == 0) amount = 1;
            if (amount > maxHere) amount = maxHere;
            amounts[i] = amount;
            remaining -= amount;
        }
        amounts[count - 1] = remaining;
    }
}

/// Base of every Tierline Solidity test: deploys the world in `setUp` via {deployTierline}.
abstract contract TierlineDeployer {
    // Keys the tests sign with. Derived from labels so they are stable and readable.
    uint256 internal constant DEBTOR_KEY = uint256(keccak256("tierline: core-enterprise"));
    uint256 internal constant TIER1_KEY = uint256(keccak256("tierline: tier1"));
    uint256 internal constant TIER2_KEY = uint256(keccak256("tierline: tier2"));
    uint256 internal constant TIER3_KEY = uint256(keccak256("tierline: tier3"));
    uint256 internal constant FINANCIER_KEY = uint256(keccak256("tierline: bank"));
    uint256 internal constant FINANCIER2_KEY = uint256(keccak256("tierline: factor"));
    uint256 internal constant OUTSIDER_KEY = uint256(keccak256("tierline: outsider"));
    uint256 internal constant AUDITOR_KEY = uint256(keccak256("tierline: audit-firm"));

    uint256 internal constant ONE = 1_000_000; // one tUSD in smallest units (6 decimals)
    uint256 internal constant FUNDS = 1_000_000_000 * ONE; // minted to every payer
    uint256 internal constant LOCAL_CHAIN_ID = 31337;

    Tierline internal world;
    LocalSettlementToken internal token;
    PartyRegistry internal parties;
    ReceivableRegistry internal registry;
    CertificateToken internal certificates;
    FinancingMarket internal financing;
    SettlementEscrow internal escrow;
    DilutionLedger internal dilution;
    RecourseLedger internal recourse;

    address internal operator; // this test contract: admin and first registrar
    address internal debtor;
    address internal tier1;
    address internal tier2;
    address internal tier3;
    address internal financier;
    address internal financier2;
    address internal outsider; // never registered as a party
    address internal auditor; // registered and active, but may not hold certificates

    uint256 internal invoiceCounter;
    uint256 internal nonceCounter;

    /// Deploys, wires and populates the default world, like deployWorld() in fixture.ts.
    function deployTierline() internal {
        if (block.chainid != LOCAL_CHAIN_ID) vm.chainId(LOCAL_CHAIN_ID); // the local token mints only here
        if (block.timestamp < 1_700_000_000) vm.warp(1_700_000_000); // a realistic clock
        operator = address(this);
        debtor = vm.addr(DEBTOR_KEY);
        tier1 = vm.addr(TIER1_KEY);
        tier2 = vm.addr(TIER2_KEY);
        tier3 = vm.addr(TIER3_KEY);
        financier = vm.addr(FINANCIER_KEY);
        financier2 = vm.addr(FINANCIER2_KEY);
        outsider = vm.addr(OUTSIDER_KEY);
        auditor = vm.addr(AUDITOR_KEY);

        world = deployWorld();
        token = world.token;
        parties = world.parties;
        registry = world.registry;
        certificates = world.certificates;
        financing = world.financing;
        escrow = world.escrow;
        dilution = world.dilution;
        recourse = world.recourse;
    }

    /// A fresh, independent world with the same cast (for cross-contract replay tests).
    function deployWorld() internal returns (Tierline memory t) {
        address admin = address(this);
        t.token = new LocalSettlementToken(admin);
        t.parties = new PartyRegistry(admin);
        t.registry = new ReceivableRegistry(admin, t.parties, address(t.token));
        t.certificates = new CertificateToken(admin, t.parties, t.registry);
        t.financing = new FinancingMarket(admin, t.certificates, t.registry, t.parties);
        t.escrow = new SettlementEscrow(t.registry, t.certificates, t.financing);
        t.dilution = new DilutionLedger(admin, t.registry, t.certificates, t.financing);
        t.recourse = new RecourseLedger(t.registry, t.certificates, t.dilution, t.escrow);

        // Wiring, in the deploy script's order.
        t.registry.wire(address(t.certificates), address(t.escrow));
        t.financing.wireEscrow(address(t.escrow));
        t.certificates.wire(address(t.financing), address(t.escrow));
        t.registry.wireDilution(address(t.dilution));
        t.certificates.wireDilution(address(t.dilution));
        t.financing.wireDilution(address(t.dilution));
        t.registry.grantRole(t.registry.REGISTRAR_ROLE(), admin);

        t.parties.registerParty(debtor, legalId("core-enterprise"), true);
        t.parties.registerParty(tier1, legalId("tier1"), true);
        t.parties.registerParty(tier2, legalId("tier2"), true);
        t.parties.registerParty(tier3, legalId("tier3"), true);
        t.parties.registerParty(financier, legalId("bank"), true);
        t.parties.registerParty(financier2, legalId("factor"), true);
        t.parties.registerParty(auditor, legalId("audit-firm"), false);

        address[6] memory payers = [debtor, tier1, tier2, tier3, financier, financier2];
        for (uint256 i; i < payers.length; ++i) {
            t.token.mint(payers[i], FUNDS);
            vm.startPrank(payers[i]);
            t.token.approve(address(t.escrow), type(uint256).max);
            t.token.approve(address(t.financing), type(uint256).max);
            t.token.approve(address(t.recourse), type(uint256).max);
            vm.stopPrank();
        }
    }

    /// The legal id hash of a party name, as legalId() in fixture.ts.
    function legalId(string memory name) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("LEI:", name));
    }

    /// Parties that can hold certificates (everyone registered but the debtor).
    /// The party after `holder` in {holders}, wrapping around (tier1 for anyone outside the cast).
    function nextHolder(address holder) internal view returns (address) {
        address[] memory cast = holders();
        for (uint256 i; i < cast.length; ++i) {
            if (cast[i] == holder) return cast[(i + 1) % cast.length];
        }
        return cast[0];
    }

    function holders() internal view returns (address[] memory list) {
        list = new address[](5);
        list[0] = tier1;
        list[1] = tier2;
        list[2] = tier3;
        list[3] = financier;
        list[4] = financier2;
    }

    function termsFor(
        address seller,
        address debtor_,
        bytes32 invoiceNumberHash,
        uint256 faceValue,
        uint64 dueDate
    ) internal pure returns (IReceivableRegistry.ReceivableTerms memory) {
        return
            IReceivableRegistry.ReceivableTerms({
                seller: seller,
                debtor: debtor_,
                invoiceNumberHash: invoiceNumberHash,
                documentHash: keccak256(abi.encode("documents of", invoiceNumberHash, faceValue)),
                faceValue: faceValue,
                dueDate: dueDate
            });
    }

    /// The default debtor's confirmation of `terms` on the default registry, valid for an hour.
    function confirmByDebtor(
        IReceivableRegistry.ReceivableTerms memory terms
    ) internal returns (IReceivableRegistry.DebtorConfirmation memory) {
        return TierlineSigning.confirm(registry, DEBTOR_KEY, terms, ++nonceCounter, block.timestamp + 1 hours);
    }

    /// Registers a fresh invoice of `faceValue` from `seller` on the debtor, due in `tenor` seconds.
    function registerReceivable(
        address seller,
        uint256 faceValue,
        uint256 tenor
    ) internal returns (bytes32 receivableId, uint256 rootId) {
        IReceivableRegistry.ReceivableTerms memory terms = termsFor(
            seller,
            debtor,
            keccak256(abi.encode("INV-", ++invoiceCounter)),
            faceValue,
            uint64(block.timestamp + tenor)
        );
        IReceivableRegistry.DebtorConfirmation memory confirmation = confirmByDebtor(terms);
        (receivableId, rootId) = registry.register(terms, confirmation);
    }

    /// A random one-piece vector kept by the holder would change nothing (SplitChangesNothing),
    /// so its piece goes to the next party in the cast instead. `recipients` is updated in
    /// place, so a caller checking the children against it checks what was really sent.
    function passOnALoneKeptPiece(address holder, address[] memory recipients) internal view {
        if (recipients.length == 1 && recipients[0] == holder) recipients[0] = nextHolder(holder);
    }

    /// The holder of `certificateId` splits it into `amounts` for `recipients` (same length),
    /// a lone piece passed on (see {passOnALoneKeptPiece}).
    function splitAs(
        uint256 certificateId,
        address[] memory recipients,
        uint256[] memory amounts
    ) internal returns (uint256[] memory childIds) {
        address holder = certificates.ownerOf(certificateId);
        passOnALoneKeptPiece(holder, recipients);
        ICertificateToken.SplitPart[] memory parts = new ICertificateToken.SplitPart[](amounts.length);
        for (uint256 i; i < amounts.length; ++i) {
            parts[i] = ICertificateToken.SplitPart({to: recipients[i], amount: amounts[i]});
        }
        vm.prank(holder);
        childIds = certificates.split(certificateId, parts);
    }

    /// Every certificate id of `receivableId` that is a leaf (Live, Locked or Settled), found by
    /// scanning all ids ever issued: independent of any bookkeeping in the test.
    function leavesOf(bytes32 receivableId) internal view returns (uint256[] memory leaves) {
        uint256 last = certificates.nextCertificateId();
        uint256[] memory found = new uint256[](last);
        uint256 n;
        for (uint256 id = 1; id < last; ++id) {
            ICertificateToken.Certificate memory c = certificates.certificateOf(id);
            if (c.receivableId == receivableId && c.state != ICertificateToken.CertificateState.Retired)
                found[n++] = id;
        }
        leaves = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = found[i];
        }
    }

    /// The sum of face values of `ids`.
    function faceSum(uint256[] memory ids) internal view returns (uint256 sum) {
        for (uint256 i; i < ids.length; ++i) {
            sum += certificates.certificateOf(ids[i]).faceValue;
        }
    }
}
