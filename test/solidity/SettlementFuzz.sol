// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Property tests of repayment and settlement, checked against an independent model of what
// every leaf, holder and pledgee is owed:
//   - solvency: the escrow's balance >= sum(repaid - distributed) + totalClaimable, at every step
//     (here it is exactly equal: nobody else sends it tokens);
//   - the sum paid out for a receivable never exceeds what was repaid, and each settle pays
//     exactly floor(repaid * leafFace / face) - alreadyPaid per leaf, pledgee first;
//   - after full repayment and full settlement the dust is 0 and every leaf got its face;
//   - after an early discharge below face, the dust is below the number of leaves and sweepDust
//     returns exactly it; a defaulted receivable stays open, and a late payment in full pays
//     every leaf its face (pledgee first);
//   - the receivable's status only moves Active -> Overdue -> Defaulted or Active|Overdue|Defaulted -> Repaid,
//     and Retired or Settled certificates never come back.
//
// Run counts (hardhat.config.ts, fixed seed "tier1ine"):
//   default profile: fuzz.runs = 1,000 per test   (`npx hardhat test solidity`)
//   deep profile:    fuzz.runs = 10,000 per test  (`npx hardhat test solidity --test-profile deep`)

import {vm} from "./utils/Vm.sol";
import {TierlineDeployer, TierlineRandom} from "./utils/TierlineDeployer.sol";
import {IReceivableRegistry} from "../../contracts/interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "../../contracts/interfaces/ICertificateToken.sol";
import {IFinancingMarket} from "../../contracts/interfaces/IFinancingMarket.sol";
import {ISettlementEscrow} from "../../contracts/interfaces/ISettlementEscrow.sol";

contract SettlementFuzz is TierlineDeployer {
    using TierlineRandom for uint256;

    uint256 private constant MAX_FACE = 1_000_000_000 * ONE;
    uint256 private constant MAX_PARTS = 10;

    // The model of one receivable (fresh in every fuzz run: each run starts from setUp's state).
    bytes32 private rid;
    uint256 private face;
    uint256 private repaid;
    uint256[] private leaves;
    mapping(uint256 leaf => uint256) private modelPaid;
    mapping(uint256 leaf => bool) private modelFinal;
    mapping(uint256 leaf => uint256) private modelOwed; // pledge outstanding
    mapping(uint256 leaf => address) private modelPledgee;
    mapping(uint256 leaf => uint256) private modelRequest;
    mapping(address account => uint256) private expectedGain;
    uint256 private totalPaidToParties;

    function setUp() public {
        deployTierline();
    }

    /* ------------------------------------------------------------------ */
    /*                            Full repayment                          */
    /* ------------------------------------------------------------------ */

    /// Repaid in one to four payments with random settlements in between, then settled in full:
    /// every leaf was paid exactly its face, the pledgees first; nothing is left in escrow.
    function testFuzz_fullRepaymentPaysEveryLeafItsFace(uint256 faceSeed, uint256 seed) public {
        _build(faceSeed, seed);
        uint256 payments = seed.next().bound(1, 4);
        uint256[] memory chunks = face.partition(face < payments ? face : payments, seed.next().next());
        for (uint256 i; i < chunks.length; ++i) {
            _repay(chunks[i]);
            seed = seed.next();
            _settleChecked(_randomBatch(seed)); // an empty-handed batch is checked to revert
        }
        require(registry.statusOf(rid) == IReceivableRegistry.ReceivableStatus.Repaid, "not repaid");
        _settleChecked(leaves);

        require(escrow.distributedOf(rid) == face && totalPaidToParties == face, "paid out != face");
        require(escrow.finalizedLeavesOf(rid) == leaves.length, "not every leaf finalized");
        require(certificates.leafCountOf(rid) == leaves.length, "leaf count changed");
        for (uint256 i; i < leaves.length; ++i) {
            uint256 leaf = leaves[i];
            (uint256 entitled, uint256 paidOut) = escrow.entitlementOf(leaf);
            uint256 leafFace = certificates.certificateOf(leaf).faceValue;
            require(entitled == leafFace && paidOut == leafFace, "leaf not paid its face");
            require(
                certificates.certificateOf(leaf).state == ICertificateToken.CertificateState.Settled,
                "leaf not settled"
            );
            require(financing.activeRequestOf(leaf) == 0, "financing still open on a settled leaf");
            require(certificates.lockerOf(leaf) == address(0), "settled leaf still locked");
        }
        require(token.balanceOf(address(escrow)) == 0, "tokens left in escrow");
        vm.expectRevert(abi.encodeWithSelector(ISettlementEscrow.SettlementNothingDue.selector, rid));
        escrow.sweepDust(rid);
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableRegistry.ReceivableWrongStatus.selector,
                rid,
                IReceivableRegistry.ReceivableStatus.Repaid
            )
        );
        escrow.repay(rid, 1);
    }

    /* ------------------------------------------------------------------ */
    /*                               Default                              */
    /* ------------------------------------------------------------------ */

    /// Part paid (or nothing), overdue or not, then defaulted and settled: every leaf got its
    /// pro-rata share of what came in and stays open (no dust sweep: a late payment may come).
    /// The debtor then pays the rest late: every leaf gets exactly its face, pledgees first,
    /// nothing is left in escrow, and the receivable is closed as Repaid.
    function testFuzz_defaultThenLatePaymentPaysEveryLeafItsFace(
        uint256 faceSeed,
        uint256 seed,
        bool overdueFirst
    ) public {
        _build(faceSeed, seed);
        uint256 total = seed.next().bound(0, face - 1);
        uint256 payments = total == 0 ? 0 : seed.next().next().bound(1, total < 3 ? total : 3);
        uint256[] memory chunks = payments == 0 ? new uint256[](0) : total.partition(payments, seed >> 3);
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(rid);
        for (uint256 i; i < chunks.length; ++i) {
            if (overdueFirst && i == chunks.length - 1) _markOverdue(receivable.dueDate);
            _repay(chunks[i]);
            seed = seed.next();
            _settleChecked(_randomBatch(seed));
        }
        if (overdueFirst && registry.statusOf(rid) == IReceivableRegistry.ReceivableStatus.Active) {
            _markOverdue(receivable.dueDate);
        }
        vm.warp(uint256(receivable.dueDate) + receivable.gracePeriod + 1);
        registry.markDefaulted(rid);
        _settleChecked(leaves);
        require(escrow.finalizedLeavesOf(rid) == 0, "a defaulted receivable's leaf was closed");
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableRegistry.ReceivableWrongStatus.selector,
                rid,
                IReceivableRegistry.ReceivableStatus.Defaulted
            )
        );
        escrow.sweepDust(rid);

        // Late, in one or two payments, with settlements in between.
        uint256 late = face - repaid;
        uint256 first = late < 2 ? late : (seed >> 11).bound(1, late);
        _repay(first);
        _settleChecked(_randomBatch(seed.next()));
        if (late != first) _repay(late - first);
        require(registry.statusOf(rid) == IReceivableRegistry.ReceivableStatus.Repaid, "late payment did not close it");
        _settleChecked(leaves);
        require(escrow.distributedOf(rid) == face && totalPaidToParties == face, "paid out != face");
        require(escrow.finalizedLeavesOf(rid) == leaves.length, "not every leaf finalized");
        for (uint256 i; i < leaves.length; ++i) {
            (uint256 entitled, uint256 paidOut) = escrow.entitlementOf(leaves[i]);
            require(entitled == paidOut && paidOut == certificates.certificateOf(leaves[i]).faceValue, "leaf short");
        }
        require(token.balanceOf(address(escrow)) == escrow.totalClaimable(), "tokens stuck in escrow");
    }

    /* ------------------------------------------------------------------ */
    /*                           Early discharge                          */
    /* ------------------------------------------------------------------ */

    /// Discharged early at a random rate and time to maturity, after zero to two partial
    /// payments: the quote is the outstanding amount less floor(outstanding x rate x timeLeft /
    /// (10,000 x 365 days)); the receivable closes Repaid below face; settlement pays each leaf
    /// floor(repaid x leafFace / face), pledgees first; the dust is below the leaf count and
    /// goes back to the debtor.
    function testFuzz_earlyDischargeSettlesProRata(
        uint256 faceSeed,
        uint256 seed,
        uint256 rateSeed,
        uint256 whenSeed
    ) public {
        uint16 rate = uint16(rateSeed.bound(1, 10_000));
        registry.setEarlyPaymentRate(debtor, rate); // before registration: the rate is frozen then
        _build(faceSeed, seed);
        uint64 dueDate = registry.receivableOf(rid).dueDate;
        uint256 payments = face < 2 ? 0 : seed.next().bound(0, face < 3 ? 1 : 2); // leave something to discharge
        if (payments != 0) {
            uint256 total = (seed >> 9).bound(payments, face - 1);
            uint256[] memory chunks = total.partition(payments, seed >> 17);
            for (uint256 i; i < chunks.length; ++i) {
                _repay(chunks[i]);
                seed = seed.next();
                _settleChecked(_randomBatch(seed));
            }
        }
        vm.warp(whenSeed.bound(block.timestamp, uint256(dueDate) - 1));

        uint256 outstanding = face - repaid;
        uint256 expectedDiscount = (outstanding * rate * (uint256(dueDate) - block.timestamp)) / (10_000 * 365 days);
        (uint256 amount, uint256 discount) = escrow.earlyRepaymentQuote(rid);
        require(discount == expectedDiscount && amount == outstanding - discount, "quote differs from the formula");
        require(amount != 0, "a discount swallowed the whole claim");
        vm.prank(debtor);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementEscrow.SettlementQuoteAboveLimit.selector, amount, amount - 1)
        );
        escrow.repayEarly(rid, amount - 1);

        uint256 escrowBefore = token.balanceOf(address(escrow));
        vm.prank(debtor);
        require(escrow.repayEarly(rid, amount) == amount, "paid another amount than quoted");
        repaid += amount;
        require(token.balanceOf(address(escrow)) - escrowBefore == amount, "escrow did not receive the payment");
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(rid);
        require(receivable.status == IReceivableRegistry.ReceivableStatus.Repaid, "not closed as repaid");
        require(receivable.repaidAmount == repaid, "early payment not recorded");
        _checkSolvency();

        _settleChecked(leaves);
        for (uint256 i; i < leaves.length; ++i) {
            require(
                certificates.certificateOf(leaves[i]).state == ICertificateToken.CertificateState.Settled,
                "leaf not settled"
            );
        }
        _checkClosedOut();
    }

    /// For any tenor (up to ten years) and any allowed rate (up to 10,000 bps), at any moment
    /// before maturity, the early-repayment quote is either a real offer (amount above zero,
    /// amount + discount == outstanding) or a refusal with EarlyPaymentUnavailable: never an
    /// arithmetic panic, and never a zero price that would discharge the claim for nothing.
    function testFuzz_earlyQuoteIsAnOfferOrARefusal(
        uint256 faceSeed,
        uint256 tenorSeed,
        uint256 rateSeed,
        uint256 elapsedSeed
    ) public {
        uint256 faceValue = faceSeed.bound(1, MAX_FACE);
        uint256 tenor = tenorSeed.bound(1 days, 3_650 days);
        registry.setEarlyPaymentRate(debtor, uint16(rateSeed.bound(1, 10_000))); // frozen at registration
        (rid, ) = registerReceivable(tier1, faceValue, tenor);
        vm.warp(block.timestamp + elapsedSeed.bound(0, tenor - 1));

        try escrow.earlyRepaymentQuote(rid) returns (uint256 amount, uint256 discount) {
            require(amount != 0, "the quote prices the whole claim at zero");
            require(amount + discount == faceValue, "the quote does not cover the outstanding amount");
        } catch (bytes memory reason) {
            require(
                bytes4(reason) == IReceivableRegistry.EarlyPaymentUnavailable.selector,
                "the quote failed without a domain error (arithmetic panic)"
            );
        }
    }

    /// After a close below face (default or early discharge) and settlement of every leaf: the
    /// dust is exactly the leaves' rounding, below the leaf count, and sweepDust returns exactly it.
    function _checkClosedOut() private {
        require(escrow.finalizedLeavesOf(rid) == leaves.length, "not every leaf finalized");
        uint256 dust = repaid - escrow.distributedOf(rid);
        uint256 rounding;
        for (uint256 i; i < leaves.length; ++i) {
            rounding += (repaid * certificates.certificateOf(leaves[i]).faceValue) / face;
        }
        require(dust == repaid - rounding, "dust is not the leaves' rounding");
        require(dust < leaves.length, "dust not below the leaf count");
        _checkSolvency();

        uint256 debtorBefore = token.balanceOf(debtor);
        if (dust != 0) {
            require(escrow.sweepDust(rid) == dust, "sweep returned another amount");
            require(token.balanceOf(debtor) - debtorBefore == dust, "debtor did not get the dust back");
        }
        vm.expectRevert(abi.encodeWithSelector(ISettlementEscrow.SettlementNothingDue.selector, rid));
        escrow.sweepDust(rid);
        require(escrow.distributedOf(rid) == repaid, "repaid money unaccounted for");
        require(token.balanceOf(address(escrow)) == escrow.totalClaimable(), "tokens stuck in escrow");
    }

    /* ------------------------------------------------------------------ */
    /*                        One-way lifecycle                           */
    /* ------------------------------------------------------------------ */

    /// Any sequence of clock moves, overdue and default marks, payments (partial, full, early
    /// discharge), settlements and splits only moves the status forward, and Retired or Settled certificates never come back.
    function testFuzz_lifecycleOnlyMovesForward(uint256 faceSeed, uint256 seed) public {
        registry.setEarlyPaymentRate(debtor, uint16(seed.bound(0, 10_000))); // 0: early discharge off
        _build(faceSeed, seed);
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(rid);
        uint256 steps = seed.bound(4, 24);
        for (uint256 step; step < steps; ++step) {
            seed = seed.next();
            IReceivableRegistry.ReceivableStatus before = registry.statusOf(rid);
            ICertificateToken.CertificateState[] memory statesBefore = _states();
            _randomLifecycleAction(seed, receivable);
            _checkTransition(before, registry.statusOf(rid));
            _checkCertificateTransitions(statesBefore);
            _checkSolvency();
        }
    }

    function _randomLifecycleAction(uint256 seed, IReceivableRegistry.Receivable memory receivable) private {
        uint256 action = seed % 8;
        uint256 arg = seed >> 8;
        if (action == 0) {
            vm.warp(block.timestamp + arg.bound(0, 60 days));
        } else if (action == 1) {
            try registry.markOverdue(rid) {} catch {}
        } else if (action == 2) {
            try registry.markDefaulted(rid) {} catch {}
        } else if (action == 3 || action == 4) {
            uint256 outstanding = face - registry.receivableOf(rid).repaidAmount;
            if (outstanding == 0) return;
            uint256 amount = action == 3 ? arg.bound(1, outstanding) : outstanding;
            vm.prank(debtor);
            try escrow.repay(rid, amount) {
                repaid += amount;
            } catch {}
        } else if (action == 5) {
            try escrow.settle(rid, leaves) {} catch {}
        } else if (action == 7) {
            vm.prank(debtor);
            try escrow.repayEarly(rid, type(uint256).max) returns (uint256 amount) {
                repaid += amount;
            } catch {}
        } else {
            // A split of some leaf, whenever the registry still allows it (it records lineage only).
            uint256 leaf = leaves[arg % leaves.length];
            ICertificateToken.Certificate memory c = certificates.certificateOf(leaf);
            if (c.state != ICertificateToken.CertificateState.Live || c.faceValue < 2) return;
            ICertificateToken.SplitPart[] memory parts = new ICertificateToken.SplitPart[](2);
            parts[0] = ICertificateToken.SplitPart({to: tier2, amount: 1});
            parts[1] = ICertificateToken.SplitPart({to: tier3, amount: c.faceValue - 1});
            address holder = certificates.ownerOf(leaf);
            vm.prank(holder);
            try certificates.split(leaf, parts) {
                _reloadLeaves();
            } catch (bytes memory reason) {
                // A refused split is refused for the right reason: the receivable is closed to
                // splitting (repayment begun, due, or no longer Active), or the tree is too deep.
                bool closedToSplits =
                    receivable.dueDate <= block.timestamp ||
                        registry.receivableOf(rid).repaidAmount != 0 ||
                        registry.statusOf(rid) != IReceivableRegistry.ReceivableStatus.Active;
                bytes4 selector = bytes4(reason);
                require(
                    closedToSplits
                        ? selector == ICertificateToken.SplitClosed.selector
                        : selector == ICertificateToken.SplitTierTooDeep.selector,
                    "split refused for the wrong reason"
                );
            }
        }
    }

    /* ------------------------------------------------------------------ */
    /*                       Building the scenario                        */
    /* ------------------------------------------------------------------ */

    /// One receivable split into a tree of up to three levels, with random financing on each leaf:
    /// none, an open request, a discount sale, or a funded pledge.
    function _build(uint256 faceSeed, uint256 seed) private {
        // Half the runs use tiny faces, where rounding dominates.
        face = faceSeed % 2 == 0 ? (faceSeed >> 1).bound(1, 1_000) : (faceSeed >> 1).bound(1, MAX_FACE);
        uint256 rootId;
        (rid, rootId) = registerReceivable(tier1, face, 90 days);
        uint256 parts = seed.bound(1, face < MAX_PARTS ? face : MAX_PARTS);
        uint256[] memory children = splitAs(rootId, _recipients(parts, seed >> 16), face.partition(parts, seed.next()));
        // Maybe split one child again.
        seed = seed.next().next();
        uint256 child = children[seed % children.length];
        uint256 childFace = certificates.certificateOf(child).faceValue;
        if (seed % 3 != 0) {
            uint256 more = (seed >> 8).bound(1, childFace < MAX_PARTS ? childFace : MAX_PARTS);
            splitAs(child, _recipients(more, seed >> 32), childFace.partition(more, seed.next()));
        }
        _reloadLeaves();
        for (uint256 i; i < leaves.length; ++i) {
            seed = seed.next();
            _finance(leaves[i], seed);
        }
        _checkSolvency();
    }

    function _finance(uint256 leaf, uint256 seed) private {
        uint256 mode = seed % 4;
        if (mode == 0) return;
        uint256 leafFace = certificates.certificateOf(leaf).faceValue;
        address holder = certificates.ownerOf(leaf);
        address funder = holder == financier ? financier2 : financier;
        IFinancingMarket.FinancingKind kind =
            mode == 3 || (mode == 1 && seed % 8 < 4)
                ? IFinancingMarket.FinancingKind.Pledge
                : IFinancingMarket.FinancingKind.Discount;
        uint256 price = (seed >> 16).bound(1, leafFace);
        uint256 repayAmount = kind == IFinancingMarket.FinancingKind.Pledge ? (seed >> 128).bound(price, leafFace) : 0;
        vm.prank(holder);
        uint256 requestId = financing.openRequest(leaf, kind, price, repayAmount);
        modelRequest[leaf] = requestId;
        if (mode == 1) return; // left open
        vm.prank(funder);
        financing.fund(requestId, price, repayAmount, leafFace); // nothing paid out yet: the whole face
        if (kind == IFinancingMarket.FinancingKind.Pledge) {
            modelOwed[leaf] = repayAmount;
            modelPledgee[leaf] = funder;
        } else {
            require(certificates.ownerOf(leaf) == funder, "discount did not deliver");
        }
    }

    /* ------------------------------------------------------------------ */
    /*                    Checked repayment and settlement                */
    /* ------------------------------------------------------------------ */

    function _repay(uint256 amount) private {
        uint256 escrowBefore = token.balanceOf(address(escrow));
        vm.prank(debtor);
        escrow.repay(rid, amount);
        repaid += amount;
        require(registry.receivableOf(rid).repaidAmount == repaid, "repayment not recorded");
        require(token.balanceOf(address(escrow)) - escrowBefore == amount, "escrow did not receive the payment");
        _checkSolvency();
    }

    function _markOverdue(uint64 dueDate) private {
        if (block.timestamp <= dueDate) vm.warp(uint256(dueDate) + 1);
        registry.markOverdue(rid);
        require(registry.statusOf(rid) == IReceivableRegistry.ReceivableStatus.Overdue, "not overdue");
    }

    /// Settles `batch` and checks every transfer against the model.
    function _settleChecked(uint256[] memory batch) private {
        if (batch.length == 0) return;
        // Only Repaid is final: a defaulted receivable may still be paid late.
        bool closed = registry.statusOf(rid) == IReceivableRegistry.ReceivableStatus.Repaid;
        address[] memory cast = _payees();
        uint256[] memory balancesBefore = _balances(cast);
        uint256 escrowBefore = token.balanceOf(address(escrow));
        uint256 distributedBefore = escrow.distributedOf(rid);

        (uint256 expectedPaid, bool progressed) = _modelSettle(batch, closed);

        if (!progressed) {
            vm.expectRevert(abi.encodeWithSelector(ISettlementEscrow.SettlementNothingDue.selector, rid));
            escrow.settle(rid, batch);
            _resetGains(cast);
            return;
        }
        uint256 paid = escrow.settle(rid, batch);

        require(paid == expectedPaid, "settle paid another total than the model");
        require(escrowBefore - token.balanceOf(address(escrow)) == paid, "escrow balance moved by another amount");
        require(escrow.distributedOf(rid) - distributedBefore == paid, "distributed moved by another amount");
        for (uint256 i; i < cast.length; ++i) {
            require(
                token.balanceOf(cast[i]) - balancesBefore[i] == expectedGain[cast[i]],
                "a payee got another amount"
            );
        }
        totalPaidToParties += paid;
        _resetGains(cast);
        _checkPledges();
        _checkSolvency();
    }

    /// What the escrow should pay for `batch`, leaf by leaf in order (duplicates included).
    function _modelSettle(uint256[] memory batch, bool closed) private returns (uint256 total, bool progressed) {
        // Repaid (in full, or discharged early below face) is final: leaves close, pledges end.
        bool repaidInFull = registry.statusOf(rid) == IReceivableRegistry.ReceivableStatus.Repaid;
        for (uint256 i; i < batch.length; ++i) {
            uint256 leaf = batch[i];
            if (modelFinal[leaf]) continue;
            uint256 entitled = (repaid * certificates.certificateOf(leaf).faceValue) / face;
            uint256 due = entitled - modelPaid[leaf];
            if (due == 0 && !closed) continue;
            uint256 toPledgee = due < modelOwed[leaf] ? due : modelOwed[leaf];
            if (toPledgee != 0) expectedGain[modelPledgee[leaf]] += toPledgee;
            expectedGain[certificates.ownerOf(leaf)] += due - toPledgee;
            modelPaid[leaf] = entitled;
            modelOwed[leaf] -= toPledgee;
            if (closed) modelFinal[leaf] = true;
            if (repaidInFull) modelOwed[leaf] = 0; // the final payment releases the pledge, shortfall or not
            total += due;
            progressed = true;
        }
    }

    /// Pledges and locks match the model after a settlement.
    function _checkPledges() private view {
        for (uint256 i; i < leaves.length; ++i) {
            uint256 leaf = leaves[i];
            (, address pledgee, uint256 outstanding) = financing.pledgeOf(leaf);
            require(outstanding == modelOwed[leaf], "pledge outstanding differs from the model");
            if (outstanding != 0) require(pledgee == modelPledgee[leaf], "wrong pledgee");
            ICertificateToken.CertificateState state = certificates.certificateOf(leaf).state;
            if (state == ICertificateToken.CertificateState.Locked) {
                require(financing.activeRequestOf(leaf) != 0, "locked without a request");
            } else {
                require(financing.activeRequestOf(leaf) == 0, "request active on an unlocked leaf");
            }
        }
    }

    /// Solvency, with the dust bound for closed and fully settled receivables.
    function _checkSolvency() private view {
        uint256 distributed = escrow.distributedOf(rid);
        uint256 repaidAmount = registry.receivableOf(rid).repaidAmount;
        require(distributed <= repaidAmount, "paid out more than was repaid");
        uint256 held = token.balanceOf(address(escrow));
        require(held >= repaidAmount - distributed + escrow.totalClaimable(), "escrow insolvent");
        require(held == repaidAmount - distributed + escrow.totalClaimable(), "escrow holds unexplained tokens");
        if (escrow.finalizedLeavesOf(rid) == certificates.leafCountOf(rid)) {
            IReceivableRegistry.ReceivableStatus status = registry.statusOf(rid);
            if (repaidAmount == face) require(distributed == repaidAmount, "dust after full repayment");
            else if (
                status == IReceivableRegistry.ReceivableStatus.Defaulted ||
                status == IReceivableRegistry.ReceivableStatus.Repaid // discharged early
            ) require(repaidAmount - distributed < certificates.leafCountOf(rid), "dust not below the leaf count");
        }
    }

    /// After a default, a pledgee still owed something can take the certificate.
    function _forecloseShortPledges() private {
        for (uint256 i; i < leaves.length; ++i) {
            uint256 leaf = leaves[i];
            if (modelOwed[leaf] == 0) continue;
            vm.prank(modelPledgee[leaf]);
            financing.foreclose(modelRequest[leaf]);
            require(certificates.ownerOf(leaf) == modelPledgee[leaf], "foreclosure did not deliver");
            require(certificates.lockerOf(leaf) == address(0), "foreclosed certificate still locked");
        }
    }

    /* ------------------------------------------------------------------ */
    /*                         Lifecycle checks                           */
    /* ------------------------------------------------------------------ */

    function _checkTransition(
        IReceivableRegistry.ReceivableStatus from,
        IReceivableRegistry.ReceivableStatus to
    ) private pure {
        if (from == to) return;
        bool allowed =
            (from == IReceivableRegistry.ReceivableStatus.Active &&
                (to == IReceivableRegistry.ReceivableStatus.Overdue ||
                    to == IReceivableRegistry.ReceivableStatus.Defaulted ||
                    to == IReceivableRegistry.ReceivableStatus.Repaid)) ||
                (from == IReceivableRegistry.ReceivableStatus.Overdue &&
                    (to == IReceivableRegistry.ReceivableStatus.Defaulted ||
                        to == IReceivableRegistry.ReceivableStatus.Repaid)) ||
                (from == IReceivableRegistry.ReceivableStatus.Defaulted &&
                    to == IReceivableRegistry.ReceivableStatus.Repaid); // late payment
        require(allowed, "status moved backwards or out of order");
    }

    /// States of every certificate id issued so far (index = id).
    function _states() private view returns (ICertificateToken.CertificateState[] memory states) {
        uint256 last = certificates.nextCertificateId();
        states = new ICertificateToken.CertificateState[](last);
        for (uint256 id = 1; id < last; ++id) {
            states[id] = certificates.certificateOf(id).state;
        }
    }

    function _checkCertificateTransitions(ICertificateToken.CertificateState[] memory before) private view {
        for (uint256 id = 1; id < before.length; ++id) {
            ICertificateToken.CertificateState now_ = certificates.certificateOf(id).state;
            if (
                before[id] == ICertificateToken.CertificateState.Retired ||
                before[id] == ICertificateToken.CertificateState.Settled
            ) {
                require(now_ == before[id], "a retired or settled certificate came back");
            }
            if (now_ == ICertificateToken.CertificateState.Settled) {
                require(
                    registry.statusOf(rid) == IReceivableRegistry.ReceivableStatus.Repaid,
                    "settled before full repayment"
                );
            }
        }
    }

    /* ------------------------------------------------------------------ */
    /*                               Helpers                              */
    /* ------------------------------------------------------------------ */

    function _reloadLeaves() private {
        uint256[] memory found = leavesOf(rid);
        delete leaves;
        for (uint256 i; i < found.length; ++i) {
            leaves.push(found[i]);
        }
    }

    /// A random selection of leaves, possibly with repeats, possibly empty.
    function _randomBatch(uint256 seed) private view returns (uint256[] memory batch) {
        uint256 size = seed.bound(0, leaves.length + 2);
        batch = new uint256[](size);
        for (uint256 i; i < size; ++i) {
            seed = seed.next();
            batch[i] = leaves[seed % leaves.length];
        }
    }

    function _recipients(uint256 count, uint256 seed) private view returns (address[] memory list) {
        address[] memory cast = holders();
        list = new address[](count);
        for (uint256 i; i < count; ++i) {
            seed = seed.next();
            list[i] = cast[seed % cast.length];
        }
    }

    function _payees() private view returns (address[] memory list) {
        list = new address[](6);
        list[0] = tier1;
        list[1] = tier2;
        list[2] = tier3;
        list[3] = financier;
        list[4] = financier2;
        list[5] = debtor;
    }

    function _balances(address[] memory accounts) private view returns (uint256[] memory balances) {
        balances = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            balances[i] = token.balanceOf(accounts[i]);
        }
    }

    function _resetGains(address[] memory accounts) private {
        for (uint256 i; i < accounts.length; ++i) {
            delete expectedGain[accounts[i]];
        }
    }
}
