// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISettlementEscrow
/// @notice Repayment and settlement. The debtor (or anyone for it) pays into a receivable's
/// escrow, in full or in part; settlement then pays every leaf certificate its pro-rata
/// share, the pledgee first up to what it is owed. Anyone may settle, in bounded batches.
/// A payment that cannot be pushed to its recipient is kept for it to withdraw, so one
/// stuck holder never blocks the others.
/// @dev Pro-rata shares round down (against the payee, never against solvency): a leaf's
/// cumulative entitlement is floor(repaid * leafFace / faceValue). Once the receivable is
/// fully repaid the shares are exact; any dust left after a receivable closes below face
/// (early discharge) is bounded by its leaf count and returned to the debtor by {sweepDust}.
/// A defaulted receivable stays open for late payment: its leaves are paid what came in so far.
/// No pause here: repayment, settlement and withdrawal always work.
/// Storage per receivable: one slot (distributed, finalized leaves, whether any leaf was paid in
/// part). Per leaf: nothing on a final payout (the certificate's Settled state is the flag), one
/// paidOut slot only while it is paid in part. Only locked leaves involve the market.
interface ISettlementEscrow {
    /// @notice Emitted when `payer` pays `amount` into the escrow of `receivableId`.
    event RepaymentReceived(bytes32 indexed receivableId, address indexed payer, uint256 amount, uint256 repaidAmount);

    /// @notice Emitted when leaf `certificateId` is paid: `toHolder` to `holder` and `toPledgee`
    /// to `pledgee`; `paidOut` is the leaf's cumulative payout.
    event LeafSettled(
        bytes32 indexed receivableId,
        uint256 indexed certificateId,
        address indexed holder,
        uint256 toHolder,
        address pledgee,
        uint256 toPledgee,
        uint256 paidOut
    );

    /// @notice Emitted when a push of `amount` to `account` failed and was kept for withdrawal.
    event PaymentDeferred(address indexed account, uint256 amount);

    /// @notice Emitted when `account` withdraws `amount` of kept payments to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice Emitted when rounding dust of a closed receivable goes back to its debtor.
    event DustSwept(bytes32 indexed receivableId, address indexed debtor, uint256 amount);

    /// @notice The early-repayment quote `amount` is above the payer's limit `maxAmount`.
    error SettlementQuoteAboveLimit(uint256 amount, uint256 maxAmount);

    /// @notice Amounts must be above zero.
    error SettlementZeroAmount();

    /// @notice A batch holds `size` certificates; at most `maxSize` are allowed.
    error SettlementBatchSize(uint256 size, uint256 maxSize);

    /// @notice `certificateId` does not belong to `receivableId`.
    error SettlementCertificateMismatch(uint256 certificateId, bytes32 receivableId);

    /// @notice Nothing is due to any certificate of the batch.
    error SettlementNothingDue(bytes32 receivableId);

    /// @notice `account` has nothing to withdraw.
    error SettlementNothingToWithdraw(address account);

    /// @notice Dust can be swept once all `leaves` leaves are settled; `settled` are.
    error SettlementIncomplete(bytes32 receivableId, uint256 settled, uint256 leaves);

    /// @notice The token moved `received` where `expected` was due (fee-on-transfer tokens refused).
    error SettlementTokenShortfall(uint256 expected, uint256 received);

    /// @notice Credit note `creditNoteId` on `receivableId` is still being cut in passes (its
    /// leaves' claims are half cut): settlement waits until it is Applied.
    error SettlementCreditNoteApplying(bytes32 receivableId, uint256 creditNoteId);

    /// @notice The largest settlement batch.
    function MAX_SETTLE_BATCH() external view returns (uint256);

    /// @notice The block this contract was deployed in: where an indexer starts.
    function deploymentBlock() external view returns (uint256);

    /// @notice Pays `amount` towards `receivableId` from the caller (approve first).
    /// @dev Refused once the receivable is Repaid or Defaulted, or past its face value.
    function repay(bytes32 receivableId, uint256 amount) external;

    /// @notice What discharging `receivableId` early costs now: the outstanding amount less
    /// a discount of rate x outstanding x time-to-maturity / 365 days (rounded down, so
    /// the payer of the dust is the debtor). The discount shrinks every second to maturity.
    function earlyRepaymentQuote(bytes32 receivableId) external view returns (uint256 amount, uint256 discount);

    /// @notice Pays the early-repayment quote and discharges the receivable in full, before
    /// its due date. Holders receive the discounted amount pro rata.
    /// @dev Refused if the quote is above `maxAmount` (time moved the other way), if the debtor
    /// has no early-payment rate, or once the receivable is due.
    function repayEarly(bytes32 receivableId, uint256 maxAmount) external returns (uint256 amount);

    /// @notice Pays each listed leaf of `receivableId` what is due to it now.
    /// @dev Anyone. Already fully paid leaves are skipped; a batch where nothing is due reverts.
    /// @return paid the total paid out (or kept for withdrawal) by this call.
    function settle(bytes32 receivableId, uint256[] calldata certificateIds) external returns (uint256 paid);

    /// @notice Withdraws the caller's kept payments to `to`.
    function withdraw(address to) external returns (uint256 amount);

    /// @notice Returns rounding dust of a closed, fully settled receivable to its debtor.
    function sweepDust(bytes32 receivableId) external returns (uint256 amount);

    /// @notice What `certificateId` is entitled to in total now, and what it was paid so far
    /// (both zero for a retired certificate, whose children hold the claim).
    function entitlementOf(uint256 certificateId) external view returns (uint256 entitled, uint256 paidOut);

    /// @notice What leaf `certificateId` has been paid so far (pushed or kept for withdrawal):
    /// its remaining claim is its face value minus this.
    /// @dev Stored only while the leaf is open and was paid in part; a settled leaf was paid its
    /// final entitlement, floor(repaid * leafFace / faceValue), which is computed here.
    function paidOutOf(uint256 certificateId) external view returns (uint256);

    /// @notice The total paid out (or kept for withdrawal) for `receivableId`.
    function distributedOf(bytes32 receivableId) external view returns (uint256);

    /// @notice How many leaves of `receivableId` have received their final share.
    function finalizedLeavesOf(bytes32 receivableId) external view returns (uint256);

    /// @notice Payments kept for `account` to withdraw.
    function claimableOf(address account) external view returns (uint256);

    /// @notice The sum of all payments kept for withdrawal.
    function totalClaimable() external view returns (uint256);
}
