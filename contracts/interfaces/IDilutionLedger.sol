// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IDilutionLedger
/// @notice Disputes and credit notes: how a receivable's face value comes down after it was
/// registered, split and financed (returned goods, short deliveries, rebates, price disputes),
/// and how the reduction flows down its certificate tree.
/// @dev Lifecycle of a credit note: Proposed (by the debtor) -> Applied (co-signed by the
/// original seller with an EIP-712 signature, or, once the seller's response period has run
/// out, approved by ARBITER_ROLE) | Rejected (by ARBITER_ROLE) | Withdrawn (by the debtor).
/// A note over a tree of more than MAX_DILUTION_LEAVES leaves goes Proposed -> Applying ->
/// Applied: the approval records the credit at once and the cuts follow in bounded passes
/// (see `continueCreditNote`).
/// A dispute is open from `openDispute` (or the first proposal) until a credit note is applied,
/// the debtor withdraws it, or ARBITER_ROLE dismisses it; while it is open the receivable cannot
/// be split or newly financed (existing holders keep their claims).
///
/// The flow-down rule (one rule for every tree size), over the receivable's leaves in ascending id order:
///   1. the original seller's own retained pieces absorb the credit first: unlocked ones, then
///      pledged ones, each in ascending id order, each down to zero. A retained piece is a leaf
///      held by the seller's company: any address registered in the PartyRegistry under the
///      seller's legal id (`legalIdOf`), the seller's own or an alias, whenever the alias was
///      added. So a piece kept at an alias at the split, or moved to one while the note is
///      pending, still absorbs first; a piece sold to another company does not;
///   2. what is left (`rest`) is shared across every other leaf by cumulative rounding: walking
///      them in ascending id order with S = the running sum of their claims up to and including
///      the leaf, and P = the sum of all their claims, the leaf's cut is
///      floor(rest x S / P) - floor(rest x S_previous / P). The cuts add up to exactly `rest`,
///      and none exceeds its leaf's claim.
/// A tree of at most MAX_DILUTION_LEAVES leaves is cut in the approving transaction, over the
/// complete ascending leaf list (its length must equal `leafCountOf`). A wider tree is approved
/// with an empty list and cut by `continueCreditNote` in chunks of at most MAX_DILUTION_LEAVES:
/// a tally pass (classifies each leaf as retained-unlocked, retained-pledged or other by its
/// holder's company when the chunk is tallied, and sums their claims) and a cut pass over exactly
/// the same chunks, using the stored classification: a transfer or a new alias between the
/// passes changes no leaf's class.
/// A leaf's claim is its face value less every reduction applied to it. Conservation holds
/// exactly after every credit note: sum of live leaves' claims == face value - credited. A piece
/// with a reduction is not split further (CertificateToken refuses it), so conservation survives
/// later splits of the undiluted pieces.
///
/// Trust: a credit note re-prices what holders own, so no single key may apply one. The debtor
/// must propose it (amount, reason, document hash are the debtor's and fixed), and either the
/// original seller co-signs or ARBITER_ROLE — granted to the timelock only, so every decision is
/// scheduled in public and delayed — approves or rejects exactly what was proposed, and only
/// after the seller's response period (frozen into the note when proposed) has passed. The
/// arbiter cannot choose an amount, a reason or the split of the reduction (the rule above is
/// fixed), cannot credit more than is outstanding, and cannot act once repayment has begun.
/// Credit notes apply only before the first repayment and never to a defaulted receivable: once
/// money is paid out pro rata, shares already paid could not be re-cut without clawing back.
interface IDilutionLedger {
    /// @notice Where a credit note is. `None` means never proposed.
    enum CreditNoteStatus {
        None,
        Proposed,
        Applied,
        Rejected,
        Withdrawn,
        Applying
    }

    /// @notice Where the batched application of an `Applying` credit note is: `Tallying` (first
    /// pass: classify and sum), `Cutting` (second pass: cut). `None` otherwise.
    enum ApplicationPhase {
        None,
        Tallying,
        Cutting
    }

    /// @notice Who approved an applied credit note.
    enum CreditNoteApproval {
        Seller,
        Arbiter
    }

    /// @notice One credit note.
    /// @param receivableId the receivable it credits.
    /// @param amount the reduction of what the debtor owes, in the settlement token's smallest unit.
    /// @param reasonCode the debtor's reason (e.g. keccak256("RETURN"), "SHORT_DELIVERY", "REBATE").
    /// @param documentHash anchor of the off-chain credit note (returned or short lines).
    /// @param proposedAt when the debtor proposed it.
    /// @param sellerRespondBy until when only the seller may approve it (proposedAt + the
    /// response period in force at proposal).
    struct CreditNote {
        bytes32 receivableId;
        uint256 amount;
        bytes32 reasonCode;
        bytes32 documentHash;
        uint64 proposedAt;
        uint64 sellerRespondBy;
        CreditNoteStatus status;
    }

    /// @notice The original seller's consent to one credit note, signed with EIP-712.
    /// @param deadline unix time after which the signature is void.
    /// @param signature the seller's EIP-712 signature (EOA) or ERC-1271 approval (contract);
    /// empty when the seller submits the call itself.
    struct SellerConsent {
        uint256 deadline;
        bytes signature;
    }

    /// @notice Emitted when the debtor disputes `receivableId`: splitting and new financing stop.
    /// @param disputeNumber the dispute's number for this receivable (1, 2, 3, … in the order
    /// opened, by `openDispute` or by a proposal that opened one); a dismissal names it.
    event DisputeOpened(
        bytes32 indexed receivableId,
        address indexed debtor,
        uint256 disputeNumber,
        bytes32 reasonCode,
        bytes32 documentHash
    );

    /// @notice Emitted when a dispute ends in credit note `creditNoteId`.
    event DisputeResolved(bytes32 indexed receivableId, uint256 indexed creditNoteId);

    /// @notice Emitted when the debtor withdraws its dispute.
    event DisputeWithdrawn(bytes32 indexed receivableId);

    /// @notice Emitted when ARBITER_ROLE dismisses dispute number `disputeNumber` of `receivableId`
    /// (no credit note pending).
    event DisputeDismissed(bytes32 indexed receivableId, address indexed arbiter, uint256 disputeNumber);

    /// @notice Emitted when the debtor proposes a credit note.
    event CreditNoteProposed(
        uint256 indexed creditNoteId,
        bytes32 indexed receivableId,
        uint256 amount,
        bytes32 reasonCode,
        bytes32 documentHash,
        uint64 sellerRespondBy
    );

    /// @notice Emitted when the debtor withdraws a credit note it proposed.
    event CreditNoteWithdrawn(uint256 indexed creditNoteId, bytes32 indexed receivableId);

    /// @notice Emitted when ARBITER_ROLE rejects a credit note.
    event CreditNoteRejected(uint256 indexed creditNoteId, bytes32 indexed receivableId, address indexed arbiter);

    /// @notice Emitted when a credit note is applied: `retainedReduction` came off the seller's
    /// retained pieces (the leaves its company held), `sharedReduction` off the other leaves;
    /// `credited` is the receivable's total.
    event CreditNoteApplied(
        uint256 indexed creditNoteId,
        bytes32 indexed receivableId,
        CreditNoteApproval approvedBy,
        uint256 amount,
        uint256 retainedReduction,
        uint256 sharedReduction,
        uint256 credited
    );

    /// @notice Emitted for every leaf a credit note reduces: `holder` held it then (and bears
    /// the loss), `reduction` came off now, `claim` is what the leaf is owed from now on;
    /// `retained` when it was cut as the seller's retained piece (held by the seller's company,
    /// any of its addresses, when classified).
    event LeafDiluted(
        uint256 indexed certificateId,
        bytes32 indexed receivableId,
        address indexed holder,
        uint256 creditNoteId,
        uint256 reduction,
        uint256 claim,
        bool retained
    );

    /// @notice Emitted when a pledged leaf's claim falls below what its pledgee is owed: the
    /// pledge keeps its lock; the market's terms do not change, the pledgee is told.
    event PledgeCollateralShortfall(
        uint256 indexed certificateId,
        uint256 indexed requestId,
        address indexed pledgee,
        uint256 outstanding,
        uint256 claim
    );

    /// @notice Emitted when a credit note over a tree wider than MAX_DILUTION_LEAVES is approved:
    /// the credit is recorded (the debtor owes the reduced amount from now on) and the cuts follow
    /// through `continueCreditNote` over `leafCount` leaves. The dispute stays open until then.
    event CreditNoteApplying(
        uint256 indexed creditNoteId,
        bytes32 indexed receivableId,
        CreditNoteApproval approvedBy,
        uint256 leafCount
    );

    /// @notice Emitted for every chunk `continueCreditNote` takes: `processed` leaves of the pass
    /// `phase` are done, the last one `cursor`; `round` counts tally restarts.
    event CreditNoteChunkProcessed(
        uint256 indexed creditNoteId,
        ApplicationPhase phase,
        uint256 round,
        uint256 processed,
        uint256 cursor
    );

    /// @notice Emitted when the tally pass has seen every leaf: the claims of the seller's
    /// retained unlocked and pledged leaves (held by any address of its company), and of every
    /// other leaf (`pool`). The cut pass starts.
    event CreditNoteTallied(
        uint256 indexed creditNoteId,
        uint256 retainedUnlocked,
        uint256 retainedLocked,
        uint256 pool
    );

    /// @notice Emitted when a tally pass that skipped leaf `missingLeafId` is thrown away and
    /// starts again (round `round`).
    event CreditNoteTallyRestarted(uint256 indexed creditNoteId, uint256 missingLeafId, uint256 round);

    /// @notice Emitted when the admin sets the seller response period for later proposals.
    event SellerResponsePeriodSet(uint64 period);

    /// @notice `caller` is not the debtor of `receivableId`.
    error DilutionNotDebtor(bytes32 receivableId, address caller);

    /// @notice `receivableId` already has an open dispute.
    error DisputeAlreadyOpen(bytes32 receivableId);

    /// @notice `receivableId` has no open dispute.
    error DisputeNotOpen(bytes32 receivableId);

    /// @notice A dismissal named dispute number `named` of `receivableId`, but the open one is
    /// number `current` (the named one was withdrawn or ended and another opened since).
    error DisputeNotTheOneNamed(bytes32 receivableId, uint256 named, uint256 current);

    /// @notice A dispute must be opened before the due date `dueDate`.
    error DisputeAfterMaturity(bytes32 receivableId, uint64 dueDate);

    /// @notice Credit note `creditNoteId` is still pending on the dispute.
    error DisputeHasPendingCreditNote(bytes32 receivableId, uint256 creditNoteId);

    /// @notice Credit note `creditNoteId` does not exist.
    error CreditNoteNotFound(uint256 creditNoteId);

    /// @notice Credit note `creditNoteId` is `status`, not Proposed.
    error CreditNoteWrongStatus(uint256 creditNoteId, CreditNoteStatus status);

    /// @notice A credit note of zero.
    error CreditNoteZeroAmount();

    /// @notice `amount` is above what is still owed on `receivableId` (`outstanding`).
    error CreditNoteExceedsOutstanding(bytes32 receivableId, uint256 amount, uint256 outstanding);

    /// @notice No credit note once repayment has begun, or once the receivable is defaulted or
    /// closed (status and repaid amount given).
    error CreditNoteClosed(bytes32 receivableId, uint8 status, uint256 repaidAmount);

    /// @notice The seller's signature expired at `deadline`.
    error CreditNoteConsentExpired(uint256 deadline, uint256 nowTime);

    /// @notice The signature is not the seller's consent to exactly this credit note.
    error CreditNoteInvalidSignature(address seller);

    /// @notice The arbiter may decide only after the seller's response period, at `respondBy`.
    error CreditNoteSellerStillToRespond(uint256 creditNoteId, uint64 respondBy);

    /// @notice The leaf list has `given` ids; the receivable has `leaves` leaves (at most `max` here).
    error DilutionLeafCount(bytes32 receivableId, uint256 given, uint256 leaves, uint256 max);

    /// @notice The leaf list must be strictly ascending; `certificateId` is out of order.
    error DilutionLeavesNotSorted(uint256 certificateId);

    /// @notice `certificateId` is not a live or pledged leaf of `receivableId`.
    error DilutionNotALeaf(uint256 certificateId, bytes32 receivableId);

    /// @notice Credit note `creditNoteId` is `status`, not Applying.
    error CreditNoteNotApplying(uint256 creditNoteId, CreditNoteStatus status);

    /// @notice A chunk of `given` leaves; this one takes 1 to `max`.
    error DilutionChunkSize(uint256 given, uint256 max);

    /// @notice The cut pass must take exactly the chunk the tally pass took at `position`.
    error DilutionChunkMismatch(uint256 creditNoteId, uint256 position);

    /// @notice `missingLeafId` is no leaf the tally skipped (given that tallied chunk).
    error DilutionNoGap(uint256 creditNoteId, uint256 missingLeafId);

    /// @notice Only the wired registry, token and market can be set, once, non-zero.
    error DilutionWiringInvalid();

    /// @notice The role that decides credit notes the seller did not answer (the timelock).
    function ARBITER_ROLE() external view returns (bytes32);

    /// @notice The EIP-712 type hash of the seller's consent.
    function CREDIT_NOTE_CONSENT_TYPEHASH() external view returns (bytes32);

    /// @notice The most leaves one credit note is applied over (the gas bound).
    function MAX_DILUTION_LEAVES() external view returns (uint256);

    /// @notice The block this contract was deployed in: where an indexer starts.
    function deploymentBlock() external view returns (uint256);

    /// @notice Seconds the seller has to co-sign a credit note proposed from now on before the
    /// arbiter may decide it.
    function sellerResponsePeriod() external view returns (uint64);

    /// @notice The debtor disputes `receivableId` before its due date.
    function openDispute(bytes32 receivableId, bytes32 reasonCode, bytes32 documentHash) external;

    /// @notice The debtor withdraws its dispute (no credit note may be pending).
    function withdrawDispute(bytes32 receivableId) external;

    /// @notice ARBITER_ROLE ends dispute number `disputeNumber` of `receivableId` (no credit note
    /// pending). Changes no claim. Reverts with DisputeNotTheOneNamed unless that dispute is the
    /// open one: a dismissal reviewed and scheduled (through the timelock) for one dispute never
    /// closes a later one the debtor opened before the delay ended.
    function dismissDispute(bytes32 receivableId, uint256 disputeNumber) external;

    /// @notice The debtor proposes a credit note; opens a dispute if none is open (the tree is
    /// frozen until the note ends). One pending note per receivable.
    function proposeCreditNote(
        bytes32 receivableId,
        uint256 amount,
        bytes32 reasonCode,
        bytes32 documentHash
    ) external returns (uint256 creditNoteId);

    /// @notice The debtor withdraws a credit note still Proposed.
    function withdrawCreditNote(uint256 creditNoteId) external;

    /// @notice Applies credit note `creditNoteId` with the original seller's consent, over the
    /// complete ascending list of the receivable's leaves (empty for a tree wider than
    /// MAX_DILUTION_LEAVES: the note goes Applying, see `continueCreditNote`). Anyone may submit
    /// a valid consent.
    function applyWithSellerConsent(
        uint256 creditNoteId,
        SellerConsent calldata consent,
        uint256[] calldata leafIds
    ) external;

    /// @notice ARBITER_ROLE approves (and applies, over `leafIds`; empty for a tree wider than
    /// MAX_DILUTION_LEAVES) or rejects a credit note the seller did not co-sign within its
    /// response period.
    function decideCreditNote(uint256 creditNoteId, bool approve, uint256[] calldata leafIds) external;

    /// @notice Takes the next chunk of an `Applying` credit note: 1 to MAX_DILUTION_LEAVES leaf
    /// ids, strictly ascending, after the pass's cursor, each a live or pledged leaf of the
    /// receivable. Anyone may call it: the decision is made and the rule is fixed. The tally pass
    /// classifies each leaf (retained by the seller's company? pledged?) and sums the claims; once it has
    /// seen `leafCountOf` leaves (strictly ascending distinct leaves, as many as the tree has: all
    /// of them) the cut pass walks the same chunks again (each must be exactly the chunk the
    /// tally took at that position) and cuts each leaf by its stored classification; the holder
    /// at cut time bears the loss. The last chunk ends the dispute and emits CreditNoteApplied.
    /// The leaf set cannot change meanwhile: splits are refused while disputed, and settlement
    /// (the only other change of a leaf's state) is refused while a note is Applying.
    function continueCreditNote(uint256 creditNoteId, uint256[] calldata leafIds) external;

    /// @notice Throws a tally pass away that skipped a leaf (a chunk with a gap can never reach
    /// the leaf count): `chunk` is the tally's chunk at `position` with cursor `before` ahead of
    /// it, and `missingLeafId`, a live or pledged leaf of the receivable, lies strictly between
    /// two of its consecutive ids. Anyone may call it; nothing was cut yet.
    function restartTally(
        uint256 creditNoteId,
        uint256 position,
        uint256 before,
        uint256[] calldata chunk,
        uint256 missingLeafId
    ) external;

    /// @notice Sets the seller response period of credit notes proposed from now on. Only
    /// DEFAULT_ADMIN_ROLE.
    function setSellerResponsePeriod(uint64 period) external;

    /// @notice The EIP-712 digest the seller signs to consent to `creditNoteId` until `deadline`.
    function creditNoteConsentDigest(uint256 creditNoteId, uint256 deadline) external view returns (bytes32);

    /// @notice Credit note `creditNoteId`.
    function creditNoteOf(uint256 creditNoteId) external view returns (CreditNote memory);

    /// @notice How many credit notes were ever proposed (ids run from 1).
    function creditNoteCount() external view returns (uint256);

    /// @notice Whether `receivableId` is disputed now (splitting and new financing refused).
    function isDisputed(bytes32 receivableId) external view returns (bool);

    /// @notice The number of the latest dispute of `receivableId` (0 if none was ever opened) and
    /// whether it is open now.
    function disputeOf(bytes32 receivableId) external view returns (uint256 number, bool open);

    /// @notice What the certificate token checks before a split, in one call: whether
    /// `receivableId` is disputed, and the reduction of `certificateId` (a reduced piece is not split).
    function splitStatusOf(
        bytes32 receivableId,
        uint256 certificateId
    ) external view returns (bool disputed, uint256 reduction);

    /// @notice Where the batched application of credit note `creditNoteId` is: the pass, how many
    /// leaves it has done, of how many, and the last leaf id it took (0 at its start).
    function applicationOf(
        uint256 creditNoteId
    ) external view returns (ApplicationPhase phase, uint256 processed, uint256 leafCount, uint256 cursor);

    /// @notice The credit note being applied in passes on `receivableId` (status Applying), or 0:
    /// while it is, settlement and recourse claims on the receivable wait (claims are half cut).
    function applyingCreditNoteOf(bytes32 receivableId) external view returns (uint256);

    /// @notice The credit note pending (Proposed or Applying) on `receivableId`, or 0.
    function pendingCreditNoteOf(bytes32 receivableId) external view returns (uint256);

    /// @notice The total reduction applied to leaf `certificateId` (0 for an undiluted one).
    function reductionOf(uint256 certificateId) external view returns (uint256);

    /// @notice What leaf `certificateId` is owed in total: its face value less its reduction.
    function claimOf(uint256 certificateId) external view returns (uint256);

    /// @notice The dilution loss `bearer` took on leaf `certificateId` (held it when cut).
    function lossOf(uint256 certificateId, address bearer) external view returns (uint256);

    /// @notice By how much a pledged leaf's claim is below its pledgee's outstanding (0 if not).
    function collateralShortfallOf(uint256 certificateId) external view returns (uint256);
}
