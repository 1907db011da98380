// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Property tests of uniqueness: one registry entry per (seller legal id, debtor legal id,
// invoice number hash), whoever brings it. A second registration of the same triple reverts
// with ReceivableAlreadyRegistered(id) even when other addresses share the legal ids, another
// registrar submits it with a valid debtor signature and different amounts, documents and
// dates, and even after the first one was fully repaid and settled, or defaulted and closed.
// And the aliases themselves: the party manager alone never adds an address to a legal id
// that already has one (it needs that company's signed consent or the admin).
//
// Run counts (hardhat.config.ts, fixed seed "tier1ine"):
//   default profile: fuzz.runs = 1,000 per test   (`npx hardhat test solidity`)
//   deep profile:    fuzz.runs = 10,000 per test  (`npx hardhat test solidity --test-profile deep`)

import {vm} from "./utils/Vm.sol";
import {TierlineDeployer, TierlineRandom, TierlineSigning} from "./utils/TierlineDeployer.sol";
import {IReceivableRegistry} from "../../contracts/interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "../../contracts/interfaces/ICertificateToken.sol";
import {IPartyRegistry} from "../../contracts/interfaces/IPartyRegistry.sol";

contract RegistrationFuzz is TierlineDeployer {
    using TierlineRandom for uint256;

    uint256 private constant SELLER_ALIAS_KEY = uint256(keccak256("tierline: tier1, second key"));
    uint256 private constant DEBTOR_ALIAS_KEY = uint256(keccak256("tierline: core-enterprise, second key"));
    uint256 private constant MAX_FACE = 1_000_000_000 * ONE;

    address private sellerAlias; // another address of tier1's legal entity
    address private debtorAlias; // another address of the debtor's legal entity
    address private otherRegistrar; // another platform sharing the registry

    /// The second attempt: who brings it and who signs it.
    struct Attempt {
        address seller;
        address debtor;
        uint256 debtorKey;
        address registrar;
    }

    function setUp() public {
        deployTierline();
        sellerAlias = vm.addr(SELLER_ALIAS_KEY);
        debtorAlias = vm.addr(DEBTOR_ALIAS_KEY);
        otherRegistrar = vm.addr(uint256(keccak256("tierline: other platform")));
        // Aliases need more than the party manager: tier1 consents to its second key; the
        // debtor's second key comes through the admin (the timelock, in a real deployment).
        parties.registerAlias(
            sellerAlias,
            legalId("tier1"),
            TierlineSigning.aliasConsent(
                parties,
                TIER1_KEY,
                sellerAlias,
                legalId("tier1"),
                1,
                block.timestamp + 1 hours
            )
        );
        parties.registerAliasByAdmin(debtorAlias, legalId("core-enterprise"), true);
        registry.grantRole(registry.REGISTRAR_ROLE(), otherRegistrar);
    }

    /* ------------------------------------------------------------------ */
    /*                          While still open                          */
    /* ------------------------------------------------------------------ */

    /// The same invoice twice, by any mix of aliased seller, aliased debtor and other registrar,
    /// with different face value, documents and due date, is refused; a different invoice
    /// number from the same people and platform is accepted.
    function testFuzz_sameInvoiceTwiceIsRefused(
        bytes32 invoice,
        uint256 faceSeed,
        uint256 otherFaceSeed,
        bytes32 otherDocuments,
        uint8 who
    ) public {
        (bytes32 receivableId, ) = _registerFirst(invoice, faceSeed);
        Attempt memory attempt = _attempt(who);

        _expectDuplicate(receivableId, attempt, invoice, otherFaceSeed, otherDocuments, 100);

        // Control: one bit of the invoice number different, same people, platform and signer.
        bytes32 otherInvoice = invoice ^ bytes32(uint256(1));
        IReceivableRegistry.ReceivableTerms memory fresh = termsFor(
            attempt.seller,
            attempt.debtor,
            otherInvoice,
            otherFaceSeed.bound(1, MAX_FACE),
            uint64(block.timestamp + 60 days)
        );
        IReceivableRegistry.DebtorConfirmation memory confirmation = TierlineSigning.confirm(
            registry,
            attempt.debtorKey,
            fresh,
            2,
            block.timestamp + 1 hours
        );
        vm.prank(attempt.registrar);
        (bytes32 freshId, ) = registry.register(fresh, confirmation);
        require(freshId != receivableId, "different invoice got the same id");
    }

    /* ------------------------------------------------------------------ */
    /*                          After it closed                           */
    /* ------------------------------------------------------------------ */

    /// Repaid in full (in one to three payments) and settled to every leaf, the invoice still
    /// cannot come back.
    function testFuzz_repaidAndSettledInvoiceCannotReturn(
        bytes32 invoice,
        uint256 faceSeed,
        uint256 seed,
        uint8 who
    ) public {
        (bytes32 receivableId, uint256 rootId) = _registerFirst(invoice, faceSeed);
        uint256 face = registry.receivableOf(receivableId).faceValue;
        _splitRoot(rootId, face, seed);

        uint256 payments = seed.next().bound(1, 3);
        uint256[] memory chunks = face < payments ? face.partition(face, seed) : face.partition(payments, seed);
        for (uint256 i; i < chunks.length; ++i) {
            vm.prank(debtor);
            escrow.repay(receivableId, chunks[i]);
        }
        uint256[] memory leaves = leavesOf(receivableId);
        escrow.settle(receivableId, leaves);
        require(registry.statusOf(receivableId) == IReceivableRegistry.ReceivableStatus.Repaid, "not repaid");
        require(escrow.finalizedLeavesOf(receivableId) == leaves.length, "not every leaf settled");
        for (uint256 i; i < leaves.length; ++i) {
            require(
                certificates.certificateOf(leaves[i]).state == ICertificateToken.CertificateState.Settled,
                "leaf not settled"
            );
        }

        _expectDuplicate(receivableId, _attempt(who), invoice, seed, bytes32(seed), 3);
    }

    /// Defaulted after a partial payment (or none), paid late in full, settled and swept, the
    /// invoice still cannot come back.
    function testFuzz_defaultedInvoiceCannotReturn(bytes32 invoice, uint256 faceSeed, uint256 seed, uint8 who) public {
        (bytes32 receivableId, uint256 rootId) = _registerFirst(invoice, faceSeed);
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        _splitRoot(rootId, receivable.faceValue, seed);
        uint256 paid = seed.next().bound(0, receivable.faceValue - 1);
        if (paid != 0) {
            vm.prank(debtor);
            escrow.repay(receivableId, paid);
        }
        vm.warp(uint256(receivable.dueDate) + receivable.gracePeriod + 1);
        registry.markDefaulted(receivableId);
        _expectDuplicate(receivableId, _attempt(who), invoice, seed, bytes32(seed), 3);
        vm.prank(debtor);
        escrow.repay(receivableId, receivable.faceValue - paid); // late, after default
        escrow.settle(receivableId, leavesOf(receivableId));
        require(escrow.distributedOf(receivableId) == receivable.faceValue, "receivable not closed out");

        _expectDuplicate(receivableId, _attempt(who), invoice, seed, bytes32(seed), 3);
    }

    /* ------------------------------------------------------------------ */
    /*                         Aliases need consent                       */
    /* ------------------------------------------------------------------ */

    /// The party manager alone never adds an address to a legal id that has one, whichever
    /// address and company; a consent signed by any key but an address of that company is
    /// refused too. Nothing is registered either way.
    function testFuzz_partyManagerAloneCannotAddAnAlias(address account, uint8 which, uint256 forgerKey) public {
        address[6] memory cast = [debtor, tier1, tier2, tier3, financier, financier2];
        bytes32 legalIdHash = parties.legalIdOf(cast[which % cast.length]);
        vm.assume(account != address(0) && parties.partyOf(account).legalIdHash == bytes32(0));
        forgerKey = forgerKey.bound(1, TierlineSigning.SECP256K1_N - 1);
        vm.assume(parties.partyOf(vm.addr(forgerKey)).legalIdHash != legalIdHash);
        uint256 countBefore = parties.addressCountOf(legalIdHash);

        vm.expectRevert(
            abi.encodeWithSelector(IPartyRegistry.PartyAliasConsentRequired.selector, account, legalIdHash)
        );
        parties.registerParty(account, legalIdHash, true);

        IPartyRegistry.AliasConsent memory forged = TierlineSigning.aliasConsent(
            parties,
            forgerKey,
            account,
            legalIdHash,
            2, // unused by every party (tier1 used 1 in setUp)
            block.timestamp + 1 hours
        );
        forged.approver = cast[which % cast.length]; // in the real party's name
        vm.expectRevert(abi.encodeWithSelector(IPartyRegistry.PartyAliasInvalidSignature.selector, forged.approver));
        parties.registerAlias(account, legalIdHash, forged);

        require(parties.partyOf(account).legalIdHash == bytes32(0), "the alias was registered");
        require(parties.addressCountOf(legalIdHash) == countBefore, "the legal id gained an address");
    }

    /* ------------------------------------------------------------------ */
    /*                   One set of rules, one item or many               */
    /* ------------------------------------------------------------------ */

    /// Thrown by probeRegister to undo the registration it tried.
    error Probed(bool registered);

    /// For any terms (face value on both sides of the 96-bit bound, due date in the past, near or
    /// beyond 40 bits, seller = debtor or not) and a fresh or expired confirmation, registerBatch
    /// registers the item exactly when register would, and writes nothing for an item it refuses.
    function testFuzz_batchAgreesWithRegister(uint256 faceSeed, uint256 dueSeed, uint8 flags, uint256 nonce) public {
        vm.warp(1_000_000_000);
        uint256 face = faceSeed % 4 == 0 ? faceSeed : faceSeed % (uint256(1) << 97);
        uint64 dueDate =
            dueSeed % 3 == 0 ? uint64(dueSeed) : uint64(block.timestamp + ((dueSeed >> 2) % (uint256(1) << 41)));
        bool selfDealing = flags & 1 != 0;
        IReceivableRegistry.ReceivableTerms memory terms = termsFor(
            tier1,
            selfDealing ? tier1 : debtor,
            keccak256(abi.encode("INV-BATCH", faceSeed, dueSeed)),
            face,
            dueDate
        );
        IReceivableRegistry.DebtorConfirmation memory confirmation = TierlineSigning.confirm(
            registry,
            selfDealing ? TIER1_KEY : DEBTOR_KEY,
            terms,
            nonce,
            flags & 2 != 0 ? block.timestamp - 1 : block.timestamp + 1 hours
        );
        bool wouldRegister;
        try this.probeRegister(terms, confirmation) {
            revert("probe did not revert");
        } catch (bytes memory outcome) {
            require(bytes4(outcome) == Probed.selector, "probe failed");
            wouldRegister = uint8(outcome[outcome.length - 1]) == 1;
        }

        IReceivableRegistry.Registration[] memory items = new IReceivableRegistry.Registration[](1);
        items[0] = IReceivableRegistry.Registration({terms: terms, confirmation: confirmation});
        (, uint256[] memory roots) = registry.registerBatch(items);

        require((roots[0] != 0) == wouldRegister, "registerBatch and register disagree");
        bytes32 receivableId = registry.receivableIdOf(terms);
        if (wouldRegister) {
            require(certificates.ownerOf(roots[0]) == tier1, "root not with the seller");
            require(registry.receivableOf(receivableId).faceValue == face, "face value not stored");
        } else {
            require(
                registry.statusOf(receivableId) == IReceivableRegistry.ReceivableStatus.None,
                "a refused item was written"
            );
        }
    }

    /// Tries `register` and reverts with the outcome, so the registration leaves no trace.
    function probeRegister(
        IReceivableRegistry.ReceivableTerms calldata terms,
        IReceivableRegistry.DebtorConfirmation calldata confirmation
    ) external {
        require(msg.sender == address(this), "probe only");
        try registry.register(terms, confirmation) {
            revert Probed(true);
        } catch {
            revert Probed(false);
        }
    }

    /* ------------------------------------------------------------------ */
    /*                               Helpers                              */
    /* ------------------------------------------------------------------ */

    function _registerFirst(bytes32 invoice, uint256 faceSeed) private returns (bytes32 receivableId, uint256 rootId) {
        IReceivableRegistry.ReceivableTerms memory terms = termsFor(
            tier1,
            debtor,
            invoice,
            faceSeed.bound(1, MAX_FACE),
            uint64(block.timestamp + 90 days)
        );
        IReceivableRegistry.DebtorConfirmation memory confirmation = TierlineSigning.confirm(
            registry,
            DEBTOR_KEY,
            terms,
            1,
            block.timestamp + 1 hours
        );
        (receivableId, rootId) = registry.register(terms, confirmation);
    }

    /// Bit 0: aliased seller; bit 1: aliased debtor (signing with its own key); bit 2: other registrar.
    function _attempt(uint8 who) private view returns (Attempt memory a) {
        a.seller = who & 1 != 0 ? sellerAlias : tier1;
        (a.debtor, a.debtorKey) = who & 2 != 0 ? (debtorAlias, DEBTOR_ALIAS_KEY) : (debtor, DEBTOR_KEY);
        a.registrar = who & 4 != 0 ? otherRegistrar : operator;
    }

    /// The same invoice, other amount, documents and due date, validly confirmed by
    /// `attempt.debtor` under `nonce`, is refused, and the first record is untouched.
    function _expectDuplicate(
        bytes32 receivableId,
        Attempt memory attempt,
        bytes32 invoice,
        uint256 faceSeed,
        bytes32 documents,
        uint256 nonce
    ) private {
        IReceivableRegistry.Receivable memory before = registry.receivableOf(receivableId);
        IReceivableRegistry.ReceivableTerms memory again = termsFor(
            attempt.seller,
            attempt.debtor,
            invoice,
            faceSeed.bound(1, MAX_FACE),
            uint64(block.timestamp + faceSeed.bound(1, 365 days))
        );
        again.documentHash = documents;
        require(registry.receivableIdOf(again) == receivableId, "test bug: aliases do not map to the same id");
        IReceivableRegistry.DebtorConfirmation memory confirmation = TierlineSigning.confirm(
            registry,
            attempt.debtorKey,
            again,
            nonce,
            block.timestamp + 1 hours
        );

        vm.prank(attempt.registrar);
        vm.expectRevert(abi.encodeWithSelector(IReceivableRegistry.ReceivableAlreadyRegistered.selector, receivableId));
        registry.register(again, confirmation);

        IReceivableRegistry.Receivable memory afterwards = registry.receivableOf(receivableId);
        require(keccak256(abi.encode(afterwards)) == keccak256(abi.encode(before)), "the first record was changed");
    }

    /// Splits the root into one to five random pieces among the holders.
    function _splitRoot(uint256 rootId, uint256 face, uint256 seed) private {
        uint256 parts = seed.bound(1, face < 5 ? face : 5);
        uint256[] memory amounts = face.partition(parts, seed.next());
        address[] memory cast = holders();
        address[] memory recipients = new address[](parts);
        for (uint256 i; i < parts; ++i) {
            recipients[i] = cast[(seed >> (8 * i)) % cast.length];
        }
        splitAs(rootId, recipients, amounts);
    }
}
