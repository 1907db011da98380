// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IDilutionLedger} from "./interfaces/IDilutionLedger.sol";
import {IReceivableRegistry} from "./interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "./interfaces/ICertificateToken.sol";
import {IFinancingMarket} from "./interfaces/IFinancingMarket.sol";

/// @title DilutionLedger
/// @notice Disputes, credit notes and their flow down the certificate tree. See {IDilutionLedger}.
contract DilutionLedger is IDilutionLedger, AccessControl, EIP712 {
    /// @inheritdoc IDilutionLedger
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @inheritdoc IDilutionLedger
    bytes32 public constant CREDIT_NOTE_CONSENT_TYPEHASH = keccak256(
        // solhint-disable-next-line max-line-length
        "CreditNoteConsent(uint256 creditNoteId,bytes32 receivableId,uint256 amount,bytes32 reasonCode,bytes32 documentHash,uint256 deadline)"
    );
    /// @inheritdoc IDilutionLedger
    uint256 public constant MAX_DILUTION_LEAVES = 128;

    /// @inheritdoc IDilutionLedger
    uint256 public immutable deploymentBlock;

    IReceivableRegistry public immutable registry;
    ICertificateToken public immutable certificates;
    IFinancingMarket public immutable financing;

    /// @inheritdoc IDilutionLedger
    uint64 public sellerResponsePeriod = 7 days;
    /// @inheritdoc IDilutionLedger
    uint256 public creditNoteCount;

    mapping(uint256 creditNoteId => CreditNote) private _creditNotes;
    mapping(bytes32 receivableId => bool) private _disputed;
    mapping(bytes32 receivableId => uint256 creditNoteId) private _pending;
    mapping(uint256 certificateId => uint256) private _reductions;
    mapping(uint256 certificateId => mapping(address bearer => uint256)) private _losses;

    constructor(
        address admin,
        IReceivableRegistry registry_,
        ICertificateToken certificates_,
        IFinancingMarket financing_
    ) EIP712("Tierline DilutionLedger", "1") {
        if (address(registry_) == address(0) || address(certificates_) == address(0)) revert DilutionWiringInvalid();
        if (address(financing_) == address(0)) revert DilutionWiringInvalid();
        deploymentBlock = block.number;
        registry = registry_;
        certificates = certificates_;
        financing = financing_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /* ------------------------------------------------------------------ */
    /*                                Disputes                            */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IDilutionLedger
    function openDispute(bytes32 receivableId, bytes32 reasonCode, bytes32 documentHash) external {
        IReceivableRegistry.Receivable memory receivable = _asDebtor(receivableId);
        if (receivable.status != IReceivableRegistry.ReceivableStatus.Active || block.timestamp >= receivable.dueDate) {
            revert DisputeAfterMaturity(receivableId, receivable.dueDate);
        }
        if (_disputed[receivableId]) revert DisputeAlreadyOpen(receivableId);

        _disputed[receivableId] = true;
        emit DisputeOpened(receivableId, msg.sender, reasonCode, documentHash);
    }

    /// @inheritdoc IDilutionLedger
    function withdrawDispute(bytes32 receivableId) external {
        _asDebtor(receivableId);
        _requireDisputeWithoutNote(receivableId);

        _disputed[receivableId] = false;
        emit DisputeWithdrawn(receivableId);
    }

    /// @inheritdoc IDilutionLedger
    function dismissDispute(bytes32 receivableId) external onlyRole(ARBITER_ROLE) {
        _requireDisputeWithoutNote(receivableId);

        _disputed[receivableId] = false;
        emit DisputeDismissed(receivableId, msg.sender);
    }

    function _requireDisputeWithoutNote(bytes32 receivableId) private view {
        if (!_disputed[receivableId]) revert DisputeNotOpen(receivableId);
        uint256 pending = _pending[receivableId];
        if (pending != 0) revert DisputeHasPendingCreditNote(receivableId, pending);
    }

    /* ------------------------------------------------------------------ */
    /*                         Credit notes: proposal                     */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IDilutionLedger
    function proposeCreditNote(
        bytes32 receivableId,
        uint256 amount,
        bytes32 reasonCode,
        bytes32 documentHash
    ) external returns (uint256 creditNoteId) {
        // Checks.
        IReceivableRegistry.Receivable memory receivable = _asDebtor(receivableId);
        _requireCreditable(receivableId, receivable, amount);
        uint256 pending = _pending[receivableId];
        if (pending != 0) revert DisputeHasPendingCreditNote(receivableId, pending);

        // Effects.
        creditNoteId = ++creditNoteCount;
        uint64 respondBy = uint64(block.timestamp) + sellerResponsePeriod;
        _creditNotes[creditNoteId] = CreditNote({
            receivableId: receivableId,
            amount: amount,
            reasonCode: reasonCode,
            documentHash: documentHash,
            proposedAt: uint64(block.timestamp),
            sellerRespondBy: respondBy,
            status: CreditNoteStatus.Proposed
        });
        _pending[receivableId] = creditNoteId;
        if (!_disputed[receivableId]) {
            // The tree is frozen while the note is pending, so the leaf list it is applied over
            // (and a decision scheduled in the timelock) stays valid.
            _disputed[receivableId] = true;
            emit DisputeOpened(receivableId, msg.sender, reasonCode, documentHash);
        }
        emit CreditNoteProposed(creditNoteId, receivableId, amount, reasonCode, documentHash, respondBy);
    }

    /// @inheritdoc IDilutionLedger
    function withdrawCreditNote(uint256 creditNoteId) external {
        CreditNote storage note = _proposed(creditNoteId);
        _asDebtor(note.receivableId);

        note.status = CreditNoteStatus.Withdrawn;
        delete _pending[note.receivableId];
        emit CreditNoteWithdrawn(creditNoteId, note.receivableId);
    }

    /* ------------------------------------------------------------------ */
    /*                         Credit notes: decision                     */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IDilutionLedger
    function applyWithSellerConsent(
        uint256 creditNoteId,
        SellerConsent calldata consent,
        uint256[] calldata leafIds
    ) external {
        CreditNote storage note = _proposed(creditNoteId);
        address seller = registry.receivableOf(note.receivableId).seller;
        if (msg.sender != seller) {
            if (block.timestamp > consent.deadline) revert CreditNoteConsentExpired(consent.deadline, block.timestamp);
            bytes32 digest = _consentDigest(creditNoteId, note, consent.deadline);
            // SignatureChecker: ECDSA (low-s only) for EOAs, ERC-1271 for smart wallets. No nonce:
            // the note id is unique and a note is applied at most once.
            if (!SignatureChecker.isValidSignatureNow(seller, digest, consent.signature)) {
                revert CreditNoteInvalidSignature(seller);
            }
        }
        _apply(creditNoteId, note, CreditNoteApproval.Seller, leafIds);
    }

    /// @inheritdoc IDilutionLedger
    function decideCreditNote(
        uint256 creditNoteId,
        bool approve,
        uint256[] calldata leafIds
    ) external onlyRole(ARBITER_ROLE) {
        CreditNote storage note = _proposed(creditNoteId);
        if (block.timestamp <= note.sellerRespondBy) {
            revert CreditNoteSellerStillToRespond(creditNoteId, note.sellerRespondBy);
        }
        if (approve) {
            _apply(creditNoteId, note, CreditNoteApproval.Arbiter, leafIds);
        } else {
            note.status = CreditNoteStatus.Rejected;
            delete _pending[note.receivableId];
            emit CreditNoteRejected(creditNoteId, note.receivableId, msg.sender);
        }
    }

    /* ------------------------------------------------------------------ */
    /*                        Flow down the tree                          */
    /* ------------------------------------------------------------------ */

    /// One leaf as the flow-down sees it.
    struct Leaf {
        uint256 id;
        address holder;
        uint256 claim;
        uint256 cut;
        bool retained;
        bool locked;
    }

    function _apply(
        uint256 creditNoteId,
        CreditNote storage note,
        CreditNoteApproval approvedBy,
        uint256[] calldata leafIds
    ) private {
        // Checks: still creditable now, and the list is exactly the receivable's leaves.
        bytes32 receivableId = note.receivableId;
        uint256 amount = note.amount;
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        _requireCreditable(receivableId, receivable, amount);
        Leaf[] memory leaves = _loadLeaves(receivableId, receivable.seller, leafIds);

        // The rule (see IDilutionLedger): retained pieces first, unlocked then pledged, then pro rata.
        uint256 rest = _cutRetained(leaves, amount, false);
        rest = _cutRetained(leaves, rest, true);
        uint256 retainedReduction = amount - rest;
        if (rest != 0) _cutProRata(leaves, rest);

        // Effects.
        note.status = CreditNoteStatus.Applied;
        delete _pending[receivableId];
        _disputed[receivableId] = false;
        _recordCuts(creditNoteId, receivableId, leaves);
        emit DisputeResolved(receivableId, creditNoteId);
        emit CreditNoteApplied(
            creditNoteId,
            receivableId,
            approvedBy,
            amount,
            retainedReduction,
            rest,
            registry.creditedOf(receivableId) + amount
        );

        // Interaction with our own registry: what the debtor owes comes down (Repaid at zero).
        registry.recordCredit(receivableId, amount);
    }

    /// Writes each leaf's cut (its reduction, and the loss of the holder that bore it) and reports it.
    function _recordCuts(uint256 creditNoteId, bytes32 receivableId, Leaf[] memory leaves) private {
        for (uint256 i; i < leaves.length; ++i) {
            Leaf memory leaf = leaves[i];
            if (leaf.cut == 0) continue;
            _reductions[leaf.id] += leaf.cut;
            _losses[leaf.id][leaf.holder] += leaf.cut;
            uint256 claim = leaf.claim - leaf.cut;
            emit LeafDiluted(leaf.id, receivableId, leaf.holder, creditNoteId, leaf.cut, claim, leaf.retained);
            if (leaf.locked) _reportCollateral(leaf.id, claim);
        }
    }

    /// Reads the complete ascending leaf list and refuses anything else: its length must be the
    /// token's leaf count, so strictly ascending ids that all belong here are exactly the leaves.
    function _loadLeaves(
        bytes32 receivableId,
        address seller,
        uint256[] calldata leafIds
    ) private view returns (Leaf[] memory leaves) {
        uint256 count = certificates.leafCountOf(receivableId);
        if (leafIds.length != count || count > MAX_DILUTION_LEAVES) {
            revert DilutionLeafCount(receivableId, leafIds.length, count, MAX_DILUTION_LEAVES);
        }
        leaves = new Leaf[](count);
        uint256 previous;
        for (uint256 i; i < count; ++i) {
            uint256 id = leafIds[i];
            if (id <= previous) revert DilutionLeavesNotSorted(id);
            previous = id;
            ICertificateToken.Certificate memory certificate = certificates.certificateOf(id);
            bool locked = certificate.state == ICertificateToken.CertificateState.Locked;
            if (
                certificate.receivableId != receivableId ||
                (!locked && certificate.state != ICertificateToken.CertificateState.Live)
            ) revert DilutionNotALeaf(id, receivableId);
            address holder = certificates.ownerOf(id);
            leaves[i] = Leaf({
                id: id,
                holder: holder,
                claim: certificate.faceValue - _reductions[id],
                cut: 0,
                retained: holder == seller,
                locked: locked
            });
        }
    }

    /// Takes up to `amount` off the seller's retained leaves (pledged or not, as `locked` says),
    /// in ascending id order, each down to zero. Returns what is left.
    function _cutRetained(Leaf[] memory leaves, uint256 amount, bool locked) private pure returns (uint256 rest) {
        rest = amount;
        for (uint256 i; i < leaves.length && rest != 0; ++i) {
            Leaf memory leaf = leaves[i];
            if (!leaf.retained || leaf.locked != locked) continue;
            uint256 cut = Math.min(leaf.claim, rest);
            leaf.cut = cut;
            rest -= cut;
        }
    }

    /// Shares `rest` across the other leaves pro rata to their claims: floor shares first
    /// (`...Down`), then the rounding units one each in ascending id order. `rest` never exceeds
    /// their claims (the registry's outstanding check), so every share fits and the sum is exact.
    function _cutProRata(Leaf[] memory leaves, uint256 rest) private pure {
        uint256 pool;
        for (uint256 i; i < leaves.length; ++i) {
            if (!leaves[i].retained) pool += leaves[i].claim;
        }
        uint256 given;
        for (uint256 i; i < leaves.length; ++i) {
            Leaf memory leaf = leaves[i];
            if (leaf.retained) continue;
            leaf.cut = Math.mulDiv(rest, leaf.claim, pool);
            given += leaf.cut;
        }
        // Fewer units than leaves with a claim, and each such leaf has room for one more
        // (rest < pool, so every floor share is below its claim).
        for (uint256 i; i < leaves.length && given < rest; ++i) {
            Leaf memory leaf = leaves[i];
            if (leaf.retained || leaf.cut == leaf.claim) continue;
            ++leaf.cut;
            ++given;
        }
    }

    function _reportCollateral(uint256 certificateId, uint256 claim) private {
        (uint256 requestId, address pledgee, uint256 outstanding) = financing.pledgeOf(certificateId);
        if (outstanding > claim) emit PledgeCollateralShortfall(certificateId, requestId, pledgee, outstanding, claim);
    }

    /* ------------------------------------------------------------------ */
    /*                             Administration                         */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IDilutionLedger
    function setSellerResponsePeriod(uint64 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        sellerResponsePeriod = period;
        emit SellerResponsePeriodSet(period);
    }

    /* ------------------------------------------------------------------ */
    /*                                 Views                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IDilutionLedger
    function creditNoteConsentDigest(uint256 creditNoteId, uint256 deadline) external view returns (bytes32) {
        CreditNote storage note = _creditNotes[creditNoteId];
        if (note.status == CreditNoteStatus.None) revert CreditNoteNotFound(creditNoteId);
        return _consentDigest(creditNoteId, note, deadline);
    }

    /// @inheritdoc IDilutionLedger
    function creditNoteOf(uint256 creditNoteId) external view returns (CreditNote memory) {
        return _creditNotes[creditNoteId];
    }

    /// @inheritdoc IDilutionLedger
    function isDisputed(bytes32 receivableId) external view returns (bool) {
        return _disputed[receivableId];
    }

    /// @inheritdoc IDilutionLedger
    function splitStatusOf(
        bytes32 receivableId,
        uint256 certificateId
    ) external view returns (bool disputed, uint256 reduction) {
        return (_disputed[receivableId], _reductions[certificateId]);
    }

    /// @inheritdoc IDilutionLedger
    function pendingCreditNoteOf(bytes32 receivableId) external view returns (uint256) {
        return _pending[receivableId];
    }

    /// @inheritdoc IDilutionLedger
    function reductionOf(uint256 certificateId) external view returns (uint256) {
        return _reductions[certificateId];
    }

    /// @inheritdoc IDilutionLedger
    function claimOf(uint256 certificateId) public view returns (uint256) {
        return certificates.certificateOf(certificateId).faceValue - _reductions[certificateId];
    }

    /// @inheritdoc IDilutionLedger
    function lossOf(uint256 certificateId, address bearer) external view returns (uint256) {
        return _losses[certificateId][bearer];
    }

    /// @inheritdoc IDilutionLedger
    function collateralShortfallOf(uint256 certificateId) external view returns (uint256) {
        (, , uint256 outstanding) = financing.pledgeOf(certificateId);
        uint256 claim = claimOf(certificateId);
        return outstanding > claim ? outstanding - claim : 0;
    }

    /// @notice The EIP-712 domain separator of seller consents.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /* ------------------------------------------------------------------ */
    /*                                Helpers                             */
    /* ------------------------------------------------------------------ */

    function _consentDigest(
        uint256 creditNoteId,
        CreditNote storage note,
        uint256 deadline
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        CREDIT_NOTE_CONSENT_TYPEHASH,
                        creditNoteId,
                        note.receivableId,
                        note.amount,
                        note.reasonCode,
                        note.documentHash,
                        deadline
                    )
                )
            );
    }

    /// Only before the first repayment, while Active or Overdue, and never past what is owed.
    function _requireCreditable(
        bytes32 receivableId,
        IReceivableRegistry.Receivable memory receivable,
        uint256 amount
    ) private view {
        if (amount == 0) revert CreditNoteZeroAmount();
        IReceivableRegistry.ReceivableStatus status = receivable.status;
        if (
            (status != IReceivableRegistry.ReceivableStatus.Active &&
                status != IReceivableRegistry.ReceivableStatus.Overdue) || receivable.repaidAmount != 0
        ) revert CreditNoteClosed(receivableId, uint8(status), receivable.repaidAmount);
        uint256 outstanding = receivable.faceValue - registry.creditedOf(receivableId);
        if (amount > outstanding) revert CreditNoteExceedsOutstanding(receivableId, amount, outstanding);
    }

    function _asDebtor(bytes32 receivableId) private view returns (IReceivableRegistry.Receivable memory receivable) {
        receivable = registry.receivableOf(receivableId);
        if (receivable.status == IReceivableRegistry.ReceivableStatus.None) {
            revert IReceivableRegistry.ReceivableNotFound(receivableId);
        }
        if (receivable.debtor != msg.sender) revert DilutionNotDebtor(receivableId, msg.sender);
    }

    function _proposed(uint256 creditNoteId) private view returns (CreditNote storage note) {
        note = _creditNotes[creditNoteId];
        if (note.status == CreditNoteStatus.None) revert CreditNoteNotFound(creditNoteId);
        if (note.status != CreditNoteStatus.Proposed) revert CreditNoteWrongStatus(creditNoteId, note.status);
    }
}
