// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Property tests of the debtor's EIP-712 confirmation: a signature is consent to exactly one
// receivable on one registry on one chain, once. Replays are refused: the same receivable again
// (under any nonce: nothing but the registration spends a confirmation), an expired deadline, another chain id, another registry, the malleable twin of a signature,
// tampered terms and any other signer. Each refusal is paired with the same confirmation
// being accepted where it is valid, so a refusal for the wrong reason would show.
//
// Run counts (hardhat.config.ts, fixed seed "tier1ine"):
//   default profile: fuzz.runs = 1,000 per test   (`npx hardhat test solidity`)
//   deep profile:    fuzz.runs = 10,000 per test  (`npx hardhat test solidity --test-profile deep`)

import {vm} from "./utils/Vm.sol";
import {TierlineDeployer, TierlineRandom, TierlineSigning, Tierline} from "./utils/TierlineDeployer.sol";
import {IReceivableRegistry} from "../../contracts/interfaces/IReceivableRegistry.sol";
import {ReceivableRegistry} from "../../contracts/ReceivableRegistry.sol";

contract SignatureReplay is TierlineDeployer {
    using TierlineRandom for uint256;

    uint256 private constant DEBTOR2_KEY = uint256(keccak256("tierline: other-buyer"));
    uint256 private constant MAX_FACE = 1_000_000_000 * ONE;

    address private debtor2;
    Tierline private otherWorld; // a second, independent deployment on the same chain

    function setUp() public {
        deployTierline();
        debtor2 = vm.addr(DEBTOR2_KEY);
        parties.registerParty(debtor2, legalId("other-buyer"), true);
        otherWorld = deployWorld();
    }

    /* ------------------------------------------------------------------ */
    /*                          The digest itself                         */
    /* ------------------------------------------------------------------ */

    /// The registry's digest is the standard EIP-712 digest of the confirmation (computed here
    /// independently), bound to this chain and this registry.
    function testFuzz_registryDigestIsStandardEip712(
        bytes32 invoice,
        uint256 faceSeed,
        uint32 tenorSeed,
        uint256 nonce,
        uint256 deadline
    ) public view {
        IReceivableRegistry.ReceivableTerms memory terms = _terms(tier1, debtor, invoice, faceSeed, tenorSeed);
        bytes32 expected = TierlineSigning.digest(
            block.chainid,
            address(registry),
            address(token),
            registry.receivableIdOf(terms),
            terms,
            nonce,
            deadline
        );
        require(registry.confirmationDigest(terms, nonce, deadline) == expected, "digest is not standard EIP-712");
        require(
            registry.DOMAIN_SEPARATOR() == TierlineSigning.domainSeparator(block.chainid, address(registry)),
            "domain separator differs"
        );
        require(registry.CONFIRMATION_TYPEHASH() == TierlineSigning.CONFIRMATION_TYPEHASH, "type hash differs");
    }

    /* ------------------------------------------------------------------ */
    /*                     Spent by its registration                      */
    /* ------------------------------------------------------------------ */

    /// A confirmation is spent by the registration it confirms: presented again, or re-signed
    /// under any other nonce, it is refused with ReceivableAlreadyRegistered, since the digest
    /// binds the receivable id.
    function testFuzz_confirmationIsSpentByItsRegistration(
        uint256 nonce,
        uint256 otherNonce,
        bytes32 invoice,
        uint256 faceSeed
    ) public {
        IReceivableRegistry.ReceivableTerms memory a = _terms(tier1, debtor, invoice, faceSeed, 90 days);
        IReceivableRegistry.DebtorConfirmation memory confirmation = _confirm(DEBTOR_KEY, a, nonce);
        (bytes32 id, ) = registry.register(a, confirmation);
        require(_registered(registry, a), "confirmation refused");

        vm.expectRevert(abi.encodeWithSelector(IReceivableRegistry.ReceivableAlreadyRegistered.selector, id));
        registry.register(a, confirmation);
        confirmation = _confirm(DEBTOR_KEY, a, otherNonce);
        vm.expectRevert(abi.encodeWithSelector(IReceivableRegistry.ReceivableAlreadyRegistered.selector, id));
        registry.register(a, confirmation);
    }

    /// The nonce is signed, not stored: the number that confirmed one invoice confirms another,
    /// of the same debtor or of another one.
    function testFuzz_nonceIsNotSpent(uint256 nonce, bytes32 invoiceA, bytes32 invoiceB, uint256 faceSeed) public {
        vm.assume(invoiceA != invoiceB);
        IReceivableRegistry.ReceivableTerms memory a = _terms(tier1, debtor, invoiceA, faceSeed, 90 days);
        registry.register(a, _confirm(DEBTOR_KEY, a, nonce));
        IReceivableRegistry.ReceivableTerms memory b = _terms(tier2, debtor, invoiceB, faceSeed >> 1, 60 days);
        registry.register(b, _confirm(DEBTOR_KEY, b, nonce));
        IReceivableRegistry.ReceivableTerms memory c = _terms(tier1, debtor2, invoiceA, faceSeed, 30 days);
        registry.register(c, _confirm(DEBTOR2_KEY, c, nonce));
        require(
            _registered(registry, a) && _registered(registry, b) && _registered(registry, c),
            "a confirmation was refused for its nonce"
        );
    }

    /* ------------------------------------------------------------------ */
    /*                              Deadline                              */
    /* ------------------------------------------------------------------ */

    /// A confirmation presented any time after its deadline is refused with ConfirmationExpired;
    /// at the deadline itself it is still good.
    function testFuzz_expiredConfirmationIsRefused(uint256 validForSeed, uint256 lateBySeed, bytes32 invoice) public {
        uint256 validFor = validForSeed.bound(0, 30 days);
        uint256 lateBy = lateBySeed.bound(1, 300 days);
        IReceivableRegistry.ReceivableTerms memory terms = _terms(tier1, debtor, invoice, validForSeed, 365 days);
        uint256 deadline = block.timestamp + validFor;
        IReceivableRegistry.DebtorConfirmation memory confirmation = TierlineSigning.confirm(
            registry,
            DEBTOR_KEY,
            terms,
            7,
            deadline
        );

        vm.warp(deadline + lateBy);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableRegistry.ConfirmationExpired.selector, deadline, deadline + lateBy)
        );
        registry.register(terms, confirmation);
        require(!_registered(registry, terms), "a refused confirmation registered");

        vm.warp(deadline);
        registry.register(terms, confirmation);
        require(_registered(registry, terms), "valid confirmation not accepted at its deadline");
    }

    /* ------------------------------------------------------------------ */
    /*                             Other chain                            */
    /* ------------------------------------------------------------------ */

    /// A confirmation signed on this chain is void once the chain id changes, and one signed for
    /// another chain id is void here: ConfirmationInvalidSignature either way.
    function testFuzz_confirmationForAnotherChainIsRefused(uint64 otherChainId, bytes32 invoice, uint256 nonce) public {
        vm.assume(otherChainId != LOCAL_CHAIN_ID && otherChainId != 0 && otherChainId != type(uint64).max);
        IReceivableRegistry.ReceivableTerms memory terms = _terms(tier1, debtor, invoice, nonce, 90 days);
        IReceivableRegistry.DebtorConfirmation memory here = _confirm(DEBTOR_KEY, terms, nonce);

        // Signed here, presented after a fork to another chain id.
        vm.chainId(otherChainId);
        vm.expectRevert(abi.encodeWithSelector(IReceivableRegistry.ConfirmationInvalidSignature.selector, debtor));
        registry.register(terms, here);

        // Signed for the other chain id, presented here.
        IReceivableRegistry.DebtorConfirmation memory there = _confirm(DEBTOR_KEY, terms, nonce);
        vm.chainId(LOCAL_CHAIN_ID);
        vm.expectRevert(abi.encodeWithSelector(IReceivableRegistry.ConfirmationInvalidSignature.selector, debtor));
        registry.register(terms, there);

        // Back on the chain it was signed for, the first confirmation is good.
        registry.register(terms, here);
        require(_registered(registry, terms), "confirmation refused on its own chain");
    }

    /* ------------------------------------------------------------------ */
    /*                           Other registry                           */
    /* ------------------------------------------------------------------ */

    /// A confirmation for registry A presented to registry B (same chain, same parties, same
    /// receivable id) is refused with ConfirmationInvalidSignature, and the other way round.
    function testFuzz_confirmationForAnotherRegistryIsRefused(bytes32 invoice, uint256 nonce, uint256 faceSeed) public {
        ReceivableRegistry registryB = otherWorld.registry;
        IReceivableRegistry.ReceivableTerms memory terms = _terms(tier1, debtor, invoice, faceSeed, 90 days);
        require(registry.receivableIdOf(terms) == registryB.receivableIdOf(terms), "ids differ across registries");
        IReceivableRegistry.DebtorConfirmation memory forA = _confirm(DEBTOR_KEY, terms, nonce);
        IReceivableRegistry.DebtorConfirmation memory forB = TierlineSigning.confirm(
            registryB,
            DEBTOR_KEY,
            terms,
            nonce,
            block.timestamp + 1 hours
        );

        vm.expectRevert(abi.encodeWithSelector(IReceivableRegistry.ConfirmationInvalidSignature.selector, debtor));
        registryB.register(terms, forA);
        vm.expectRevert(abi.encodeWithSelector(IReceivableRegistry.ConfirmationInvalidSignature.selector, debtor));
        registry.register(terms, forB);

        registry.register(terms, forA);
        registryB.register(terms, forB);
        require(_registered(registry, terms) && _registered(registryB, terms), "own confirmations refused");
    }

    /* ------------------------------------------------------------------ */
    /*                        Malleable signature                         */
    /* ------------------------------------------------------------------ */

    /// The twin (r, n - s, v flipped) of a valid signature recovers the same debtor, yet is
    /// refused with ConfirmationInvalidSignature and registers nothing.
    function testFuzz_malleableTwinIsRefused(bytes32 invoice, uint256 nonce, uint256 faceSeed) public {
        IReceivableRegistry.ReceivableTerms memory terms = _terms(tier1, debtor, invoice, faceSeed, 90 days);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = registry.confirmationDigest(terms, nonce, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(DEBTOR_KEY, digest);
        bytes32 twinS = bytes32(TierlineSigning.SECP256K1_N - uint256(s));
        uint8 twinV = v == 27 ? 28 : 27;
        require(uint256(s) <= TierlineSigning.SECP256K1_N / 2, "the signer should produce low-s");
        require(ecrecover(digest, twinV, r, twinS) == debtor, "test bug: the twin does not recover the debtor");

        IReceivableRegistry.DebtorConfirmation memory twin = IReceivableRegistry.DebtorConfirmation({
            nonce: nonce,
            deadline: deadline,
            signature: abi.encodePacked(r, twinS, twinV)
        });
        vm.expectRevert(abi.encodeWithSelector(IReceivableRegistry.ConfirmationInvalidSignature.selector, debtor));
        registry.register(terms, twin);
        require(!_registered(registry, terms), "refused twin registered");

        IReceivableRegistry.DebtorConfirmation memory original = IReceivableRegistry.DebtorConfirmation({
            nonce: nonce,
            deadline: deadline,
            signature: abi.encodePacked(r, s, v)
        });
        registry.register(terms, original);
        require(_registered(registry, terms), "original refused");
    }

    /* ------------------------------------------------------------------ */
    /*                    Tampered terms, other signers                   */
    /* ------------------------------------------------------------------ */

    /// Changing any signed field after signing (documents, amount, due date, seller, debtor,
    /// nonce, deadline) voids the signature.
    function testFuzz_tamperedTermsAreRefused(
        bytes32 invoice,
        uint256 nonce,
        uint256 faceSeed,
        uint256 fieldSeed
    ) public {
        IReceivableRegistry.ReceivableTerms memory terms = _terms(tier1, debtor, invoice, faceSeed, 90 days);
        IReceivableRegistry.DebtorConfirmation memory confirmation = _confirm(DEBTOR_KEY, terms, nonce);
        IReceivableRegistry.ReceivableTerms memory tampered = _terms(tier1, debtor, invoice, faceSeed, 90 days);
        IReceivableRegistry.DebtorConfirmation memory presented = IReceivableRegistry.DebtorConfirmation({
            nonce: confirmation.nonce,
            deadline: confirmation.deadline,
            signature: confirmation.signature
        });
        address expectedSigner = debtor;
        uint256 field = fieldSeed % 7;
        if (field == 0) tampered.documentHash = bytes32(uint256(tampered.documentHash) ^ (fieldSeed | 1));
        else if (field == 1) tampered.faceValue = tampered.faceValue == MAX_FACE ? 1 : tampered.faceValue + 1;
        else if (field == 2) tampered.dueDate += uint64((fieldSeed >> 8).bound(1, 365 days));
        else if (field == 3) tampered.seller = tier2;
        else if (field == 4) (tampered.debtor, expectedSigner) = (debtor2, debtor2);
        else if (field == 5) presented.nonce = nonce ^ ((fieldSeed >> 8) | 1);
        else presented.deadline = confirmation.deadline + (fieldSeed >> 8).bound(1, 1 days);

        vm.expectRevert(
            abi.encodeWithSelector(IReceivableRegistry.ConfirmationInvalidSignature.selector, expectedSigner)
        );
        registry.register(tampered, presented);

        registry.register(terms, confirmation);
        require(_registered(registry, terms), "untampered confirmation refused");
    }

    /// A signature by anyone but the debtor (any key, the operator's platform included) is refused.
    function testFuzz_signatureByAnotherKeyIsRefused(uint256 keySeed, bytes32 invoice, uint256 nonce) public {
        uint256 key = keySeed.bound(1, TierlineSigning.SECP256K1_N - 1);
        vm.assume(key != DEBTOR_KEY);
        IReceivableRegistry.ReceivableTerms memory terms = _terms(tier1, debtor, invoice, keySeed, 90 days);
        IReceivableRegistry.DebtorConfirmation memory forged = _confirm(key, terms, nonce);

        vm.expectRevert(abi.encodeWithSelector(IReceivableRegistry.ConfirmationInvalidSignature.selector, debtor));
        registry.register(terms, forged);
        require(!_registered(registry, terms), "forged confirmation registered");
    }

    /* ------------------------------------------------------------------ */
    /*                               Helpers                              */
    /* ------------------------------------------------------------------ */

    function _terms(
        address seller,
        address debtor_,
        bytes32 invoice,
        uint256 faceSeed,
        uint256 tenor
    ) private view returns (IReceivableRegistry.ReceivableTerms memory) {
        return termsFor(seller, debtor_, invoice, faceSeed.bound(1, MAX_FACE), uint64(block.timestamp + tenor));
    }

    function _registered(
        ReceivableRegistry registry_,
        IReceivableRegistry.ReceivableTerms memory terms
    ) private view returns (bool) {
        return registry_.statusOf(registry_.receivableIdOf(terms)) != IReceivableRegistry.ReceivableStatus.None;
    }

    function _confirm(
        uint256 key,
        IReceivableRegistry.ReceivableTerms memory terms,
        uint256 nonce
    ) private view returns (IReceivableRegistry.DebtorConfirmation memory) {
        return TierlineSigning.confirm(registry, key, terms, nonce, block.timestamp + 1 hours);
    }
}
