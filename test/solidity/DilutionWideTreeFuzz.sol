// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Property test of a credit note over a tree wider than MAX_DILUTION_LEAVES (issue 16), applied in
// passes by continueCreditNote: for random amounts (two notes in a row, the second over claims the
// first already cut), chunk sizes, approvals (seller or arbiter) and a retained leaf transferred
// between the tally and the cut, every leaf is cut exactly as an independent model of the rule
// says (retained unlocked, then retained pledged, in id order; then cumulative rounding in id
// order over the others, classes as tallied), no claim goes below zero, and the live leaves'
// claims add up to face - credited.
//
// The tree (130 leaves) is built once in setUp; one run drives two notes through both passes
// (about 20M gas), so the run count is set here, not by the profile's 1,000:
//   fuzz.runs = 64 (fixed seed "tier1ine", both profiles)

import {vm} from "./utils/Vm.sol";
import {TierlineDeployer, TierlineRandom} from "./utils/TierlineDeployer.sol";
import {ICertificateToken} from "../../contracts/interfaces/ICertificateToken.sol";
import {IFinancingMarket} from "../../contracts/interfaces/IFinancingMarket.sol";
import {IDilutionLedger} from "../../contracts/interfaces/IDilutionLedger.sol";

contract DilutionWideTreeFuzz is TierlineDeployer {
    using TierlineRandom for uint256;

    uint256 private constant PIECES = 5;
    uint256 private constant PARTS = 26; // 130 leaves
    uint256 private constant FACE = 130_000 * ONE + 12_345;

    bytes32 private rid;
    uint256[] private leaves;

    function setUp() public {
        deployTierline();
        dilution.grantRole(dilution.ARBITER_ROLE(), address(this)); // the timelock's role, held here
        dilution.setSellerResponsePeriod(1 hours);
        uint256 rootId;
        (rid, rootId) = registerReceivable(tier1, FACE, 365 days);

        // Five pieces the seller keeps, each split into 26 leaves of uneven sizes.
        address[] memory toSeller = new address[](PIECES);
        uint256[] memory pieceAmounts = new uint256[](PIECES);
        for (uint256 i; i < PIECES; ++i) {
            toSeller[i] = tier1;
            pieceAmounts[i] = i == PIECES - 1 ? FACE - (FACE / PIECES) * (PIECES - 1) : FACE / PIECES;
        }
        uint256[] memory pieces = splitAs(rootId, toSeller, pieceAmounts);
        address[3] memory others = [tier2, tier3, financier];
        uint256 n;
        for (uint256 p; p < PIECES; ++p) {
            address[] memory recipients = new address[](PARTS);
            uint256[] memory amounts = new uint256[](PARTS);
            uint256 left = pieceAmounts[p];
            for (uint256 j; j < PARTS; ++j) {
                amounts[j] = j == PARTS - 1 ? left : 700 * ONE + ((n * 7_919) % 3_001) * 1_003;
                left -= amounts[j];
                recipients[j] = n % 4 == 0 ? tier1 : others[n % 3];
                ++n;
            }
            splitAs(pieces[p], recipients, amounts);
        }
        uint256[] memory found = leavesOf(rid);
        for (uint256 i; i < found.length; ++i) {
            leaves.push(found[i]);
        }
        require(leaves.length == PIECES * PARTS, "tree: leaf count");
        // Two retained leaves locked (listed for discount sale): the pledged group of the rule.
        for (uint256 k = 4; k <= 8; k += 4) {
            vm.prank(tier1);
            financing.openRequest(leaves[k * 4], IFinancingMarket.FinancingKind.Discount, ONE, 0);
        }
    }

    /// hardhat-config: fuzz.runs = 64
    function testFuzz_wideTreeCutsFollowTheRule(uint256 seed) public {
        for (uint256 note; note < 2; ++note) {
            seed = seed.next();
            uint256 outstanding = FACE - registry.creditedOf(rid);
            if (outstanding == 0) return;
            uint256 amount = seed % 7 == 0 ? outstanding : (seed >> 8).bound(1, outstanding);
            _creditInPasses(amount, seed >> 64);
            uint256 sum;
            for (uint256 i; i < leaves.length; ++i) {
                sum += dilution.claimOf(leaves[i]);
            }
            require(sum == FACE - registry.creditedOf(rid), "live leaves' claims != face - credited");
        }
    }

    /// Proposes `amount`, approves it with an empty list (seller or arbiter), and drives both passes
    /// in random chunks, maybe moving a retained leaf between them; checks every cut.
    function _creditInPasses(uint256 amount, uint256 seed) private {
        vm.prank(debtor);
        uint256 creditNoteId = dilution.proposeCreditNote(rid, amount, keccak256("RETURN"), bytes32(seed));
        uint256[] memory none = new uint256[](0);
        if (seed % 2 == 0) {
            vm.prank(tier1);
            dilution.applyWithSellerConsent(creditNoteId, IDilutionLedger.SellerConsent(0, ""), none);
        } else {
            vm.warp(block.timestamp + 1 hours + 1);
            dilution.decideCreditNote(creditNoteId, true, none);
        }
        require(
            dilution.creditNoteOf(creditNoteId).status == IDilutionLedger.CreditNoteStatus.Applying,
            "a wide tree's note is not Applying"
        );

        // The model reads the tree as the tally will: before any transfer.
        uint256[] memory before = new uint256[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) {
            before[i] = dilution.claimOf(leaves[i]);
        }
        uint256[] memory expected = _modelCuts(amount, before);

        uint256 chunk = (seed >> 8).bound(1, dilution.MAX_DILUTION_LEAVES());
        bool moveOne = (seed >> 16) % 2 == 0;
        _pass(creditNoteId, chunk); // the tally
        if (moveOne) _moveARetainedLeaf(seed >> 24);
        _pass(creditNoteId, chunk); // the cut

        require(
            dilution.creditNoteOf(creditNoteId).status == IDilutionLedger.CreditNoteStatus.Applied,
            "the note did not end Applied"
        );
        require(!dilution.isDisputed(rid), "the dispute outlived its credit note");
        for (uint256 i; i < leaves.length; ++i) {
            require(before[i] - dilution.claimOf(leaves[i]) == expected[i], "a leaf was cut against the rule");
        }
    }

    /// One pass in chunks of `chunk` leaves (the last one shorter).
    function _pass(uint256 creditNoteId, uint256 chunk) private {
        (IDilutionLedger.ApplicationPhase phase, , , ) = dilution.applicationOf(creditNoteId);
        for (uint256 start; start < leaves.length; start += chunk) {
            uint256 end = start + chunk < leaves.length ? start + chunk : leaves.length;
            uint256[] memory ids = new uint256[](end - start);
            for (uint256 i; i < ids.length; ++i) {
                ids[i] = leaves[start + i];
            }
            vm.prank(outsider); // permissionless
            dilution.continueCreditNote(creditNoteId, ids);
        }
        (IDilutionLedger.ApplicationPhase after_, uint256 processed, , ) = dilution.applicationOf(creditNoteId);
        require(after_ != phase && processed == 0, "a pass did not end after every leaf");
    }

    /// The seller passes one of its unlocked retained leaves to tier2 (between the passes).
    function _moveARetainedLeaf(uint256 seed) private {
        uint256 start = seed % leaves.length;
        for (uint256 k; k < leaves.length; ++k) {
            uint256 leaf = leaves[(start + k) % leaves.length];
            if (certificates.ownerOf(leaf) != tier1) continue;
            if (certificates.certificateOf(leaf).state != ICertificateToken.CertificateState.Live) continue;
            vm.prank(tier1);
            certificates.transferFrom(tier1, tier2, leaf);
            return;
        }
    }

    /// The documented rule, written again from its description.
    function _modelCuts(uint256 amount, uint256[] memory claims) private view returns (uint256[] memory cut) {
        uint256 n = leaves.length;
        cut = new uint256[](n);
        uint256 rest = amount;
        for (uint256 pass; pass < 2; ++pass) {
            bool pledged = pass == 1;
            for (uint256 i; i < n; ++i) {
                if (certificates.ownerOf(leaves[i]) != tier1) continue;
                bool locked = certificates.certificateOf(leaves[i]).state == ICertificateToken.CertificateState.Locked;
                if (locked != pledged) continue;
                uint256 take = claims[i] < rest ? claims[i] : rest;
                cut[i] = take;
                rest -= take;
            }
        }
        if (rest == 0) return cut;
        uint256 pool;
        for (uint256 i; i < n; ++i) {
            if (certificates.ownerOf(leaves[i]) != tier1) pool += claims[i];
        }
        uint256 seen;
        uint256 given;
        for (uint256 i; i < n; ++i) {
            if (certificates.ownerOf(leaves[i]) == tier1) continue;
            seen += claims[i];
            uint256 total = (rest * seen) / pool;
            cut[i] = total - given;
            require(cut[i] <= claims[i], "model: a cut above its claim");
            given = total;
        }
        require(given == rest, "model: rounding units left over");
    }
}
