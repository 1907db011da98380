// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ISettlementEscrow} from "./interfaces/ISettlementEscrow.sol";
import {ICertificateToken} from "./interfaces/ICertificateToken.sol";
import {IReceivableRegistry} from "./interfaces/IReceivableRegistry.sol";
import {IFinancingMarket} from "./interfaces/IFinancingMarket.sol";
import {IDilutionLedger} from "./interfaces/IDilutionLedger.sol";

/// @title SettlementEscrow
/// @notice Holds debtors' repayments and pays them out to certificate holders. See {ISettlementEscrow}.
contract SettlementEscrow is ISettlementEscrow, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @inheritdoc ISettlementEscrow
    uint256 public constant MAX_SETTLE_BATCH = 50;

    /// @inheritdoc ISettlementEscrow
    uint256 public immutable deploymentBlock;

    IReceivableRegistry public immutable registry;
    ICertificateToken public immutable certificates;
    IFinancingMarket public immutable financing;
    IERC20 public immutable settlementToken;

    /// @inheritdoc ISettlementEscrow
    uint256 public totalClaimable;

    /// What a receivable paid out in all, and how many of its leaves got their final share: one
    /// slot (amounts never exceed a certificate's 128-bit face value).
    struct Payouts {
        uint128 distributed;
        uint64 finalizedLeaves;
        /// Some leaf was paid in part (and has a paidOut entry): until then none is read.
        bool partiallyPaid;
    }

    /// Paid so far to a leaf that is still open (partial payouts only). A leaf's final payout
    /// writes nothing here: its certificate's Settled state is the "final" flag, and what it was
    /// paid is then its entitlement, fixed once the receivable is repaid (see {paidOutOf}).
    mapping(uint256 certificateId => uint256) private _paidOut;
    mapping(bytes32 receivableId => Payouts) private _payouts;
    mapping(address account => uint256) private _claimable;

    /// Dilution hook (issue 16): the ledger a settle batch reads leaf reductions from (zero for an
    /// undiluted receivable). Transient: set at the top of each batch, gone after the transaction.
    IDilutionLedger private transient _batchLedger;

    constructor(IReceivableRegistry registry_, ICertificateToken certificates_, IFinancingMarket financing_) {
        deploymentBlock = block.number;
        registry = registry_;
        certificates = certificates_;
        financing = financing_;
        settlementToken = IERC20(registry_.settlementToken());
    }

    /* ------------------------------------------------------------------ */
    /*                                 Repay                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ISettlementEscrow
    function repay(bytes32 receivableId, uint256 amount) external nonReentrant {
        if (amount == 0) revert SettlementZeroAmount();

        // The registry checks status and outstanding amount, and records the payment.
        uint256 repaidAmount = registry.recordRepayment(receivableId, amount);
        emit RepaymentReceived(receivableId, msg.sender, amount, repaidAmount);

        _pullExact(msg.sender, amount);
    }

    /// Takes `amount` from `from` and refuses a token that delivers less (fee-on-transfer).
    function _pullExact(address from, uint256 amount) private {
        uint256 before = settlementToken.balanceOf(address(this));
        settlementToken.safeTransferFrom(from, address(this), amount);
        uint256 received = settlementToken.balanceOf(address(this)) - before;
        if (received != amount) revert SettlementTokenShortfall(amount, received);
    }

    /// @inheritdoc ISettlementEscrow
    function earlyRepaymentQuote(bytes32 receivableId) public view returns (uint256 amount, uint256 discount) {
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        if (receivable.status != IReceivableRegistry.ReceivableStatus.Active) {
            revert IReceivableRegistry.ReceivableWrongStatus(receivableId, receivable.status);
        }
        // The rate frozen into the receivable at registration, not the debtor's current one.
        uint16 rateBps = receivable.earlyPaymentRateBps;
        if (rateBps == 0 || block.timestamp >= receivable.dueDate) {
            revert IReceivableRegistry.EarlyPaymentUnavailable(receivableId, rateBps, receivable.dueDate);
        }
        // Dilution hook (issue 16): the debtor owes face less credit notes.
        uint256 outstanding = receivable.faceValue - registry.creditedOf(receivableId) - receivable.repaidAmount;
        // Rounded down: the debtor, who pays, carries the dust.
        discount = Math.mulDiv(
            outstanding,
            uint256(rateBps) * (receivable.dueDate - block.timestamp),
            10_000 * 365 days
        );
        // A rate x time to maturity of a year or more would discount the whole claim (or more):
        // no early offer then, rather than a zero price or an arithmetic panic.
        if (discount >= outstanding) {
            revert IReceivableRegistry.EarlyPaymentUnavailable(receivableId, rateBps, receivable.dueDate);
        }
        amount = outstanding - discount;
    }

    /// @inheritdoc ISettlementEscrow
    function repayEarly(bytes32 receivableId, uint256 maxAmount) external nonReentrant returns (uint256 amount) {
        uint256 discount;
        (amount, discount) = earlyRepaymentQuote(receivableId);
        if (amount > maxAmount) revert SettlementQuoteAboveLimit(amount, maxAmount);

        registry.recordEarlyDischarge(receivableId, amount, discount);
        emit RepaymentReceived(receivableId, msg.sender, amount, registry.receivableOf(receivableId).repaidAmount);

        _pullExact(msg.sender, amount);
    }

    /* ------------------------------------------------------------------ */
    /*                                 Settle                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ISettlementEscrow
    function settle(
        bytes32 receivableId,
        uint256[] calldata certificateIds
    ) external nonReentrant returns (uint256 paid) {
        if (certificateIds.length == 0 || certificateIds.length > MAX_SETTLE_BATCH) {
            revert SettlementBatchSize(certificateIds.length, MAX_SETTLE_BATCH);
        }
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        if (receivable.status == IReceivableRegistry.ReceivableStatus.None) {
            revert IReceivableRegistry.ReceivableNotFound(receivableId);
        }
        // A repaid receivable takes no more money: each leaf's share is final. A defaulted one may
        // still be paid late, so its leaves are paid what has come in so far and stay open.
        bool closed = receivable.status == IReceivableRegistry.ReceivableStatus.Repaid;
        // Dilution hook (issue 16): owed = face less credit notes; the ledger for this batch's leaves.
        // While a credit note is still being cut in passes, the leaves' claims are half cut: wait.
        IDilutionLedger ledger = _dilute(receivableId, receivable);
        if (address(ledger) != address(0)) {
            uint256 applying = ledger.applyingCreditNoteOf(receivableId);
            if (applying != 0) revert SettlementCreditNoteApplying(receivableId, applying);
        }
        _batchLedger = ledger;

        bool progressed;
        // The range of leaves paid in part, for one ERC-4906 notice at the end (settled leaves
        // get theirs from markSettled).
        uint256 lowestPartial = type(uint256).max;
        uint256 highestPartial;
        for (uint256 i; i < certificateIds.length; ++i) {
            uint256 certificateId = certificateIds[i];
            (uint256 leafPaid, bool leafProgressed) = _settleLeaf(receivableId, receivable, closed, certificateId);
            paid += leafPaid;
            progressed = progressed || leafProgressed;
            if (leafProgressed && !closed) {
                if (certificateId < lowestPartial) lowestPartial = certificateId;
                if (certificateId > highestPartial) highestPartial = certificateId;
            }
        }
        if (!progressed) revert SettlementNothingDue(receivableId);
        if (highestPartial != 0) certificates.notifyPayouts(lowestPartial, highestPartial);
    }

    /// One leaf's payout, worked out before anything moves.
    struct LeafPayout {
        uint256 certificateId;
        address holder;
        address pledgee;
        uint256 toHolder;
        uint256 toPledgee;
        uint256 entitled;
        bool locked;
    }

    function _settleLeaf(
        bytes32 receivableId,
        IReceivableRegistry.Receivable memory receivable,
        bool closed,
        uint256 certificateId
    ) private returns (uint256 due, bool progressed) {
        // Checks. A settled certificate got its final share already.
        LeafPayout memory leaf;
        leaf.certificateId = certificateId;
        bytes32 leafReceivableId;
        uint256 faceValue;
        ICertificateToken.CertificateState state;
        (leafReceivableId, faceValue, state, leaf.holder) = certificates.claimOf(certificateId);
        if (leafReceivableId != receivableId) revert SettlementCertificateMismatch(certificateId, receivableId);
        if (state == ICertificateToken.CertificateState.Settled) return (0, false);
        if (state != ICertificateToken.CertificateState.Live && state != ICertificateToken.CertificateState.Locked) {
            revert ICertificateToken.CertificateWrongState(certificateId, state);
        }

        Payouts storage payouts = _payouts[receivableId];
        leaf.entitled = _entitlementDown(receivable, _claimOf(_batchLedger, certificateId, faceValue));
        uint256 paidBefore = payouts.partiallyPaid ? _paidOut[certificateId] : 0;
        due = leaf.entitled - paidBefore;
        if (due == 0 && !closed) return (0, false);

        // Only a locked certificate can be in a financing (the market locks it for as long as a
        // request or pledge is active), so only then is there a pledgee to pay or a request to end.
        leaf.locked = state == ICertificateToken.CertificateState.Locked;
        if (leaf.locked) {
            uint256 owed;
            (, leaf.pledgee, owed) = financing.pledgeOf(certificateId);
            leaf.toPledgee = Math.min(due, owed);
        }
        leaf.toHolder = due - leaf.toPledgee;

        // Effects.
        _recordPayout(payouts, certificateId, closed, leaf.entitled, paidBefore != 0, due);
        emit LeafSettled(
            receivableId,
            certificateId,
            leaf.holder,
            leaf.toHolder,
            leaf.pledgee,
            leaf.toPledgee,
            leaf.entitled
        );

        _payLeaf(leaf, closed);
        return (due, true);
    }

    function _recordPayout(
        Payouts storage payouts,
        uint256 certificateId,
        bool closed,
        uint256 entitled,
        bool paidBefore,
        uint256 due
    ) private {
        if (closed) {
            // Final: the certificate's Settled state records it; a partial payout's entry goes.
            if (paidBefore) delete _paidOut[certificateId];
            ++payouts.finalizedLeaves;
        } else {
            _paidOut[certificateId] = entitled;
            if (!payouts.partiallyPaid) payouts.partiallyPaid = true;
        }
        payouts.distributed += SafeCast.toUint128(due);
    }

    /// Interactions: our own contracts first, then token pushes that may fail harmlessly. Every
    /// payout on a locked certificate is reported: it pays a pledge down, and it cancels an open
    /// request, whose price was set for a claim that has now shrunk.
    function _payLeaf(LeafPayout memory leaf, bool closed) private {
        if (leaf.locked) financing.recordLeafPayment(leaf.certificateId, leaf.toPledgee, closed);
        if (closed) certificates.markSettled(leaf.certificateId);
        _push(leaf.pledgee, leaf.toPledgee);
        _push(leaf.holder, leaf.toHolder);
    }

    /// floor(repaid * leafClaim / owed): rounds against the payee, never against solvency. `owed`
    /// (receivable.faceValue after {_dilute}) is zero only when credited in full: nothing to pay.
    function _entitlementDown(
        IReceivableRegistry.Receivable memory receivable,
        uint256 leafClaim
    ) private pure returns (uint256) {
        if (receivable.faceValue == 0) return 0;
        return Math.mulDiv(receivable.repaidAmount, leafClaim, receivable.faceValue);
    }

    /* ------------------------------------------------------------------ */
    /*                       Dilution hook (issue 16)                     */
    /* ------------------------------------------------------------------ */

    /// Turns `receivable.faceValue` (in memory) into what the debtor owes after credit notes and
    /// returns the ledger to read leaf reductions from, or zero when nothing was credited (one
    /// registry read per batch; no per-leaf cost for an undiluted receivable).
    function _dilute(
        bytes32 receivableId,
        IReceivableRegistry.Receivable memory receivable
    ) private view returns (IDilutionLedger ledger) {
        uint256 credited = registry.creditedOf(receivableId);
        if (credited == 0) return IDilutionLedger(address(0));
        receivable.faceValue -= credited;
        return IDilutionLedger(registry.dilutionLedger());
    }

    /// A leaf's face value less its credit-note reduction.
    function _claimOf(IDilutionLedger ledger, uint256 certificateId, uint256 faceValue) private view returns (uint256) {
        if (address(ledger) == address(0)) return faceValue;
        return faceValue - ledger.reductionOf(certificateId);
    }

    /// Pushes `amount` to `to`; if the token refuses (blocklisted or broken receiver), keeps it
    /// for `to` to withdraw so the rest of the batch is paid.
    function _push(address to, uint256 amount) private {
        if (amount == 0) return;
        if (!settlementToken.trySafeTransfer(to, amount)) {
            _claimable[to] += amount;
            totalClaimable += amount;
            emit PaymentDeferred(to, amount);
        }
    }

    /* ------------------------------------------------------------------ */
    /*                          Withdraw and sweep                        */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ISettlementEscrow
    function withdraw(address to) external nonReentrant returns (uint256 amount) {
        amount = _claimable[msg.sender];
        if (amount == 0) revert SettlementNothingToWithdraw(msg.sender);

        _claimable[msg.sender] = 0;
        totalClaimable -= amount;
        emit Withdrawn(msg.sender, to, amount);

        settlementToken.safeTransfer(to, amount);
    }

    /// @inheritdoc ISettlementEscrow
    function sweepDust(bytes32 receivableId) external nonReentrant returns (uint256 amount) {
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        // Only once repaid: a defaulted receivable may still be paid late, and dust is final only then.
        if (receivable.status != IReceivableRegistry.ReceivableStatus.Repaid) {
            revert IReceivableRegistry.ReceivableWrongStatus(receivableId, receivable.status);
        }
        uint256 leaves = certificates.leafCountOf(receivableId);
        Payouts storage payouts = _payouts[receivableId];
        uint256 settled = payouts.finalizedLeaves;
        if (settled != leaves) revert SettlementIncomplete(receivableId, settled, leaves);
        amount = receivable.repaidAmount - payouts.distributed;
        if (amount == 0) revert SettlementNothingDue(receivableId);

        payouts.distributed = SafeCast.toUint128(receivable.repaidAmount);
        emit DustSwept(receivableId, receivable.debtor, amount);

        _push(receivable.debtor, amount);
    }

    /* ------------------------------------------------------------------ */
    /*                                 Views                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ISettlementEscrow
    function entitlementOf(uint256 certificateId) external view returns (uint256 entitled, uint256 paidOut) {
        ICertificateToken.Certificate memory certificate = certificates.certificateOf(certificateId);
        // A retired parent is no claim any more: its children hold it.
        if (certificate.state == ICertificateToken.CertificateState.Retired) return (0, 0);
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(certificate.receivableId);
        IDilutionLedger ledger = _dilute(certificate.receivableId, receivable);
        entitled = _entitlementDown(receivable, _claimOf(ledger, certificateId, certificate.faceValue));
        // A settled leaf was paid its whole (final) entitlement.
        paidOut = certificate.state == ICertificateToken.CertificateState.Settled ? entitled : _paidOut[certificateId];
    }

    /// @inheritdoc ISettlementEscrow
    function paidOutOf(uint256 certificateId) external view returns (uint256) {
        uint256 paidOut = _paidOut[certificateId];
        // An open leaf (the case the market asks about) is answered from its own entry; only a
        // leaf without one may be settled, and a settled leaf was paid its final entitlement.
        if (paidOut != 0) return paidOut;
        ICertificateToken.Certificate memory certificate = certificates.certificateOf(certificateId);
        if (certificate.state != ICertificateToken.CertificateState.Settled) return 0;
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(certificate.receivableId);
        IDilutionLedger ledger = _dilute(certificate.receivableId, receivable); // dilution hook (issue 16)
        return _entitlementDown(receivable, _claimOf(ledger, certificateId, certificate.faceValue));
    }

    /// @inheritdoc ISettlementEscrow
    function distributedOf(bytes32 receivableId) external view returns (uint256) {
        return _payouts[receivableId].distributed;
    }

    /// @inheritdoc ISettlementEscrow
    function finalizedLeavesOf(bytes32 receivableId) external view returns (uint256) {
        return _payouts[receivableId].finalizedLeaves;
    }

    /// @inheritdoc ISettlementEscrow
    function claimableOf(address account) external view returns (uint256) {
        return _claimable[account];
    }
}
