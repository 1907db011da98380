// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Property tests of dilution and recourse (issue 16), each checked against an independent model:
//   - conservation: after any sequence of splits and credit notes (by the seller or by the arbiter),
//     the live leaves' claims add up to face - credited, exactly;
//   - the rule: every credit note cuts each leaf exactly as the model of the documented rule says
//     (retained pieces first, unlocked before pledged, in id order; then pro rata by cumulative
//     rounding in id order), and no claim goes below zero;
//   - no holder ever receives more than its piece after dilution: through partial and full
//     repayment and settlement batches, every leaf's payout stays <= its diluted claim, and once
//     repaid and settled each leaf got exactly it, the escrow keeps nothing;
//   - recourse claims sum to the loss they cover: dilution claims add up to the cuts beyond the
//     seller's retained pieces, default claims to what the guaranteed leaves are still owed, and
//     a chain of claims passed up to the seller never has more than one open at a time.
//
// Run counts (hardhat.config.ts, fixed seed "tier1ine"):
//   default profile: fuzz.runs = 1,000 per test   (`npx hardhat test solidity`)
//   deep profile:    fuzz.runs = 10,000 per test  (`npx hardhat test solidity --test-profile deep`)

import {vm} from "./utils/Vm.sol";
import {TierlineDeployer, TierlineRandom} from "./utils/TierlineDeployer.sol";
import {IReceivableRegistry} from "../../contracts/interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "../../contracts/interfaces/ICertificateToken.sol";
import {IFinancingMarket} from "../../contracts/interfaces/IFinancingMarket.sol";
import {IDilutionLedger} from "../../contracts/interfaces/IDilutionLedger.sol";
import {IRecourseLedger} from "../../contracts/interfaces/IRecourseLedger.sol";

contract DilutionFuzz is TierlineDeployer {
    using TierlineRandom for uint256;

    uint256 private constant MAX_FACE = 1_000_000_000 * ONE;
    uint256 private constant MAX_PARTS = 6;
    uint256 private constant STEPS = 6;

    bytes32 private rid;
    uint256 private face;
    uint256[] private leaves;

    function setUp() public {
        deployTierline();
        dilution.grantRole(dilution.ARBITER_ROLE(), address(this)); // the timelock's role, held here
        dilution.setSellerResponsePeriod(1 hours);
    }

    /* ------------------------------------------------------------------ */
    /*                 Conservation and the flow-down rule                */
    /* ------------------------------------------------------------------ */

    /// Random splits, pledges and credit notes in any order, then repayment in one to three
    /// payments with settlement batches between: conservation and the rule after every credit
    /// note, no payout above a diluted claim at any step, and every leaf paid exactly its claim.
    function testFuzz_conservationThroughSplitsCreditNotesAndSettlement(uint256 faceSeed, uint256 seed) public {
        face = faceSeed.bound(2, MAX_FACE);
        (rid, ) = registerReceivable(tier1, face, 365 days);
        _reloadLeaves();
        for (uint256 step; step < STEPS; ++step) {
            seed = seed.next();
            uint256 action = seed % 4;
            if (action == 0 || action == 1) _randomSplit(seed >> 8);
            else if (action == 2) _randomCreditNote(seed >> 8);
            else _randomPledge(seed >> 8);
            _checkConservation();
        }

        // Repayment of what is owed, in parts, with settlement batches between.
        uint256 owed = face - registry.creditedOf(rid);
        if (owed != 0) {
            seed = seed.next();
            uint256 parts = owed < 3 ? 1 : seed.bound(1, 3);
            uint256[] memory chunks = owed.partition(parts, seed >> 16);
            for (uint256 i; i < chunks.length; ++i) {
                vm.prank(debtor);
                escrow.repay(rid, chunks[i]);
                _settleSome(seed >> (24 + i));
                _checkNoPayoutAboveClaim();
            }
        }
        require(registry.statusOf(rid) == IReceivableRegistry.ReceivableStatus.Repaid, "not repaid");
        try escrow.settle(rid, leaves) {} catch {} // nothing left to do if the last batches closed every leaf
        require(escrow.finalizedLeavesOf(rid) == leaves.length, "a leaf was left open");
        uint256 paid;
        for (uint256 i; i < leaves.length; ++i) {
            uint256 claim = dilution.claimOf(leaves[i]);
            require(escrow.paidOutOf(leaves[i]) == claim, "a leaf was not paid exactly its diluted claim");
            paid += claim;
        }
        require(paid == owed && escrow.distributedOf(rid) == owed, "paid out != face - credited");
        require(token.balanceOf(address(escrow)) == escrow.totalClaimable(), "tokens left in escrow");
    }

    /* ------------------------------------------------------------------ */
    /*                                Recourse                            */
    /* ------------------------------------------------------------------ */

    /// The seller endorses the root and splits it at random; a random credit note; every holder
    /// but the seller claims its cut from the seller: the claims add up to exactly the part of
    /// the credit note beyond the seller's retained pieces, and paying them moves exactly that.
    function testFuzz_dilutionClaimsSumToTheLossBeyondRetainedPieces(uint256 faceSeed, uint256 seed) public {
        face = faceSeed.bound(2, MAX_FACE);
        uint256 root;
        (rid, root) = registerReceivable(tier1, face, 365 days);
        vm.prank(tier1);
        recourse.grantRecourse(root);
        _reloadLeaves();
        _randomSplit(seed);
        _randomSplit(seed.next());
        uint256 amount = (seed >> 32).bound(1, face);
        uint256 retainedCut = _credit(amount, seed >> 40);

        uint256 claimed;
        for (uint256 i; i < leaves.length; ++i) {
            address holder = certificates.ownerOf(leaves[i]);
            uint256 loss = dilution.lossOf(leaves[i], holder);
            if (holder == tier1 || loss == 0) continue;
            vm.prank(holder);
            uint256 claimId = recourse.openDilutionClaim(leaves[i], holder, root, 0);
            require(recourse.claimOf(claimId).amount == loss, "claim != the holder's cut");
            claimed += recourse.claimOf(claimId).amount;
        }
        require(claimed == amount - retainedCut, "claims != the loss beyond the retained pieces");
        uint256 sellerBefore = token.balanceOf(tier1);
        uint256 count = recourse.claimCount();
        for (uint256 claimId = 1; claimId <= count; ++claimId) {
            vm.prank(tier1);
            recourse.payClaim(claimId);
        }
        require(sellerBefore - token.balanceOf(tier1) == claimed, "the seller paid another amount");
    }

    /// A chain tier1 -> tier2 -> holder, a random part repaid and settled, then default: the
    /// holder's claim is what its leaf is still owed; passed up to the seller it stays that amount,
    /// with one claim open at a time; the claims of all guaranteed leaves add up to their loss.
    function testFuzz_defaultClaimsSumToTheUnpaidClaims(uint256 faceSeed, uint256 seed) public {
        face = faceSeed.bound(4, MAX_FACE);
        _buildChain(seed);
        if ((seed >> 1) % 2 == 0) _credit((seed >> 2).bound(1, face - 1), seed >> 3); // never all: it would close it

        uint256 owed = face - registry.creditedOf(rid);
        uint256 repaid = owed <= 1 ? 0 : (seed >> 16).bound(0, owed - 1);
        if (repaid != 0) {
            vm.prank(debtor);
            escrow.repay(rid, repaid);
            _reloadLeaves();
            try escrow.settle(rid, leaves) {} catch {} // too little to give any leaf a whole unit
        }
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(rid);
        vm.warp(uint256(receivable.dueDate) + receivable.gracePeriod + 1);
        registry.markDefaulted(rid);

        // Both leaves are guaranteed: together they lost what the debtor owes less what was paid out.
        uint256 loss = owed - escrow.distributedOf(rid);
        uint256 claimed = _claimDefault(chainLeaf, chainMiddle) + _claimDefault(chainOther, chainRoot);
        require(claimed == loss, "default claims != the loss they cover");
    }

    // The chain of the default test: root (tier1, endorsed) -> middle (tier2, endorsed) -> leaf.
    uint256 private chainRoot;
    uint256 private chainMiddle;
    uint256 private chainLeaf;
    uint256 private chainOther;

    function _buildChain(uint256 seed) private {
        (rid, chainRoot) = registerReceivable(tier1, face, 30 days);
        vm.prank(tier1);
        recourse.grantRecourse(chainRoot);
        uint256[] memory amounts = new uint256[](2);
        amounts[0] = face / 2;
        amounts[1] = face - face / 2;
        address[] memory to = new address[](2);
        to[0] = tier2;
        to[1] = tier3;
        uint256[] memory children = splitAs(chainRoot, to, amounts);
        (chainMiddle, chainOther) = (children[0], children[1]);
        vm.prank(tier2);
        recourse.grantRecourse(chainMiddle);
        address[] memory onward = new address[](1);
        onward[0] = (seed & 1) == 0 ? tier3 : financier;
        uint256[] memory single = new uint256[](1);
        single[0] = amounts[0];
        chainLeaf = splitAs(chainMiddle, onward, single)[0];
    }

    /// The holder of `leaf` claims its default on the endorsement of `guarantorCertificateId`
    /// (passed up to the seller when it is tier2's). Returns the amount claimed.
    function _claimDefault(uint256 leaf, uint256 guarantorCertificateId) private returns (uint256 amount) {
        uint256 unpaid = dilution.claimOf(leaf) - escrow.paidOutOf(leaf);
        if (unpaid == 0) return 0;
        address holder = certificates.ownerOf(leaf);
        vm.startPrank(holder);
        certificates.approve(address(recourse), leaf);
        uint256 claimId = recourse.openDefaultClaim(leaf, guarantorCertificateId, 0);
        vm.stopPrank();
        amount = recourse.claimOf(claimId).amount;
        require(amount == unpaid, "default claim != what the leaf is still owed");
        if (guarantorCertificateId == chainMiddle) _payUpTheChain(claimId, chainRoot, amount);
    }

    /// Pays `claimId` (on tier2), passes it up to the seller and pays it: the same amount at each
    /// hop, never two open at once, and the leaf ends with the seller, who bore the loss.
    function _payUpTheChain(uint256 claimId, uint256 root, uint256 amount) private {
        IRecourseLedger.RecourseClaim memory claim = recourse.claimOf(claimId);
        vm.prank(tier2);
        recourse.payClaim(claimId);
        vm.prank(tier2);
        certificates.approve(address(recourse), claim.leafId);
        vm.prank(tier2);
        uint256 next = recourse.escalate(claimId, root, 0);
        require(recourse.claimOf(next).amount == amount, "an escalated claim changed its amount");
        require(recourse.claimOf(claimId).status == IRecourseLedger.ClaimStatus.Paid, "two claims open at once");
        vm.prank(tier1);
        recourse.payClaim(next);
        require(certificates.ownerOf(claim.leafId) == tier1, "the leaf did not reach the seller");
    }

    /* ------------------------------------------------------------------ */
    /*                              Random steps                          */
    /* ------------------------------------------------------------------ */

    /// Splits a random undisputed, undiluted, unlocked leaf into random parts for random holders.
    function _randomSplit(uint256 seed) private {
        if (registry.statusOf(rid) != IReceivableRegistry.ReceivableStatus.Active) return; // credited in full
        uint256 leaf = leaves[seed % leaves.length];
        ICertificateToken.Certificate memory c = certificates.certificateOf(leaf);
        if (c.state != ICertificateToken.CertificateState.Live || dilution.reductionOf(leaf) != 0) return;
        if (dilution.isDisputed(rid) || c.faceValue < 2) return;
        uint256 parts = (seed >> 8).bound(2, c.faceValue < MAX_PARTS ? c.faceValue : MAX_PARTS);
        uint256[] memory amounts = c.faceValue.partition(parts, seed >> 16);
        address[] memory cast = holders();
        address[] memory to = new address[](parts);
        for (uint256 i; i < parts; ++i) {
            to[i] = cast[(seed >> (24 + i * 3)) % cast.length];
        }
        splitAs(leaf, to, amounts);
        _reloadLeaves();
    }

    /// Pledges a random live leaf of its holder's to financier2 (locks it; repay amount <= claim).
    function _randomPledge(uint256 seed) private {
        if (registry.statusOf(rid) != IReceivableRegistry.ReceivableStatus.Active) return; // credited in full
        uint256 leaf = leaves[seed % leaves.length];
        if (certificates.certificateOf(leaf).state != ICertificateToken.CertificateState.Live) return;
        if (dilution.isDisputed(rid)) return;
        uint256 claim = dilution.claimOf(leaf);
        if (claim == 0) return;
        address holder = certificates.ownerOf(leaf);
        if (holder == financier2) return;
        uint256 repayAmount = (seed >> 8).bound(1, claim);
        vm.prank(holder);
        uint256 requestId = financing.openRequest(
            leaf,
            IFinancingMarket.FinancingKind.Pledge,
            repayAmount,
            repayAmount
        );
        vm.prank(financier2);
        financing.fund(requestId, repayAmount, repayAmount, claim);
    }

    function _randomCreditNote(uint256 seed) private {
        if (registry.creditedOf(rid) == face) return;
        _randomCredit(seed);
    }

    function _randomCredit(uint256 seed) private {
        uint256 outstanding = face - registry.creditedOf(rid);
        // Mostly small credits (returns), sometimes everything.
        uint256 amount = seed % 5 == 0 ? outstanding : (seed >> 8).bound(1, outstanding);
        _credit(amount, seed >> 16);
    }

    /// Proposes and applies a credit note of `amount` (by the seller, or by the arbiter after
    /// the response period), checking each leaf's cut against the model. Returns the retained cut.
    function _credit(uint256 amount, uint256 seed) private returns (uint256 retainedCut) {
        _reloadLeaves();
        (uint256[] memory expectedCut, uint256 retained) = _modelCuts(amount);
        uint256[] memory before = new uint256[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) {
            before[i] = dilution.claimOf(leaves[i]);
        }
        vm.prank(debtor);
        uint256 creditNoteId = dilution.proposeCreditNote(rid, amount, keccak256("RETURN"), bytes32(seed));
        if (seed % 2 == 0) {
            vm.prank(tier1);
            dilution.applyWithSellerConsent(creditNoteId, IDilutionLedger.SellerConsent(0, ""), leaves);
        } else {
            vm.warp(block.timestamp + 1 hours + 1);
            dilution.decideCreditNote(creditNoteId, true, leaves);
        }
        for (uint256 i; i < leaves.length; ++i) {
            require(before[i] - dilution.claimOf(leaves[i]) == expectedCut[i], "a leaf was cut against the rule");
        }
        require(!dilution.isDisputed(rid), "the dispute outlived its credit note");
        return retained;
    }

    /// The documented rule, written again from its description.
    function _modelCuts(uint256 amount) private view returns (uint256[] memory cut, uint256 retainedCut) {
        uint256 n = leaves.length;
        cut = new uint256[](n);
        uint256 rest = amount;
        for (uint256 pass; pass < 2; ++pass) {
            bool pledged = pass == 1;
            for (uint256 i; i < n; ++i) {
                if (certificates.ownerOf(leaves[i]) != tier1) continue;
                bool locked = certificates.certificateOf(leaves[i]).state == ICertificateToken.CertificateState.Locked;
                if (locked != pledged) continue;
                uint256 claim = dilution.claimOf(leaves[i]);
                uint256 take = claim < rest ? claim : rest;
                cut[i] = take;
                rest -= take;
            }
        }
        retainedCut = amount - rest;
        if (rest == 0) return (cut, retainedCut);
        uint256 pool;
        for (uint256 i; i < n; ++i) {
            if (certificates.ownerOf(leaves[i]) != tier1) pool += dilution.claimOf(leaves[i]);
        }
        // Cumulative rounding: each other leaf takes floor(rest x S / pool) - floor(rest x S_prev / pool).
        uint256 given;
        uint256 seen;
        for (uint256 i; i < n; ++i) {
            if (certificates.ownerOf(leaves[i]) == tier1) continue;
            seen += dilution.claimOf(leaves[i]);
            uint256 total = (rest * seen) / pool;
            cut[i] = total - given;
            given = total;
        }
        require(given == rest, "model: rounding units left over");
    }

    /* ------------------------------------------------------------------ */
    /*                                 Checks                             */
    /* ------------------------------------------------------------------ */

    function _checkConservation() private view {
        uint256 sum;
        for (uint256 i; i < leaves.length; ++i) {
            uint256 claim = dilution.claimOf(leaves[i]);
            require(claim <= certificates.certificateOf(leaves[i]).faceValue, "a claim above its face value");
            sum += claim;
        }
        require(leaves.length == certificates.leafCountOf(rid), "leaf list out of date");
        require(sum == face - registry.creditedOf(rid), "live leaves' claims != face - credited");
    }

    function _checkNoPayoutAboveClaim() private view {
        for (uint256 i; i < leaves.length; ++i) {
            require(escrow.paidOutOf(leaves[i]) <= dilution.claimOf(leaves[i]), "a leaf was paid above its claim");
        }
    }

    function _settleSome(uint256 seed) private {
        uint256 size = seed.bound(1, leaves.length);
        uint256[] memory batch = new uint256[](size);
        for (uint256 i; i < size; ++i) {
            batch[i] = leaves[(seed >> (8 + i)) % leaves.length];
        }
        // A batch with nothing due reverts (SettlementNothingDue): that is fine here.
        try escrow.settle(rid, batch) {} catch {}
    }

    function _reloadLeaves() private {
        uint256[] memory found = leavesOf(rid);
        delete leaves;
        for (uint256 i; i < found.length; ++i) {
            leaves.push(found[i]);
        }
    }
}
