// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IRecourseLedger
/// @notice Recourse down the certificate tree, as endorsements of a bill of exchange. A holder
/// that passes a piece "with recourse" endorses it first: `grantRecourse` records, on the
/// certificate, that the holder guarantees it and every piece later split from it to every
/// later holder other than itself. A piece passed without a grant is passed without recourse.
/// Grants are irrevocable and can only be made by the current holder, so the term is fixed by
/// the time the piece leaves the endorser's hands, and a buyer (or the market's financier) sees
/// it on-chain (`endorsementsOf`, `guarantorsOf`) before paying. No existing function changes:
/// a split, a transfer or a market sale of an endorsed certificate carries the endorsement.
///
/// Claims. A loss opens a claim of its holder on one guarantor of the leaf (an endorsement on
/// the leaf or on one of its ancestors, by someone other than the creditor; the caller names it,
/// the service picks the nearest, as a bill's holder may pick any prior endorser):
///   - Dilution: the holder that bore a credit-note cut on a leaf (DilutionLedger.lossOf) claims
///     up to that cut, in one or more claims that never add up to more.
/// Only the creditor opens or escalates its own claim and picks the guarantor: nobody else can
/// aim it at a guarantor the creditor would not choose.
///   - Default: once the receivable is Defaulted, the leaf's holder claims what the leaf is still
///     owed (diluted claim less what settlement paid it); once per leaf. When that claim is paid,
///     the leaf itself goes to the guarantor (the bill goes to the endorser who honoured it), so
///     any late payment by the debtor reaches whoever bore the loss; the holder approves this
///     ledger for the leaf when it opens the claim. A late payment settled to the leaf while the
///     claim is open made good part of the loss: the guarantor pays only what the leaf is still
///     owed when it pays, never the larger amount the claim was opened for.
/// A claim is paid in the settlement token by anyone for its guarantor (`payClaim`). A guarantor
/// that paid may pass what it paid up the chain (`escalate`) to an endorsement strictly above
/// its own (earlier on the same certificate, or on an ancestor), up to the original seller; for a
/// default, less what the leaf it took has been paid since, and each payment up the chain is
/// again held to what the leaf is still owed.
/// At any time, for every leaf and loss, at most one claim of a chain is open and none is for
/// more than the one it passes on, so open claims never sum to more than the loss they cover.
/// Gas: checking that a certificate is on a leaf's lineage reads one certificate per generation
/// between them (about 8,000 gas each); a tree is at most as deep as its number of splits.
interface IRecourseLedger {
    /// @notice What loss a claim covers.
    enum RecourseKind {
        Dilution,
        Default
    }

    /// @notice Where a claim is. `None` means never opened.
    enum ClaimStatus {
        None,
        Open,
        Paid
    }

    /// @notice One endorsement with recourse on a certificate.
    struct Endorsement {
        address endorser;
        uint64 grantedAt;
    }

    /// @notice One recourse claim of `creditor` on `guarantor` for a loss on `leafId`.
    /// @param guarantorCertificateId and @param endorsementIndex name the guarantor's endorsement.
    /// @param amount what the claim was opened for; once paid, what was paid (a default claim's
    /// payment is held to what the leaf was still owed then).
    /// @param parentClaimId the paid claim this one passes up the chain (0 for a holder's claim).
    struct RecourseClaim {
        uint256 leafId;
        RecourseKind kind;
        ClaimStatus status;
        bool escalated;
        address creditor;
        address guarantor;
        uint256 guarantorCertificateId;
        uint256 endorsementIndex;
        uint256 amount;
        uint256 parentClaimId;
    }

    /// @notice Emitted when `endorser`, holding `certificateId`, endorses it with recourse.
    event RecourseGranted(uint256 indexed certificateId, address indexed endorser, uint256 endorsementIndex);

    /// @notice Emitted when a claim is opened.
    event RecourseClaimOpened(
        uint256 indexed claimId,
        uint256 indexed leafId,
        address indexed guarantor,
        address creditor,
        RecourseKind kind,
        uint256 amount,
        uint256 guarantorCertificateId,
        uint256 endorsementIndex,
        uint256 parentClaimId
    );

    /// @notice Emitted when `payer` pays claim `claimId` to its creditor: `amount` is what was
    /// actually paid, which for a default claim may be less than the claim was opened for.
    event RecourseClaimPaid(uint256 indexed claimId, address indexed payer, address indexed creditor, uint256 amount);

    /// @notice Only `creditor` may open or pass on this claim; `caller` is not it.
    error RecourseNotCreditor(address caller, address creditor);

    /// @notice `caller` does not hold `certificateId`.
    error RecourseNotHolder(uint256 certificateId, address caller);

    /// @notice `certificateId` is not live or pledged (retired, settled or unknown).
    error RecourseCertificateNotLive(uint256 certificateId);

    /// @notice `endorser` already endorsed `certificateId`.
    error RecourseAlreadyGranted(uint256 certificateId, address endorser);

    /// @notice `certificateId` carries the most endorsements allowed (`max`).
    error RecourseTooManyEndorsements(uint256 certificateId, uint256 max);

    /// @notice No endorsement `endorsementIndex` on `certificateId` guarantees `leafId` for this creditor.
    error RecourseNotAGuarantor(uint256 leafId, uint256 certificateId, uint256 endorsementIndex);

    /// @notice Nothing is left to claim on `leafId` for `creditor`.
    error RecourseNothingToClaim(uint256 leafId, address creditor);

    /// @notice The receivable of the leaf is not Defaulted.
    error RecourseNotDefaulted(bytes32 receivableId);

    /// @notice The holder of `leafId` already claimed for its default.
    error RecourseDefaultAlreadyClaimed(uint256 leafId);

    /// @notice The holder must approve this ledger for `leafId` (delivered to the guarantor on payment).
    error RecourseLeafNotApproved(uint256 leafId);

    /// @notice `claimId` does not exist.
    error RecourseClaimNotFound(uint256 claimId);

    /// @notice `claimId` is `status`, not as this action needs.
    error RecourseClaimWrongStatus(uint256 claimId, ClaimStatus status);

    /// @notice `claimId` was passed up the chain already.
    error RecourseAlreadyEscalated(uint256 claimId);

    /// @notice The creditor of a default claim no longer holds `leafId`.
    error RecourseCreditorNotHolder(uint256 leafId, address creditor);

    /// @notice Credit note `creditNoteId` on `receivableId` is still being cut in passes (losses
    /// and claims are half cut): a recourse claim on it waits until it is Applied.
    error RecourseCreditNoteApplying(bytes32 receivableId, uint256 creditNoteId);

    /// @notice The most endorsements one certificate can carry.
    function MAX_ENDORSEMENTS() external view returns (uint256);

    /// @notice The block this contract was deployed in: where an indexer starts.
    function deploymentBlock() external view returns (uint256);

    /// @notice The holder of `certificateId` endorses it with recourse (see the contract notes).
    function grantRecourse(uint256 certificateId) external;

    /// @notice Opens a claim of `bearer` for its unclaimed dilution loss on `leafId` on the
    /// endorsement `endorsementIndex` of `guarantorCertificateId`. Only the bearer.
    function openDilutionClaim(
        uint256 leafId,
        address bearer,
        uint256 guarantorCertificateId,
        uint256 endorsementIndex
    ) external returns (uint256 claimId);

    /// @notice The holder of `leafId` of a Defaulted receivable claims what the leaf is still
    /// owed. The holder must have approved this ledger for the leaf.
    function openDefaultClaim(
        uint256 leafId,
        uint256 guarantorCertificateId,
        uint256 endorsementIndex
    ) external returns (uint256 claimId);

    /// @notice Passes paid claim `claimId` up the chain: its guarantor claims what it paid on an
    /// endorsement strictly above its own (a default: less what the leaf has been paid since; none
    /// left, `RecourseNothingToClaim`). Only that guarantor (the new claim's creditor).
    function escalate(
        uint256 claimId,
        uint256 guarantorCertificateId,
        uint256 endorsementIndex
    ) external returns (uint256 newClaimId);

    /// @notice Pays open claim `claimId` from the caller to its creditor in the settlement token
    /// (approve first); on a default claim, delivers the leaf to the guarantor. A default claim
    /// pays the smaller of its amount and what the leaf is still owed (diluted claim less what
    /// settlement paid it), so a late payment the creditor was paid is not recovered twice.
    /// The leaf is delivered before the creditor is paid, so a creditor that runs code on receipt
    /// of the payment cannot settle a late payout on the leaf to itself: it goes to the guarantor.
    function payClaim(uint256 claimId) external;

    /// @notice The endorsements with recourse on `certificateId`, oldest first.
    function endorsementsOf(uint256 certificateId) external view returns (Endorsement[] memory);

    /// @notice Whether endorsement `endorsementIndex` of `certificateId` guarantees leaf `leafId`
    /// to `creditor` (it is on the leaf's lineage and not the creditor's own).
    function guarantees(
        uint256 leafId,
        uint256 certificateId,
        uint256 endorsementIndex,
        address creditor
    ) external view returns (bool);

    /// @notice The claim `claimId`.
    function claimOf(uint256 claimId) external view returns (RecourseClaim memory);

    /// @notice How many claims were ever opened (ids run from 1).
    function claimCount() external view returns (uint256);

    /// @notice What `bearer` has claimed so far for its dilution loss on `leafId`.
    function dilutionClaimedOf(uint256 leafId, address bearer) external view returns (uint256);

    /// @notice The default claim opened by the holder of `leafId` (0 if none).
    function defaultClaimOf(uint256 leafId) external view returns (uint256);
}
