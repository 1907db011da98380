// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// The actor the invariant fuzzer drives (see TierlineInvariants.sol). Each public action picks
// a valid target from what exists (bounded inputs, no blind calls), acts as the right party
// with vm.prank, and records ghost state: every receivable and certificate created, each one's
// status before the latest action, what settlement paid out, and counters of what happened.
// Normal paths are expected to succeed: an unexpected refusal is counted (and checked by the
// invariant test), attempts that must fail (double pledge, duplicate invoice) are counted
// separately, and any success of those is a violation. Run counts: see TierlineInvariants.sol.

import {vm} from "./utils/Vm.sol";
import {Tierline, TierlineRandom, TierlineSigning} from "./utils/TierlineDeployer.sol";
import {LocalSettlementToken} from "../../contracts/LocalSettlementToken.sol";
import {ReceivableRegistry} from "../../contracts/ReceivableRegistry.sol";
import {CertificateToken} from "../../contracts/CertificateToken.sol";
import {FinancingMarket} from "../../contracts/FinancingMarket.sol";
import {SettlementEscrow} from "../../contracts/SettlementEscrow.sol";
import {IReceivableRegistry} from "../../contracts/interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "../../contracts/interfaces/ICertificateToken.sol";
import {IFinancingMarket} from "../../contracts/interfaces/IFinancingMarket.sol";
import {ISettlementEscrow} from "../../contracts/interfaces/ISettlementEscrow.sol";

contract TierlineHandler {
    using TierlineRandom for uint256;

    uint256 private constant MAX_RECEIVABLES = 8;
    uint256 private constant MAX_PARTS = 10;
    uint256 private constant MAX_FACE = 1_000_000 * 1_000_000; // 1M tUSD

    LocalSettlementToken public immutable token;
    ReceivableRegistry public immutable registry;
    CertificateToken public immutable certificates;
    FinancingMarket public immutable financing;
    SettlementEscrow public immutable escrow;
    uint256 private immutable debtorKey;
    address public immutable debtor;
    address[] private actors; // certificate holders: three supplier tiers and two financiers
    address private immutable admin; // DEFAULT_ADMIN_ROLE (and pauser, party manager) in this world
    address private immutable outsider; // a key that is no party at all
    address private immutable auditor; // an active party that may not hold certificates

    /* ----------------------------- Ghost state ---------------------------- */

    bytes32[] public receivableIds;
    mapping(bytes32 receivableId => bytes32) private invoiceOf;
    mapping(bytes32 receivableId => address) private sellerOf;
    mapping(bytes32 receivableId => uint256[]) private _certificatesOf;
    uint256[] public allCertificates;
    uint256[] private requestIds;
    mapping(uint256 leaf => bool) private finalized; // mirror of the escrow's per-leaf flag
    mapping(bytes32 receivableId => uint256) public paidOut; // sum of settle() results and sweeps
    mapping(bytes32 receivableId => uint256) public paidToHolders; // sum of settle() results only
    mapping(bytes32 receivableId => uint256) public debtorPaidIn; // what the debtor actually paid in
    mapping(bytes32 receivableId => IReceivableRegistry.ReceivableStatus) public statusBefore;
    mapping(uint256 certificateId => ICertificateToken.CertificateState) public stateBefore;
    uint256 private nonce;
    uint256 private invoiceCounter;

    /* ------------------------------ Counters ------------------------------ */

    uint256 public calls;
    uint256 public registrations;
    uint256 public splits;
    uint256 public transfers;
    uint256 public requestsOpened;
    uint256 public requestsCancelled;
    uint256 public discountsFunded;
    uint256 public pledgesFunded;
    uint256 public pledgesRepaid;
    uint256 public foreclosures;
    uint256 public repayments;
    uint256 public fullRepayments;
    uint256 public earlyDischarges;
    uint256 public settlements;
    uint256 public emptySettlementsRefused;
    uint256 public overdues;
    uint256 public defaults;
    uint256 public sweeps;
    uint256 public warps;
    uint256 public duplicatesRefused;
    uint256 public doublePledgesRefused;
    uint256 public seizuresRefused;
    uint256 public splitsChangingNothingRefused;
    uint256 public nonHolderDeliveriesRefused; // refused with CertificateRecipientMayNotHold

    // Must stay zero.
    uint256 public duplicatesAccepted;
    uint256 public doublePledgesAccepted;
    uint256 public seizuresAccepted; // a certificate moved, was locked or closed without its holder
    uint256 public nonHolderDeliveriesAccepted; // the auditor got a certificate (or a request)
    uint256 public unexpectedFailures;
    string public lastUnexpected;
    bytes public lastUnexpectedReason;

    constructor(
        Tierline memory t,
        uint256 debtorKey_,
        address[] memory actors_,
        address admin_,
        address outsider_,
        address auditor_
    ) {
        admin = admin_;
        outsider = outsider_;
        auditor = auditor_;
        token = t.token;
        registry = t.registry;
        certificates = t.certificates;
        financing = t.financing;
        escrow = t.escrow;
        debtorKey = debtorKey_;
        debtor = vm.addr(debtorKey_);
        actors = actors_;
    }

    /// Snapshots every status before the action, so an invariant can check the transition.
    modifier action() {
        ++calls;
        _snapshot();
        _;
    }

    function _snapshot() private {
        for (uint256 i; i < receivableIds.length; ++i) {
            statusBefore[receivableIds[i]] = registry.statusOf(receivableIds[i]);
        }
        for (uint256 i; i < allCertificates.length; ++i) {
            stateBefore[allCertificates[i]] = certificates.certificateOf(allCertificates[i]).state;
        }
    }

    /// Before the fuzzer starts (not a fuzzed action): receivable A whole, receivable B split in
    /// three with one piece pledged and funded and another in an open discount request, so
    /// short call sequences already reach settlement, foreclosure and cancellation.
    function bootstrap() external {
        _register(0, 1_000 * 1_000_000, 60 days);
        bytes32 second = _register(1, 7_777, 30 days);
        _split(_certificatesOf[second][0], 3, uint256(keccak256("bootstrap")));
        uint256[] storage pieces = _certificatesOf[second];
        _openAndMaybeFund(pieces[1], IFinancingMarket.FinancingKind.Pledge, true);
        _openAndMaybeFund(pieces[2], IFinancingMarket.FinancingKind.Discount, false);
        _snapshot();
    }

    function _openAndMaybeFund(uint256 certificateId, IFinancingMarket.FinancingKind kind, bool funded) private {
        uint256 face = certificates.certificateOf(certificateId).faceValue;
        address holder = certificates.ownerOf(certificateId);
        uint256 repayAmount = kind == IFinancingMarket.FinancingKind.Pledge ? face : 0;
        vm.prank(holder);
        uint256 requestId = financing.openRequest(certificateId, kind, face / 2 + 1, repayAmount);
        requestIds.push(requestId);
        if (!funded) return;
        uint256 remainingClaim = financing.remainingClaimOf(certificateId); // read before the prank
        vm.prank(holder == actors[3] ? actors[4] : actors[3]);
        financing.fund(requestId, face / 2 + 1, repayAmount, remainingClaim);
    }

    /* ==================================================================== */
    /*                               Actions                                */
    /* ==================================================================== */

    function register(uint256 sellerSeed, uint256 faceSeed, uint256 tenorSeed) external action {
        if (receivableIds.length >= MAX_RECEIVABLES) return;
        // Half tiny faces (rounding dominates), half ordinary ones.
        uint256 face = faceSeed % 2 == 0 ? (faceSeed >> 1).bound(1, 1_000) : (faceSeed >> 1).bound(1, MAX_FACE);
        _register(sellerSeed, face, tenorSeed.bound(1 days, 120 days));
    }

    /// The same invoice again, validly confirmed, other amount and documents: must be refused.
    function registerDuplicate(uint256 receivableSeed, uint256 faceSeed) external action {
        if (receivableIds.length == 0) return;
        bytes32 receivableId = receivableIds[receivableSeed % receivableIds.length];
        IReceivableRegistry.ReceivableTerms memory terms = IReceivableRegistry.ReceivableTerms({
            seller: sellerOf[receivableId],
            debtor: debtor,
            invoiceNumberHash: invoiceOf[receivableId],
            documentHash: bytes32(faceSeed),
            faceValue: faceSeed.bound(1, MAX_FACE),
            dueDate: uint64(block.timestamp + 10 days)
        });
        IReceivableRegistry.DebtorConfirmation memory confirmation = TierlineSigning.confirm(
            registry,
            debtorKey,
            terms,
            ++nonce,
            block.timestamp + 1 hours
        );
        try registry.register(terms, confirmation) {
            ++duplicatesAccepted;
        } catch (bytes memory reason) {
            if (
                keccak256(reason) ==
                keccak256(
                    abi.encodeWithSelector(IReceivableRegistry.ReceivableAlreadyRegistered.selector, receivableId)
                )
            ) {
                ++duplicatesRefused;
            } else {
                _unexpected("registerDuplicate", reason);
            }
        }
    }

    function split(uint256 certificateSeed, uint256 partsSeed, uint256 amountsSeed) external action {
        (bool found, uint256 certificateId) = _findCertificate(certificateSeed, Pick.Splittable);
        if (!found) return;
        _split(certificateId, partsSeed, amountsSeed);
    }

    function transfer(uint256 certificateSeed, uint256 toSeed) external action {
        (bool found, uint256 certificateId) = _findCertificate(certificateSeed, Pick.Live);
        if (!found) return;
        address holder = certificates.ownerOf(certificateId);
        address to = actors[toSeed % actors.length];
        if (to == holder) to = actors[(toSeed + 1) % actors.length];
        vm.prank(holder);
        try certificates.transferFrom(holder, to, certificateId) {
            ++transfers;
        } catch (bytes memory reason) {
            _unexpected("transfer", reason);
        }
    }

    function openRequest(uint256 certificateSeed, bool pledge, uint256 priceSeed, uint256 repaySeed) external action {
        (bool found, uint256 certificateId) = _findCertificate(certificateSeed, Pick.Financeable);
        if (!found) return;
        // Terms within what the certificate can still pay (face less what was paid out on it).
        uint256 remainingClaim = financing.remainingClaimOf(certificateId);
        if (remainingClaim == 0) return;
        uint256 price = priceSeed.bound(1, remainingClaim);
        uint256 repayAmount = pledge ? repaySeed.bound(price, remainingClaim) : 0;
        IFinancingMarket.FinancingKind kind =
            pledge ? IFinancingMarket.FinancingKind.Pledge : IFinancingMarket.FinancingKind.Discount;
        vm.prank(certificates.ownerOf(certificateId));
        try financing.openRequest(certificateId, kind, price, repayAmount) returns (uint256 requestId) {
            requestIds.push(requestId);
            ++requestsOpened;
        } catch (bytes memory reason) {
            _unexpected("openRequest", reason);
        }
    }

    function cancelRequest(uint256 requestSeed) external action {
        (bool found, uint256 requestId) = _findRequest(requestSeed, IFinancingMarket.RequestStatus.Open, false);
        if (!found) return;
        vm.prank(financing.requestOf(requestId).holder);
        try financing.cancelRequest(requestId) {
            ++requestsCancelled;
        } catch (bytes memory reason) {
            _unexpected("cancelRequest", reason);
        }
    }

    function fund(uint256 requestSeed, uint256 funderSeed) external action {
        (bool found, uint256 requestId) = _findRequest(requestSeed, IFinancingMarket.RequestStatus.Open, true);
        if (!found) return;
        IFinancingMarket.Request memory request = financing.requestOf(requestId);
        address funder = actors[3 + (funderSeed % 2)]; // a financier, never the holder itself
        if (funder == request.holder) funder = actors[3 + ((funderSeed + 1) % 2)];
        uint256 remainingClaim = financing.remainingClaimOf(request.certificateId); // read before the prank
        vm.prank(funder);
        try financing.fund(requestId, request.price, request.repayAmount, remainingClaim) {
            if (request.kind == IFinancingMarket.FinancingKind.Pledge) ++pledgesFunded;
            else ++discountsFunded;
        } catch (bytes memory reason) {
            _unexpected("fund", reason);
        }
    }

    function repayPledge(uint256 requestSeed) external action {
        (bool found, uint256 requestId) = _findRequest(requestSeed, IFinancingMarket.RequestStatus.Pledged, false);
        if (!found) return;
        vm.prank(financing.requestOf(requestId).holder);
        try financing.repayPledge(requestId) {
            ++pledgesRepaid;
        } catch (bytes memory reason) {
            _unexpected("repayPledge", reason);
        }
    }

    function foreclose(uint256 requestSeed) external action {
        (bool found, uint256 requestId) = _findRequest(requestSeed, IFinancingMarket.RequestStatus.Pledged, false);
        if (!found) return;
        IFinancingMarket.Request memory request = financing.requestOf(requestId);
        bytes32 receivableId = certificates.certificateOf(request.certificateId).receivableId;
        if (registry.statusOf(receivableId) != IReceivableRegistry.ReceivableStatus.Defaulted) return;
        vm.prank(request.financier);
        try financing.foreclose(requestId) {
            ++foreclosures;
        } catch (bytes memory reason) {
            _unexpected("foreclose", reason);
        }
    }

    function repay(uint256 receivableSeed, uint256 amountSeed) external action {
        (bool found, bytes32 receivableId) = _findReceivable(receivableSeed, true);
        if (!found) return;
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        uint256 outstanding = receivable.faceValue - receivable.repaidAmount;
        // A third of the time pay everything that is left.
        uint256 amount = amountSeed % 3 == 0 ? outstanding : (amountSeed >> 2).bound(1, outstanding);
        vm.prank(debtor);
        try escrow.repay(receivableId, amount) {
            debtorPaidIn[receivableId] += amount;
            ++repayments;
            if (amount == outstanding) ++fullRepayments;
        } catch (bytes memory reason) {
            _unexpected("repay", reason);
        }
    }

    /// Early discharge at the debtor's discount rate: the receivable closes as Repaid below face.
    function repayEarly(uint256 receivableSeed) external action {
        (bool found, bytes32 receivableId) = _findReceivableIn(
            receivableSeed,
            IReceivableRegistry.ReceivableStatus.Active
        );
        if (!found) return;
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        if (block.timestamp >= receivable.dueDate || receivable.earlyPaymentRateBps == 0) return;
        (uint256 amount, uint256 discount) = escrow.earlyRepaymentQuote(receivableId);
        if (amount + discount != receivable.faceValue - receivable.repaidAmount) {
            _unexpected("repayEarly: quote does not cover the outstanding amount", "");
        }
        vm.prank(debtor);
        try escrow.repayEarly(receivableId, amount) returns (uint256 paid) {
            if (paid != amount) _unexpected("repayEarly: paid another amount than quoted", "");
            debtorPaidIn[receivableId] += paid;
            ++earlyDischarges;
        } catch (bytes memory reason) {
            _unexpected("repayEarly", reason);
        }
    }

    function settle(uint256 receivableSeed, uint256 batchSeed) external action {
        (bool found, bytes32 receivableId) = _findReceivable(receivableSeed, false);
        if (!found) return;
        uint256[] memory batch = _batch(receivableId, batchSeed);
        if (batch.length == 0) return;
        // Only Repaid is final: a defaulted receivable may still be paid late.
        bool closed = registry.statusOf(receivableId) == IReceivableRegistry.ReceivableStatus.Repaid;
        bool anythingDue;
        for (uint256 i; i < batch.length && !anythingDue; ++i) {
            (uint256 entitled, uint256 paid) = escrow.entitlementOf(batch[i]);
            anythingDue = !finalized[batch[i]] && (closed || entitled > paid);
        }
        uint256 held = token.balanceOf(address(escrow));
        uint256 claimable = escrow.totalClaimable();
        try escrow.settle(receivableId, batch) returns (uint256 paid) {
            if (!anythingDue) _unexpected("settle: paid although nothing was due", "");
            if (held - token.balanceOf(address(escrow)) + (escrow.totalClaimable() - claimable) != paid) {
                _unexpected("settle: the escrow's outflow differs from what it reports", "");
            }
            paidOut[receivableId] += paid;
            paidToHolders[receivableId] += paid;
            ++settlements;
            if (closed) {
                for (uint256 i; i < batch.length; ++i) {
                    finalized[batch[i]] = true;
                }
            }
        } catch (bytes memory reason) {
            bool expected =
                !anythingDue &&
                    keccak256(reason) ==
                        keccak256(
                            abi.encodeWithSelector(ISettlementEscrow.SettlementNothingDue.selector, receivableId)
                        );
            if (expected) ++emptySettlementsRefused;
            else _unexpected("settle", reason);
        }
    }

    function markOverdue(uint256 receivableSeed, bool jump) external action {
        (bool found, bytes32 receivableId) = _findReceivableIn(
            receivableSeed,
            IReceivableRegistry.ReceivableStatus.Active
        );
        if (!found) return;
        uint256 due = registry.receivableOf(receivableId).dueDate;
        if (block.timestamp <= due) {
            if (!jump) return;
            vm.warp(due + 1);
        }
        try registry.markOverdue(receivableId) {
            ++overdues;
        } catch (bytes memory reason) {
            _unexpected("markOverdue", reason);
        }
    }

    function markDefaulted(uint256 receivableSeed, bool jump) external action {
        (bool found, bytes32 receivableId) = _findReceivable(receivableSeed, true);
        if (!found || registry.statusOf(receivableId) == IReceivableRegistry.ReceivableStatus.Defaulted) return;
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        uint256 defaultableAfter = uint256(receivable.dueDate) + receivable.gracePeriod;
        if (block.timestamp <= defaultableAfter) {
            if (!jump) return;
            vm.warp(defaultableAfter + 1);
        }
        try registry.markDefaulted(receivableId) {
            ++defaults;
        } catch (bytes memory reason) {
            _unexpected("markDefaulted", reason);
        }
    }

    function sweepDust(uint256 receivableSeed) external action {
        (bool found, bytes32 receivableId) = _findReceivable(receivableSeed, false);
        if (!found) return;
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        bool closed = receivable.status == IReceivableRegistry.ReceivableStatus.Repaid;
        if (!closed || escrow.finalizedLeavesOf(receivableId) != certificates.leafCountOf(receivableId)) return;
        uint256 dust = receivable.repaidAmount - escrow.distributedOf(receivableId);
        if (dust == 0) return;
        try escrow.sweepDust(receivableId) returns (uint256 amount) {
            if (amount != dust) _unexpected("sweepDust: swept another amount", "");
            paidOut[receivableId] += amount;
            ++sweeps;
        } catch (bytes memory reason) {
            _unexpected("sweepDust", reason);
        }
    }

    /// A single key that is not the holder -- the admin (which may first grant itself any role),
    /// the registrar, the registry contract itself, an outsider or another party -- tries to move,
    /// lock, deliver, close or re-issue a certificate. Every attempt must fail and leave the
    /// certificate's holder and state as they were. Mode 5 goes for the tree the registry keeps for
    /// the token (a root's state and the leaf count): only the token may write it.
    function attemptSeizure(uint256 certificateSeed, uint256 keySeed, uint256 mode) external action {
        (bool found, uint256 certificateId) = _findCertificate(
            certificateSeed,
            certificateSeed % 2 == 0 ? Pick.Live : Pick.Locked
        );
        if (!found) return;
        address holder = certificates.ownerOf(certificateId);
        ICertificateToken.Certificate memory before = certificates.certificateOf(certificateId);
        address[5] memory keys = [admin, address(this), address(registry), outsider, actors[keySeed % actors.length]];
        address key = keys[keySeed % keys.length];
        if (key == holder) key = outsider;
        mode %= 6;
        uint256 leavesBefore = certificates.leafCountOf(before.receivableId);
        if (mode == 1) {
            // The admin hands the key every role the old contracts had: it must buy nothing.
            vm.startPrank(admin);
            certificates.grantRole(keccak256("LOCKER_ROLE"), key);
            certificates.grantRole(keccak256("SETTLER_ROLE"), key);
            certificates.grantRole(keccak256("ISSUER_ROLE"), key);
            vm.stopPrank();
        }
        bool accepted;
        vm.startPrank(key);
        if (mode == 0) {
            try certificates.transferFrom(holder, key, certificateId) {
                accepted = true;
            } catch {}
        } else if (mode == 1) {
            try certificates.lock(certificateId) {
                accepted = true;
            } catch {}
            try certificates.deliverLocked(certificateId, key) {
                accepted = true;
            } catch {}
        } else if (mode == 2) {
            try certificates.unlock(certificateId) {
                accepted = true;
            } catch {}
        } else if (mode == 3) {
            try certificates.markSettled(certificateId) {
                accepted = true;
            } catch {}
        } else if (mode == 4) {
            try certificates.issueRoot(before.receivableId, key, before.faceValue, before.dueDate) {
                accepted = true;
            } catch {}
        } else {
            try registry.recordRootState(before.receivableId, ICertificateToken.CertificateState.Settled) {
                accepted = true;
            } catch {}
            try registry.recordSplit(before.receivableId, 1, true) {
                accepted = true;
            } catch {}
        }
        vm.stopPrank();
        ICertificateToken.Certificate memory after_ = certificates.certificateOf(certificateId);
        if (
            accepted ||
            certificates.ownerOf(certificateId) != holder ||
            after_.state != before.state ||
            certificates.leafCountOf(before.receivableId) != leavesBefore
        ) {
            ++seizuresAccepted;
        } else {
            ++seizuresRefused;
        }
    }

    /// A holder tries to hand a certificate to the auditor -- registered and active, but not
    /// allowed to hold -- by transfer or by a split part, or the auditor funds an open request
    /// (a discount would deliver to it, a pledge would at foreclosure). Every attempt must fail
    /// and leave the auditor holding nothing; refusals for the holding rule itself are counted.
    function attemptNonHolderDelivery(uint256 seed, uint256 mode) external action {
        mode %= 3;
        bool accepted;
        bytes memory reason;
        if (mode == 2) {
            (bool foundRequest, uint256 requestId) = _findRequest(seed, IFinancingMarket.RequestStatus.Open, true);
            if (!foundRequest) return;
            IFinancingMarket.Request memory request = financing.requestOf(requestId);
            uint256 remainingClaim = financing.remainingClaimOf(request.certificateId); // read before the prank
            vm.prank(auditor);
            try financing.fund(requestId, request.price, request.repayAmount, remainingClaim) {
                accepted = true;
            } catch (bytes memory refusal) {
                reason = refusal;
            }
        } else {
            (bool found, uint256 certificateId) = _findCertificate(seed, mode == 0 ? Pick.Live : Pick.Splittable);
            if (!found) return;
            address holder = certificates.ownerOf(certificateId);
            uint256 face = certificates.certificateOf(certificateId).faceValue;
            ICertificateToken.SplitPart[] memory parts = new ICertificateToken.SplitPart[](2);
            parts[0] = ICertificateToken.SplitPart({to: holder, amount: face - face / 2});
            parts[1] = ICertificateToken.SplitPart({to: auditor, amount: face / 2});
            vm.startPrank(holder);
            if (mode == 0) {
                try certificates.transferFrom(holder, auditor, certificateId) {
                    accepted = true;
                } catch (bytes memory refusal) {
                    reason = refusal;
                }
            } else {
                try certificates.split(certificateId, parts) {
                    accepted = true;
                } catch (bytes memory refusal) {
                    reason = refusal;
                }
            }
            vm.stopPrank();
        }
        if (accepted || certificates.balanceOf(auditor) != 0) ++nonHolderDeliveriesAccepted;
        else if (bytes4(reason) == ICertificateToken.CertificateRecipientMayNotHold.selector) {
            ++nonHolderDeliveriesRefused;
        }
        // Any other refusal (a piece too small, a tier too deep) came first: nothing to count.
    }

    function warp(uint256 secondsSeed) external action {
        vm.warp(block.timestamp + secondsSeed.bound(1 hours, 45 days));
        ++warps;
    }

    /// Tries to finance, split, move or fund again a locked certificate: must always be refused.
    function attemptDoublePledge(uint256 certificateSeed, uint256 mode) external action {
        (bool found, uint256 certificateId) = _findCertificate(certificateSeed, Pick.Locked);
        if (!found) return;
        address holder = certificates.ownerOf(certificateId);
        address other = holder == actors[0] ? actors[1] : actors[0];
        uint256 face = certificates.certificateOf(certificateId).faceValue;
        bool accepted;
        mode %= 4;
        if (mode == 0) {
            vm.prank(holder);
            try financing.openRequest(certificateId, IFinancingMarket.FinancingKind.Pledge, 1, 1) {
                accepted = true;
            } catch {}
        } else if (mode == 1) {
            ICertificateToken.SplitPart[] memory parts = new ICertificateToken.SplitPart[](1);
            parts[0] = ICertificateToken.SplitPart({to: other, amount: face});
            vm.prank(holder);
            try certificates.split(certificateId, parts) {
                accepted = true;
            } catch {}
        } else if (mode == 2) {
            vm.prank(holder);
            try certificates.transferFrom(holder, other, certificateId) {
                accepted = true;
            } catch {}
        } else {
            // Fund the active request once more (a second financier on the same collateral).
            uint256 requestId = financing.activeRequestOf(certificateId);
            IFinancingMarket.Request memory request = financing.requestOf(requestId);
            if (request.status != IFinancingMarket.RequestStatus.Pledged) return;
            address second = request.financier == actors[3] ? actors[4] : actors[3];
            if (second == holder) return;
            uint256 remainingClaim = financing.remainingClaimOf(request.certificateId);
            vm.prank(second);
            try financing.fund(requestId, request.price, request.repayAmount, remainingClaim) {
                accepted = true;
            } catch {}
        }
        if (accepted) ++doublePledgesAccepted;
        else ++doublePledgesRefused;
    }

    /* ==================================================================== */
    /*                               Internals                              */
    /* ==================================================================== */

    function _register(uint256 sellerSeed, uint256 face, uint256 tenor) private returns (bytes32 receivableId) {
        address seller = actors[sellerSeed % 3]; // a supplier tier
        bytes32 invoice = keccak256(abi.encode("handler invoice", ++invoiceCounter));
        IReceivableRegistry.ReceivableTerms memory terms = IReceivableRegistry.ReceivableTerms({
            seller: seller,
            debtor: debtor,
            invoiceNumberHash: invoice,
            documentHash: keccak256(abi.encode("documents", invoice)),
            faceValue: face,
            dueDate: uint64(block.timestamp + tenor)
        });
        IReceivableRegistry.DebtorConfirmation memory confirmation = TierlineSigning.confirm(
            registry,
            debtorKey,
            terms,
            ++nonce,
            block.timestamp + 1 hours
        );
        uint256 rootId;
        try registry.register(terms, confirmation) returns (bytes32 id, uint256 root) {
            (receivableId, rootId) = (id, root);
        } catch (bytes memory reason) {
            _unexpected("register", reason);
            return bytes32(0);
        }
        receivableIds.push(receivableId);
        invoiceOf[receivableId] = invoice;
        sellerOf[receivableId] = seller;
        _track(receivableId, rootId);
        ++registrations;
    }

    function _split(uint256 certificateId, uint256 partsSeed, uint256 amountsSeed) private {
        ICertificateToken.Certificate memory parent = certificates.certificateOf(certificateId);
        address holder = certificates.ownerOf(certificateId);
        (uint8 maxTier, , ) = certificates.tierPolicy();
        uint256 count = partsSeed.bound(1, parent.faceValue < MAX_PARTS ? parent.faceValue : MAX_PARTS);
        uint256[] memory amounts = parent.faceValue.partition(count, amountsSeed);
        ICertificateToken.SplitPart[] memory parts = new ICertificateToken.SplitPart[](count);
        for (uint256 i; i < count; ++i) {
            amountsSeed = amountsSeed.next();
            // At the deepest tier, pieces can only be kept, not passed down.
            address to = parent.tier >= maxTier ? holder : actors[amountsSeed % actors.length];
            parts[i] = ICertificateToken.SplitPart({to: to, amount: amounts[i]});
        }
        // One piece kept by the holder changes nothing: the token must refuse it, and only so.
        if (count == 1 && parts[0].to == holder) {
            vm.prank(holder);
            try certificates.split(certificateId, parts) {
                _unexpected("split: one piece kept by the holder was accepted", "");
            } catch (bytes memory reason) {
                if (bytes4(reason) != ICertificateToken.SplitChangesNothing.selector) _unexpected("split", reason);
                else ++splitsChangingNothingRefused;
            }
            return;
        }
        vm.prank(holder);
        try certificates.split(certificateId, parts) returns (uint256[] memory childIds) {
            for (uint256 i; i < childIds.length; ++i) {
                _track(parent.receivableId, childIds[i]);
            }
            ++splits;
        } catch (bytes memory reason) {
            _unexpected("split", reason);
        }
    }

    function _track(bytes32 receivableId, uint256 certificateId) private {
        _certificatesOf[receivableId].push(certificateId);
        allCertificates.push(certificateId);
    }

    enum Pick {
        Live, // unlocked, transferable
        Splittable, // live, and its receivable still takes splits
        Financeable, // live, and its receivable still takes financing
        Locked
    }

    /// The first certificate matching `pick`, scanning from a random offset.
    function _findCertificate(uint256 seed, Pick pick) private view returns (bool, uint256) {
        uint256 n = allCertificates.length;
        for (uint256 k; k < n; ++k) {
            uint256 id = allCertificates[(seed + k) % n];
            ICertificateToken.Certificate memory c = certificates.certificateOf(id);
            if (pick == Pick.Locked) {
                if (c.state == ICertificateToken.CertificateState.Locked) return (true, id);
                continue;
            }
            if (c.state != ICertificateToken.CertificateState.Live) continue;
            if (pick == Pick.Live) return (true, id);
            IReceivableRegistry.Receivable memory r = registry.receivableOf(c.receivableId);
            bool open = r.status == IReceivableRegistry.ReceivableStatus.Active && block.timestamp < r.dueDate;
            if (pick == Pick.Splittable && open && r.repaidAmount == 0) return (true, id);
            if (pick == Pick.Financeable && open) return (true, id);
        }
        return (false, 0);
    }

    /// The first request in `status` (and, if `fundable`, on a receivable still open), from a random offset.
    function _findRequest(
        uint256 seed,
        IFinancingMarket.RequestStatus status,
        bool fundable
    ) private view returns (bool, uint256) {
        uint256 n = requestIds.length;
        for (uint256 k; k < n; ++k) {
            uint256 id = requestIds[(seed + k) % n];
            IFinancingMarket.Request memory request = financing.requestOf(id);
            if (request.status != status) continue;
            if (fundable) {
                bytes32 receivableId = certificates.certificateOf(request.certificateId).receivableId;
                IReceivableRegistry.Receivable memory r = registry.receivableOf(receivableId);
                if (r.status != IReceivableRegistry.ReceivableStatus.Active || block.timestamp >= r.dueDate) continue;
            }
            return (true, id);
        }
        return (false, 0);
    }

    /// A receivable, from a random offset; if `payable_`, only one still taking repayments
    /// (Active, Overdue, or Defaulted: a late payment after default is taken).
    function _findReceivable(uint256 seed, bool payable_) private view returns (bool, bytes32) {
        uint256 n = receivableIds.length;
        for (uint256 k; k < n; ++k) {
            bytes32 id = receivableIds[(seed + k) % n];
            IReceivableRegistry.ReceivableStatus status = registry.statusOf(id);
            if (
                !payable_ ||
                status == IReceivableRegistry.ReceivableStatus.Active ||
                status == IReceivableRegistry.ReceivableStatus.Overdue ||
                status == IReceivableRegistry.ReceivableStatus.Defaulted
            ) return (true, id);
        }
        return (false, bytes32(0));
    }

    function _findReceivableIn(
        uint256 seed,
        IReceivableRegistry.ReceivableStatus wanted
    ) private view returns (bool, bytes32) {
        uint256 n = receivableIds.length;
        for (uint256 k; k < n; ++k) {
            bytes32 id = receivableIds[(seed + k) % n];
            if (registry.statusOf(id) == wanted) return (true, id);
        }
        return (false, bytes32(0));
    }

    /// Half the time every leaf of the receivable, otherwise a random pick (repeats allowed).
    function _batch(bytes32 receivableId, uint256 seed) private view returns (uint256[] memory batch) {
        uint256[] storage all = _certificatesOf[receivableId];
        uint256[] memory leaves = new uint256[](all.length);
        uint256 n;
        for (uint256 i; i < all.length; ++i) {
            if (certificates.certificateOf(all[i]).state != ICertificateToken.CertificateState.Retired)
                leaves[n++] = all[i];
        }
        if (n == 0) return new uint256[](0);
        if (seed % 2 == 0 && n <= escrow.MAX_SETTLE_BATCH()) {
            assembly ("memory-safe") {
                mstore(leaves, n)
            }
            return leaves;
        }
        uint256 size = (seed >> 1).bound(1, n < 8 ? n : 8);
        batch = new uint256[](size);
        for (uint256 i; i < size; ++i) {
            seed = seed.next();
            batch[i] = leaves[seed % n];
        }
    }

    function _unexpected(string memory what, bytes memory reason) private {
        ++unexpectedFailures;
        lastUnexpected = what;
        lastUnexpectedReason = reason;
    }

    /* ==================================================================== */
    /*                          Views for invariants                        */
    /* ==================================================================== */

    function receivableCount() external view returns (uint256) {
        return receivableIds.length;
    }

    function certificatesOf(bytes32 receivableId) external view returns (uint256[] memory) {
        return _certificatesOf[receivableId];
    }

    function certificateCount() external view returns (uint256) {
        return allCertificates.length;
    }
}
