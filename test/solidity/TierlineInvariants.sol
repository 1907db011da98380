// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Invariant tests of the whole system. The fuzzer calls random sequences of TierlineHandler's
// actions (register, duplicate registration, split, transfer, open/cancel/fund financing,
// repay and foreclose pledges, partial, full and early (discounted) repayment, settlement
// batches, overdue and default marks with clock jumps, dust sweeps, double-pledge attempts,
// attempts to hand a certificate to the auditor),
// and after every call checks:
//   invariant_conservation       (1) live leaves of every receivable add up to its face;
//   invariant_noDoublePledge     (3) a certificate is in at most one open or pledged request,
//                                    locked exactly while it is, and never moved while locked;
//   invariant_solvency           (4) escrow balance >= sum(repaid - distributed) + totalClaimable,
//                                    paid out <= repaid, dust 0 after full repayment and full
//                                    settlement, dust < leaves after default or early discharge;
//   invariant_oneWayLifecycle    (5) statuses only move forward; Retired/Settled never come back;
//   invariant_nonHolderNeverHolds (8) the auditor (active, registered as a non-holder) never gets
//                                    a certificate by transfer, split part or funding;
//   invariant_ownershipAddsUp    (9) every live or locked certificate has an owner, every retired or
//                                    settled one has none, and the holders' ERC-721 balances count
//                                    exactly the certificates they own (roots their sellers still
//                                    hold have no owner slot: issue 12).
// `afterInvariant` checks, after every run, that the handler was really the target (its call
// counter moved), that no normal path failed and no duplicate invoice was accepted.
// `test_handlerReachesEveryPath` drives the same handler through a fixed script and asserts
// every path was taken (each path was also seen reached by the fuzzer itself, by probing
// afterInvariant). Targets are declared as forge-std's StdInvariant does, without forge-std:
// EDR reads targetContracts() and targetSelectors() from the test contract.
//
// Run counts (hardhat.config.ts, fixed seed "tier1ine"), per invariant function:
//   default profile: invariant.runs = 1,000, depth = 16  (16,000 calls)
//   deep profile:    invariant.runs = 1,000, depth = 32  (32,000 calls)

import {TierlineDeployer} from "./utils/TierlineDeployer.sol";
import {TierlineHandler} from "./TierlineHandler.sol";
import {IReceivableRegistry} from "../../contracts/interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "../../contracts/interfaces/ICertificateToken.sol";
import {IFinancingMarket} from "../../contracts/interfaces/IFinancingMarket.sol";

contract TierlineInvariants is TierlineDeployer {
    /// The shape the invariant runner reads from targetSelectors() (as forge-std's StdInvariant).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    TierlineHandler internal handler;

    function setUp() public {
        deployTierline();
        handler = new TierlineHandler(world, DEBTOR_KEY, holders(), address(this), outsider, auditor);
        registry.grantRole(registry.REGISTRAR_ROLE(), address(handler));
        registry.setEarlyPaymentRate(debtor, 2_500); // 25% a year: early discharge leaves visible dust
        handler.bootstrap();
    }

    /* ------------------------------------------------------------------ */
    /*                 What the fuzzer calls (and nothing else)           */
    /* ------------------------------------------------------------------ */

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](21);
        selectors[0] = TierlineHandler.register.selector;
        selectors[1] = TierlineHandler.registerDuplicate.selector;
        selectors[2] = TierlineHandler.split.selector;
        selectors[3] = TierlineHandler.split.selector; // splits weigh double: they build the trees
        selectors[4] = TierlineHandler.transfer.selector;
        selectors[5] = TierlineHandler.openRequest.selector;
        selectors[6] = TierlineHandler.cancelRequest.selector;
        selectors[7] = TierlineHandler.fund.selector;
        selectors[8] = TierlineHandler.repayPledge.selector;
        selectors[9] = TierlineHandler.foreclose.selector;
        selectors[10] = TierlineHandler.repay.selector;
        selectors[11] = TierlineHandler.settle.selector;
        selectors[12] = TierlineHandler.markOverdue.selector;
        selectors[13] = TierlineHandler.markDefaulted.selector;
        selectors[14] = TierlineHandler.sweepDust.selector;
        selectors[15] = TierlineHandler.warp.selector;
        selectors[16] = TierlineHandler.attemptDoublePledge.selector;
        selectors[17] = TierlineHandler.repayEarly.selector;
        selectors[18] = TierlineHandler.attemptSeizure.selector;
        selectors[19] = TierlineHandler.attemptSeizure.selector; // double weight: the trust model
        selectors[20] = TierlineHandler.attemptNonHolderDelivery.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /* ------------------------------------------------------------------ */
    /*                              Invariants                            */
    /* ------------------------------------------------------------------ */

    /// (1) For every receivable, its leaves (Live, Locked or Settled) add up to its face, their
    /// number is the token's leaf count, and every certificate ever issued is accounted for.
    function invariant_conservation() public view {
        uint256 tracked;
        for (uint256 r; r < handler.receivableCount(); ++r) {
            bytes32 receivableId = handler.receivableIds(r);
            uint256[] memory ids = handler.certificatesOf(receivableId);
            tracked += ids.length;
            uint256 leafFace;
            uint256 leafCount;
            for (uint256 i; i < ids.length; ++i) {
                ICertificateToken.Certificate memory c = certificates.certificateOf(ids[i]);
                require(c.receivableId == receivableId, "certificate filed under another receivable");
                if (c.state == ICertificateToken.CertificateState.Retired) {
                    _requireChildrenAddUp(ids, ids[i], c.faceValue);
                    continue;
                }
                leafFace += c.faceValue;
                ++leafCount;
            }
            require(leafFace == registry.receivableOf(receivableId).faceValue, "leaves do not add up to the face");
            require(leafCount == certificates.leafCountOf(receivableId), "leaf count disagrees");
        }
        require(tracked == certificates.nextCertificateId() - 1, "a certificate escaped the bookkeeping");
    }

    /// (3) No double pledge: every Locked certificate has exactly one active (Open or Pledged)
    /// request naming it, held by the financing market; nothing else is locked or active; and no
    /// attempt to finance, split, move or fund again a locked certificate ever succeeded.
    function invariant_noDoublePledge() public view {
        require(handler.doublePledgesAccepted() == 0, "a locked certificate was financed, split or moved");
        uint256 certificateCount = handler.certificateCount();
        for (uint256 i; i < certificateCount; ++i) {
            uint256 id = handler.allCertificates(i);
            ICertificateToken.CertificateState state = certificates.certificateOf(id).state;
            uint256 requestId = financing.activeRequestOf(id);
            if (state == ICertificateToken.CertificateState.Locked) {
                require(certificates.lockerOf(id) == address(financing), "locked by someone else");
                require(requestId != 0, "locked without an active request");
                IFinancingMarket.Request memory request = financing.requestOf(requestId);
                require(request.certificateId == id, "active request names another certificate");
                require(
                    request.status == IFinancingMarket.RequestStatus.Open ||
                        request.status == IFinancingMarket.RequestStatus.Pledged,
                    "active request is not open or pledged"
                );
                require(certificates.ownerOf(id) == request.holder, "locked certificate changed hands");
            } else {
                require(certificates.lockerOf(id) == address(0), "unlocked certificate has a locker");
                require(requestId == 0, "unlocked certificate has an active request");
            }
        }
        // Each open or pledged request is the one active request of its certificate.
        uint256 requests = financing.requestCount();
        for (uint256 requestId = 1; requestId <= requests; ++requestId) {
            IFinancingMarket.Request memory request = financing.requestOf(requestId);
            if (
                request.status == IFinancingMarket.RequestStatus.Open ||
                request.status == IFinancingMarket.RequestStatus.Pledged
            ) {
                require(
                    financing.activeRequestOf(request.certificateId) == requestId,
                    "two active requests on one certificate"
                );
                require(
                    certificates.certificateOf(request.certificateId).state ==
                        ICertificateToken.CertificateState.Locked,
                    "active request on an unlocked certificate"
                );
            }
        }
    }

    /// (6) No single key moves a certificate its holder did not agree to move: every attempt by
    /// the admin (after granting itself any role), the registrar, the registry contract, an
    /// outsider or another party to transfer, lock, deliver, unlock, close or re-issue failed
    /// and left the certificate as it was.
    function invariant_noSeizure() public view {
        require(handler.seizuresAccepted() == 0, "a key moved, locked or closed a certificate without its holder");
    }

    /// (8) A party that may not hold (the auditor) never holds: every transfer, split part and
    /// funding that would hand it a certificate was refused, and it holds none.
    function invariant_nonHolderNeverHolds() public view {
        require(handler.nonHolderDeliveriesAccepted() == 0, "a certificate was handed to a party that may not hold");
        require(certificates.balanceOf(auditor) == 0, "the auditor holds a certificate");
    }

    /// (9) Ownership adds up, whether or not a root ever moved: an owner for each live or locked
    /// certificate and none for a retired or settled one, and each holder's balance is the number
    /// it owns.
    function invariant_ownershipAddsUp() public view {
        address[] memory list = holders();
        uint256[] memory owned = new uint256[](list.length);
        uint256 certificateCount = handler.certificateCount();
        for (uint256 i; i < certificateCount; ++i) {
            uint256 id = handler.allCertificates(i);
            ICertificateToken.CertificateState state = certificates.certificateOf(id).state;
            bool held =
                state == ICertificateToken.CertificateState.Live || state == ICertificateToken.CertificateState.Locked;
            try certificates.ownerOf(id) returns (address owner) {
                require(held, "a retired or settled certificate has an owner");
                uint256 k;
                while (k < list.length && list[k] != owner) ++k;
                require(k < list.length, "a certificate is owned by someone who is not a holder");
                ++owned[k];
            } catch {
                require(!held, "a live or locked certificate has no owner");
            }
        }
        for (uint256 k; k < list.length; ++k) {
            require(certificates.balanceOf(list[k]) == owned[k], "a holder's balance is not what it owns");
        }
    }

    /// (7) For every receivable, the sum paid to its holders (and pledgees) never exceeds the sum
    /// its debtor paid in.
    function invariant_holdersPaidAtMostDebtorPaidIn() public view {
        for (uint256 r; r < handler.receivableCount(); ++r) {
            bytes32 receivableId = handler.receivableIds(r);
            require(
                handler.paidToHolders(receivableId) <= handler.debtorPaidIn(receivableId),
                "holders were paid more than the debtor paid in"
            );
            require(
                handler.debtorPaidIn(receivableId) == registry.receivableOf(receivableId).repaidAmount,
                "the registry's books differ from what the debtor paid"
            );
        }
    }

    /// (4) Solvency and bounded dust.
    function invariant_solvency() public view {
        uint256 owedByEscrow = escrow.totalClaimable();
        for (uint256 r; r < handler.receivableCount(); ++r) {
            bytes32 receivableId = handler.receivableIds(r);
            IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
            uint256 distributed = escrow.distributedOf(receivableId);
            require(distributed <= receivable.repaidAmount, "paid out more than was repaid");
            require(handler.paidOut(receivableId) == distributed, "distributed disagrees with what settle reported");
            owedByEscrow += receivable.repaidAmount - distributed;

            uint256 leaves = certificates.leafCountOf(receivableId);
            if (escrow.finalizedLeavesOf(receivableId) == leaves) {
                if (receivable.repaidAmount == receivable.faceValue) {
                    require(distributed == receivable.repaidAmount, "dust after full repayment and settlement");
                } else if (receivable.status == IReceivableRegistry.ReceivableStatus.Repaid) {
                    // discharged early
                    require(receivable.repaidAmount - distributed < leaves, "dust not below the leaf count");
                }
            }
            _requireLeavesPaidAtMostEntitled(receivableId);
        }
        require(token.balanceOf(address(escrow)) >= owedByEscrow, "escrow insolvent");
    }

    /// (5) Statuses only move Active -> Overdue -> Defaulted or Active|Overdue|Defaulted -> Repaid; a
    /// Retired or Settled certificate never changes again; Settled only after full repayment.
    function invariant_oneWayLifecycle() public view {
        for (uint256 r; r < handler.receivableCount(); ++r) {
            bytes32 receivableId = handler.receivableIds(r);
            require(
                _statusMayMove(handler.statusBefore(receivableId), registry.statusOf(receivableId)),
                "receivable status moved backwards or skipped"
            );
        }
        uint256 certificateCount = handler.certificateCount();
        for (uint256 i; i < certificateCount; ++i) {
            uint256 id = handler.allCertificates(i);
            ICertificateToken.Certificate memory c = certificates.certificateOf(id);
            require(_stateMayMove(handler.stateBefore(id), c.state), "certificate state moved illegally");
            if (c.state == ICertificateToken.CertificateState.Settled) {
                require(
                    registry.statusOf(c.receivableId) == IReceivableRegistry.ReceivableStatus.Repaid,
                    "settled before the receivable was repaid"
                );
            }
        }
    }

    /// After every run: the fuzzer really drove the handler, normal paths never failed, and no
    /// duplicate invoice was accepted.
    function afterInvariant() public view {
        require(handler.calls() > 0, "the invariant fuzzer never called the handler");
        require(handler.unexpectedFailures() == 0, handler.lastUnexpected());
        require(handler.duplicatesAccepted() == 0, "a duplicate invoice was registered");
        require(handler.seizuresAccepted() == 0, "a certificate moved without its holder");
    }

    /* ------------------------------------------------------------------ */
    /*                     The handler makes progress                     */
    /* ------------------------------------------------------------------ */

    /// A fixed script through every handler path (bootstrap: receivable A of 1,000 tUSD whole,
    /// receivable B of 7,777 units split in four, one piece pledged, one in an open request); no step may fail unexpectedly, every
    /// counter must have moved, and every invariant holds at the end (the fuzzer checks them
    /// after every call). Kept short on purpose: a failing Solidity test is re-run with full
    /// tracing, which costs memory in proportion to the gas it burned (a 300-step random walk
    /// needed more than 8 GB to report a failure).
    function test_handlerReachesEveryPath() public {
        _step(abi.encodeCall(TierlineHandler.register, (2, 2 * 20_000 + 1, 50 days))); // C
        _step(abi.encodeCall(TierlineHandler.registerDuplicate, (1, 42)));
        _step(abi.encodeCall(TierlineHandler.split, (0, 4, 5))); // A's root into pieces
        _step(abi.encodeCall(TierlineHandler.transfer, (2, 3)));
        _step(abi.encodeCall(TierlineHandler.openRequest, (3, true, 100, 3_000))); // pledges on B's pieces
        _step(abi.encodeCall(TierlineHandler.openRequest, (2, true, 50, 60)));
        _step(abi.encodeCall(TierlineHandler.openRequest, (5, false, 7, 0))); // discounts on A's pieces
        _step(abi.encodeCall(TierlineHandler.openRequest, (6, false, 9, 0)));
        for (uint256 mode; mode < 3; ++mode) {
            _step(abi.encodeCall(TierlineHandler.attemptNonHolderDelivery, (mode, mode))); // transfer, split, fund
        }
        _step(abi.encodeCall(TierlineHandler.fund, (0, 0)));
        _step(abi.encodeCall(TierlineHandler.fund, (1, 1)));
        _step(abi.encodeCall(TierlineHandler.fund, (2, 0)));
        _step(abi.encodeCall(TierlineHandler.cancelRequest, (3)));
        for (uint256 mode; mode < 4; ++mode) {
            _step(abi.encodeCall(TierlineHandler.attemptDoublePledge, (3, mode)));
        }
        for (uint256 mode; mode < 5; ++mode) {
            _step(abi.encodeCall(TierlineHandler.attemptSeizure, (mode, mode, mode))); // live and locked
        }
        _step(abi.encodeCall(TierlineHandler.repayPledge, (1)));
        _step(abi.encodeCall(TierlineHandler.repay, (1, (100 << 2) | 1))); // B: 101 units of 7,777
        _step(abi.encodeCall(TierlineHandler.settle, (1, 0)));
        _step(abi.encodeCall(TierlineHandler.settle, (1, 0))); // nothing more due: refused
        _step(abi.encodeCall(TierlineHandler.repay, (0, 0))); // A: everything
        _step(abi.encodeCall(TierlineHandler.settle, (0, 0)));
        // C is the only receivable still open to splits: its pieces leave rounding dust when it is
        // discharged early (B, paid late in full after its default, leaves none any more).
        _step(abi.encodeCall(TierlineHandler.split, (0, 3, 7)));
        _step(abi.encodeCall(TierlineHandler.repayEarly, (2))); // C: discharged early
        _step(abi.encodeCall(TierlineHandler.settle, (2, 0)));
        _step(abi.encodeCall(TierlineHandler.markOverdue, (1, true))); // B
        _step(abi.encodeCall(TierlineHandler.markDefaulted, (1, true)));
        _step(abi.encodeCall(TierlineHandler.settle, (1, 0)));
        _step(abi.encodeCall(TierlineHandler.foreclose, (0)));
        _step(abi.encodeCall(TierlineHandler.repay, (1, 0))); // B: the rest, late, after default
        _step(abi.encodeCall(TierlineHandler.settle, (1, 0)));
        _step(abi.encodeCall(TierlineHandler.sweepDust, (1)));
        _step(abi.encodeCall(TierlineHandler.sweepDust, (2)));
        _step(abi.encodeCall(TierlineHandler.warp, (5)));

        invariant_conservation();
        invariant_noDoublePledge();
        invariant_solvency();
        invariant_oneWayLifecycle();
        invariant_noSeizure();
        invariant_nonHolderNeverHolds();
        invariant_ownershipAddsUp();
        invariant_holdersPaidAtMostDebtorPaidIn();
        afterInvariant();
        require(handler.registrations() == 3 && handler.duplicatesRefused() == 1, "registration paths");
        require(handler.splits() == 3 && handler.transfers() == 1, "split and transfer paths");
        require(handler.requestsOpened() == 4 && handler.requestsCancelled() == 1, "request paths");
        require(handler.discountsFunded() == 1 && handler.pledgesFunded() == 2, "funding paths");
        require(handler.doublePledgesRefused() >= 3 && handler.doublePledgesAccepted() == 0, "double-pledge paths");
        require(handler.pledgesRepaid() == 1 && handler.foreclosures() == 1, "pledge endings");
        require(handler.repayments() == 3 && handler.fullRepayments() == 2, "repayment paths");
        require(handler.earlyDischarges() == 1, "early discharge path");
        require(handler.settlements() >= 4 && handler.emptySettlementsRefused() >= 1, "settlement paths");
        require(handler.overdues() == 1 && handler.defaults() == 1, "overdue and default paths");
        require(handler.sweeps() >= 1 && handler.warps() == 1, "sweep and warp paths");
        require(handler.seizuresRefused() >= 4 && handler.seizuresAccepted() == 0, "seizure paths");
        require(
            handler.nonHolderDeliveriesRefused() == 3 && handler.nonHolderDeliveriesAccepted() == 0,
            "non-holder delivery paths"
        );
    }

    /// One handler call, then every invariant.
    function _step(bytes memory call) private {
        (bool ok, bytes memory reason) = address(handler).call(call);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
        require(handler.unexpectedFailures() == 0, handler.lastUnexpected());
    }

    /* ------------------------------------------------------------------ */
    /*                               Helpers                              */
    /* ------------------------------------------------------------------ */

    /// The children of a retired certificate add up to its face (the split that retired it).
    function _requireChildrenAddUp(uint256[] memory ids, uint256 parentId, uint256 parentFace) private view {
        uint256 sum;
        for (uint256 i; i < ids.length; ++i) {
            if (certificates.certificateOf(ids[i]).parentId == parentId)
                sum += certificates.certificateOf(ids[i]).faceValue;
        }
        require(sum == parentFace, "a split's children do not add up to the parent");
    }

    function _requireLeavesPaidAtMostEntitled(bytes32 receivableId) private view {
        uint256[] memory ids = handler.certificatesOf(receivableId);
        for (uint256 i; i < ids.length; ++i) {
            ICertificateToken.Certificate memory c = certificates.certificateOf(ids[i]);
            if (c.state == ICertificateToken.CertificateState.Retired) continue;
            (uint256 entitled, uint256 paid) = escrow.entitlementOf(ids[i]);
            require(paid <= entitled && entitled <= c.faceValue, "a leaf was paid more than its share");
        }
    }

    function _statusMayMove(
        IReceivableRegistry.ReceivableStatus from,
        IReceivableRegistry.ReceivableStatus to
    ) private pure returns (bool) {
        if (from == to) return true;
        if (from == IReceivableRegistry.ReceivableStatus.None) return to == IReceivableRegistry.ReceivableStatus.Active;
        if (from == IReceivableRegistry.ReceivableStatus.Active) {
            return
                to == IReceivableRegistry.ReceivableStatus.Overdue ||
                to == IReceivableRegistry.ReceivableStatus.Defaulted ||
                to == IReceivableRegistry.ReceivableStatus.Repaid;
        }
        if (from == IReceivableRegistry.ReceivableStatus.Overdue) {
            return
                to == IReceivableRegistry.ReceivableStatus.Defaulted ||
                to == IReceivableRegistry.ReceivableStatus.Repaid;
        }
        if (from == IReceivableRegistry.ReceivableStatus.Defaulted) {
            return to == IReceivableRegistry.ReceivableStatus.Repaid; // paid late, after default
        }
        return false; // Repaid is final
    }

    function _stateMayMove(
        ICertificateToken.CertificateState from,
        ICertificateToken.CertificateState to
    ) private pure returns (bool) {
        if (from == to) return true;
        if (from == ICertificateToken.CertificateState.None) return to == ICertificateToken.CertificateState.Live;
        if (from == ICertificateToken.CertificateState.Live) return to != ICertificateToken.CertificateState.None;
        if (from == ICertificateToken.CertificateState.Locked) {
            return to == ICertificateToken.CertificateState.Live || to == ICertificateToken.CertificateState.Settled;
        }
        return false; // Retired and Settled are final
    }
}
