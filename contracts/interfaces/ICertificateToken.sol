// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";

/// @title ICertificateToken
/// @notice Receivable certificates as ERC-721 tokens. Each records its root receivable,
/// its parent, its tier, its face value and due date, so the whole split tree is on-chain.
/// @dev States: Live (transferable leaf) <-> Locked (in a financing request or pledge);
/// Live -> Retired (split into children; the token is burned, the record stays);
/// Live|Locked -> Settled (paid out in full; the token is burned, the record stays).
/// Ids come from a counter and are never reused. All ownership changes pass one `_update`
/// hook: locks, pause and the party allow-list are enforced there.
/// Storage (what the contract must check, the rest is in events): one slot per child (face value,
/// parent, root, tier, state) and the root's receivable id; a root's face value, due date and
/// state, and the tree's leaf count, are kept by the registry in the receivable's record
/// (IReceivableRegistry.CertificateTree), which only this token may change. A root has no ERC-721
/// owner slot until it first moves: its seller, in the same record, holds it while it is live or
/// locked (`IReceivableRegistry.liveRootSellerOf`), so registration writes one slot fewer. Face
/// values fit 128 bits, ids 48, due dates 40.
/// Metadata: `tokenURI` is computed on-chain from the record (JSON and an SVG image, see
/// CertificateMetadata) for every issued id, retired and settled ones included. Whenever what it
/// shows changes (lock, unlock, delivery, retirement on split, partial payout, settlement) the
/// token emits ERC-4906 `MetadataUpdate(tokenId)` (a batch of partial payouts: one
/// `BatchMetadataUpdate(fromId, toId)` over the batch's range) so wallets and indexers refresh.
interface ICertificateToken is IERC721, IERC4906 {
    /// @notice The state of a certificate. `None` means the id was never issued.
    enum CertificateState {
        None,
        Live,
        Locked,
        Retired,
        Settled
    }

    /// @notice One certificate's record.
    struct Certificate {
        bytes32 receivableId;
        uint256 parentId;
        uint256 faceValue;
        uint64 dueDate;
        uint8 tier;
        CertificateState state;
    }

    /// @notice One child of a split: `amount` of face value to `to`.
    struct SplitPart {
        address to;
        uint256 amount;
    }

    /// @notice Emitted for every certificate created, root (parentId 0) or child.
    event CertificateIssued(
        uint256 indexed certificateId,
        bytes32 indexed receivableId,
        uint256 indexed parentId,
        address holder,
        uint256 faceValue,
        uint8 tier
    );

    /// @notice Emitted when `parentId` is retired into `childIds`.
    event CertificateSplit(uint256 indexed parentId, uint256[] childIds);

    /// @notice Emitted when a lock is placed on `certificateId` by `locker` (a financing contract).
    event CertificateLockPlaced(uint256 indexed certificateId, address indexed locker);

    /// @notice Emitted when the lock on `certificateId` is lifted.
    event CertificateLockLifted(uint256 indexed certificateId);

    /// @notice Emitted when `certificateId` has been paid out in full and is closed.
    event CertificateSettled(uint256 indexed certificateId);

    /// @notice Emitted when the operator changes the tier policy.
    event TierPolicySet(uint8 maxTier, uint256 minPieceSize, uint16 maxSplitParts);

    /// @notice No certificate `certificateId` exists.
    error CertificateNotFound(uint256 certificateId);

    /// @notice `certificateId` is in a financing request or pledge and cannot move or split.
    error CertificateLocked(uint256 certificateId);

    /// @notice `certificateId` is not in a state where this action applies.
    error CertificateWrongState(uint256 certificateId, CertificateState state);

    /// @notice `caller` does not hold `certificateId`.
    error CertificateNotHolder(uint256 certificateId, address caller);

    /// @notice The children's face values add up to `sum`, not the parent's `faceValue`.
    error SplitAmountMismatch(uint256 certificateId, uint256 faceValue, uint256 sum);

    /// @notice A split needs between one and `maxParts` parts; `parts` were given.
    error SplitPartCount(uint256 parts, uint256 maxParts);

    /// @notice A child of `amount` is below the minimum piece size `minPieceSize`.
    error SplitPieceTooSmall(uint256 amount, uint256 minPieceSize);

    /// @notice A child would sit at `tier`, past the policy's `maxTier`.
    error SplitTierTooDeep(uint8 tier, uint8 maxTier);

    /// @notice `to` is the debtor of the receivable behind `certificateId`: a debtor never holds
    /// a claim on itself (its repayment would pay itself), by transfer, split or delivery.
    error CertificateRecipientIsDebtor(uint256 certificateId, address to);

    /// @notice `to` is an active party that may not hold certificates (an auditor: it reads,
    /// it does not hold; see {IPartyRegistry-mayHold}), so it cannot receive `certificateId` by
    /// transfer, split (`certificateId` is then the new piece's id) or market delivery, nor
    /// fund a request for it (`certificateId` is then the requested certificate).
    error CertificateRecipientMayNotHold(uint256 certificateId, address to);

    /// @notice A split into one piece kept by the holder changes nothing but the certificate's
    /// id (and lengthens its lineage): a split makes two pieces or more, or one piece for
    /// another party. The API refuses the same with `SPLIT_CHANGES_NOTHING`.
    error SplitChangesNothing(uint256 certificateId);

    /// @notice The receivable is no longer splittable: repayment has begun, or it is past due
    /// or closed.
    error SplitClosed(bytes32 receivableId);

    /// @notice `account` is not an active party and may not send or receive certificates.
    error CertificatePartyNotActive(address account);

    /// @notice The tier policy is invalid (max tier 0, or max parts 0).
    error TierPolicyInvalid(uint8 maxTier, uint256 minPieceSize, uint16 maxSplitParts);

    /// @notice Emitted once, when the financing market and settlement escrow are wired in.
    event CertificateContractsWired(address financingMarket, address settlementEscrow);

    /// @notice `receivableId` already has a root certificate: no second claim on it, ever.
    error CertificateRootExists(bytes32 receivableId);

    /// @notice The registry holds no tree for `receivableId` waiting for its root: it is not being registered.
    error CertificateReceivableNotRegistered(bytes32 receivableId);

    /// @notice A certificate's face value is stored in 128 bits: `faceValue` is above `maxFaceValue`
    /// (2^128 - 1 smallest units, about 3.4e20 units of an 18-decimal token).
    error CertificateFaceValueTooLarge(uint256 faceValue, uint256 maxFaceValue);

    /// @notice `caller` is not the one contract allowed to do this (`expected`). Contract-to-contract
    /// powers (issue: the registry; lock, unlock, deliver: the market; close: the escrow) are pinned
    /// to the wired contracts and no role, the admin's included, can be granted them.
    error CertificateCallerNotWired(address caller, address expected);

    /// @notice The contracts were wired already, or a zero address was given.
    error CertificateWiringInvalid();

    /* ----------------------- Dilution (issue 16) ----------------------- */

    /// @notice Emitted once, when the dilution ledger is wired in.
    event CertificateDilutionWired(address dilutionLedger);

    /// @notice The debtor disputes `receivableId`: no split until the dispute ends.
    error CertificateReceivableDisputed(bytes32 receivableId);

    /// @notice A credit note took `reduction` off `certificateId`: it is not split further.
    error CertificateDiluted(uint256 certificateId, uint256 reduction);

    /// @notice The dilution ledger whose open disputes stop splits (zero before it is wired).
    function dilutionLedger() external view returns (address);

    /// @notice Wires the dilution ledger, once. Only DEFAULT_ADMIN_ROLE.
    function wireDilution(address ledger) external;

    /* ------------------------------------------------------------------ */

    /// @notice The financing market: the only contract that may lock, unlock and deliver.
    function financingMarket() external view returns (address);

    /// @notice The settlement escrow: the only contract that may close paid certificates.
    function settlementEscrow() external view returns (address);

    /// @notice Wires the financing market and settlement escrow, once and for good.
    /// @dev Only DEFAULT_ADMIN_ROLE (the deployer, before it hands the admin role to the timelock).
    function wire(address financingMarket_, address settlementEscrow_) external;

    /// @notice The role allowed to pause and unpause transfers and splits.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice The block this contract was deployed in: where an indexer starts.
    function deploymentBlock() external view returns (uint256);

    /// @notice The tier policy: deepest tier, smallest piece, most parts per split.
    function tierPolicy() external view returns (uint8 maxTier, uint256 minPieceSize, uint16 maxSplitParts);

    /// @notice Issues the tier-1 root certificate of a newly registered receivable.
    /// @dev Only the receivable registry it was built with, while it registers the receivable: the
    /// registry's record must hold the receivable's tree (one live leaf) and no root id yet. It
    /// refuses a receivable that already has a root (`CertificateRootExists`), so no path mints a
    /// second claim, one the registry holds no tree for (`CertificateReceivableNotRegistered`), and
    /// a face value above 128 bits (`CertificateFaceValueTooLarge`).
    function issueRoot(
        bytes32 receivableId,
        address seller,
        uint256 faceValue,
        uint64 dueDate
    ) external returns (uint256 certificateId);

    /// @notice Splits `certificateId` into children; retires the parent.
    /// @dev Only the holder; not while paused, locked, or once repayment of the receivable
    /// has begun. A child to another party sits one tier deeper; a child kept by the holder
    /// keeps the parent's tier. At least two parts, or one part to another party
    /// (`SplitChangesNothing`); no part to the receivable's debtor (`CertificateRecipientIsDebtor`).
    function split(uint256 certificateId, SplitPart[] calldata parts) external returns (uint256[] memory childIds);

    /// @notice Locks `certificateId` for a financing request or pledge. Only the wired market.
    function lock(uint256 certificateId) external;

    /// @notice Lifts the lock on `certificateId`. Only the wired market.
    function unlock(uint256 certificateId) external;

    /// @notice Delivers a locked certificate to `to` and lifts the lock (delivery versus
    /// payment). Only the wired market; never to the receivable's debtor
    /// (`CertificateRecipientIsDebtor`, as for every transfer).
    function deliverLocked(uint256 certificateId, address to) external;

    /// @notice Closes a certificate paid out in full: burns the token, keeps the record.
    /// @dev Only the wired settlement escrow.
    function markSettled(uint256 certificateId) external;

    /// @notice Tells wallets that partial payouts changed what certificates `fromId`..`toId` show
    /// (their "paid out so far"): ERC-4906 `MetadataUpdate(fromId)` when it is one certificate,
    /// `BatchMetadataUpdate(fromId, toId)` otherwise. Changes no state.
    /// @dev The settlement escrow calls it once per batch that paid some leaves without settling
    /// them. One call and one event per batch rather than per leaf keeps a partial settlement's
    /// gas close to what it was; the range may name certificates that did not change (other
    /// receivables' ids in between), which only costs a wallet a needless refresh. Open to any
    /// caller on purpose: an ERC-4906 event is a hint to re-read a view computed from state, it
    /// moves and changes nothing, and checking the caller (a cold read of the wired escrow)
    /// cost 2,100 gas of each partial settlement, past the 2 % the metadata may add.
    function notifyPayouts(uint256 fromId, uint256 toId) external;

    /// @notice Sets the tier policy. Only DEFAULT_ADMIN_ROLE.
    function setTierPolicy(uint8 maxTier, uint256 minPieceSize, uint16 maxSplitParts) external;

    /// @notice Stops transfers, splits and locks. Burns on settlement still work. Only PAUSER_ROLE.
    function pause() external;

    /// @notice Resumes transfers and splits. Only PAUSER_ROLE.
    function unpause() external;

    /// @notice The ERC-721 metadata of `certificateId` as a `data:application/json;base64,` URI:
    /// name, description, an SVG image and attributes (receivable, face value and currency, due
    /// date, tier, parent, state, paid out so far). Works for retired and settled certificates too.
    /// @dev Reverts `CertificateNotFound` for an id never issued.
    function tokenURI(uint256 certificateId) external view returns (string memory);

    /// @notice The record of `certificateId`.
    function certificateOf(uint256 certificateId) external view returns (Certificate memory);

    /// @notice What settling `certificateId` needs in one call: its receivable, face value, state
    /// and holder (zero once burned: retired or settled). Reverts `CertificateNotFound` for an id
    /// never issued.
    function claimOf(
        uint256 certificateId
    ) external view returns (bytes32 receivableId, uint256 faceValue, CertificateState state, address holder);

    /// @notice The receivable `certificateId` is a claim on (what {certificateOf} says, for a
    /// contract that needs only that). Reverts `CertificateNotFound` for an id never issued.
    function receivableIdOf(uint256 certificateId) external view returns (bytes32);

    /// @notice The locker holding `certificateId` (the market while it is locked), or zero.
    function lockerOf(uint256 certificateId) external view returns (address);

    /// @notice How many leaves (live, locked or settled certificates) `receivableId` has.
    function leafCountOf(bytes32 receivableId) external view returns (uint256);

    /// @notice The id the next certificate will get.
    function nextCertificateId() external view returns (uint256);
}
