// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IRecourseLedger} from "./interfaces/IRecourseLedger.sol";
import {IDilutionLedger} from "./interfaces/IDilutionLedger.sol";
import {IReceivableRegistry} from "./interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "./interfaces/ICertificateToken.sol";
import {ISettlementEscrow} from "./interfaces/ISettlementEscrow.sol";

/// @title RecourseLedger
/// @notice Endorsements with recourse and the claims they give. See {IRecourseLedger}.
/// @dev No roles and no admin: every action is a party's own (an endorser binds itself, a
/// creditor claims its own loss, a payer pays), so no key can create or move a claim.
contract RecourseLedger is IRecourseLedger, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @inheritdoc IRecourseLedger
    uint256 public constant MAX_ENDORSEMENTS = 8;

    /// @inheritdoc IRecourseLedger
    uint256 public immutable deploymentBlock;

    IReceivableRegistry public immutable registry;
    ICertificateToken public immutable certificates;
    IDilutionLedger public immutable dilution;
    ISettlementEscrow public immutable escrow;
    IERC20 public immutable settlementToken;

    /// @inheritdoc IRecourseLedger
    uint256 public claimCount;

    mapping(uint256 certificateId => Endorsement[]) private _endorsements;
    mapping(uint256 claimId => RecourseClaim) private _claims;
    mapping(uint256 leafId => mapping(address bearer => uint256)) private _dilutionClaimed;
    mapping(uint256 leafId => uint256 claimId) private _defaultClaims;

    constructor(
        IReceivableRegistry registry_,
        ICertificateToken certificates_,
        IDilutionLedger dilution_,
        ISettlementEscrow escrow_
    ) {
        deploymentBlock = block.number;
        registry = registry_;
        certificates = certificates_;
        dilution = dilution_;
        escrow = escrow_;
        settlementToken = IERC20(registry_.settlementToken());
    }

    /* ------------------------------------------------------------------ */
    /*                              Endorsement                           */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRecourseLedger
    function grantRecourse(uint256 certificateId) external {
        ICertificateToken.CertificateState state = certificates.certificateOf(certificateId).state;
        if (state != ICertificateToken.CertificateState.Live && state != ICertificateToken.CertificateState.Locked) {
            revert RecourseCertificateNotLive(certificateId);
        }
        if (certificates.ownerOf(certificateId) != msg.sender) revert RecourseNotHolder(certificateId, msg.sender);
        Endorsement[] storage endorsements = _endorsements[certificateId];
        uint256 count = endorsements.length;
        if (count == MAX_ENDORSEMENTS) revert RecourseTooManyEndorsements(certificateId, MAX_ENDORSEMENTS);
        for (uint256 i; i < count; ++i) {
            if (endorsements[i].endorser == msg.sender) revert RecourseAlreadyGranted(certificateId, msg.sender);
        }

        endorsements.push(Endorsement({endorser: msg.sender, grantedAt: uint64(block.timestamp)}));
        emit RecourseGranted(certificateId, msg.sender, count);
    }

    /* ------------------------------------------------------------------ */
    /*                                 Claims                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRecourseLedger
    function openDilutionClaim(
        uint256 leafId,
        address bearer,
        uint256 guarantorCertificateId,
        uint256 endorsementIndex
    ) external returns (uint256 claimId) {
        // Checks: the bearer itself, an unclaimed cut of its own, a guarantor of the leaf that is not it.
        if (msg.sender != bearer) revert RecourseNotCreditor(msg.sender, bearer);
        _requireNotApplying(certificates.receivableIdOf(leafId));
        uint256 amount = dilution.lossOf(leafId, bearer) - _dilutionClaimed[leafId][bearer];
        if (amount == 0) revert RecourseNothingToClaim(leafId, bearer);
        address guarantor = _guarantorOf(leafId, leafId, guarantorCertificateId, endorsementIndex, bearer);

        // Effects.
        _dilutionClaimed[leafId][bearer] += amount;
        claimId = _open(
            leafId,
            RecourseKind.Dilution,
            bearer,
            guarantor,
            guarantorCertificateId,
            endorsementIndex,
            amount,
            0
        );
    }

    /// @inheritdoc IRecourseLedger
    function openDefaultClaim(
        uint256 leafId,
        uint256 guarantorCertificateId,
        uint256 endorsementIndex
    ) external returns (uint256 claimId) {
        // Checks: a defaulted receivable, a live leaf of the caller's, once, with the leaf approved.
        ICertificateToken.Certificate memory leaf = certificates.certificateOf(leafId);
        IReceivableRegistry.ReceivableStatus status = registry.statusOf(leaf.receivableId);
        if (status != IReceivableRegistry.ReceivableStatus.Defaulted) revert RecourseNotDefaulted(leaf.receivableId);
        _requireNotApplying(leaf.receivableId);
        if (leaf.state != ICertificateToken.CertificateState.Live) revert RecourseCertificateNotLive(leafId);
        if (certificates.ownerOf(leafId) != msg.sender) revert RecourseNotHolder(leafId, msg.sender);
        if (_defaultClaims[leafId] != 0) revert RecourseDefaultAlreadyClaimed(leafId);
        _requireApproved(leafId, msg.sender);
        uint256 amount = _unpaidClaimOf(leafId);
        if (amount == 0) revert RecourseNothingToClaim(leafId, msg.sender);
        address guarantor = _guarantorOf(leafId, leafId, guarantorCertificateId, endorsementIndex, msg.sender);

        // Effects.
        claimId = _open(
            leafId,
            RecourseKind.Default,
            msg.sender,
            guarantor,
            guarantorCertificateId,
            endorsementIndex,
            amount,
            0
        );
        _defaultClaims[leafId] = claimId;
    }

    /// @inheritdoc IRecourseLedger
    function escalate(
        uint256 claimId,
        uint256 guarantorCertificateId,
        uint256 endorsementIndex
    ) external returns (uint256 newClaimId) {
        // Checks: a paid claim, not yet passed on, to an endorsement strictly above the one that paid.
        RecourseClaim storage paid = _existing(claimId);
        if (paid.status != ClaimStatus.Paid) revert RecourseClaimWrongStatus(claimId, paid.status);
        if (paid.escalated) revert RecourseAlreadyEscalated(claimId);
        address creditor = paid.guarantor;
        if (msg.sender != creditor) revert RecourseNotCreditor(msg.sender, creditor);
        // What the guarantor paid, less (default) what the leaf it took has been paid since: it holds
        // the leaf, so the leaf's unpaid claim is what it has still not recovered.
        uint256 amount = paid.amount;
        if (paid.kind == RecourseKind.Default) amount = Math.min(amount, _unpaidClaimOf(paid.leafId));
        if (amount == 0) revert RecourseNothingToClaim(paid.leafId, creditor);
        address guarantor;
        if (guarantorCertificateId == paid.guarantorCertificateId) {
            // An earlier endorsement of the same certificate.
            if (endorsementIndex >= paid.endorsementIndex) {
                revert RecourseNotAGuarantor(paid.leafId, guarantorCertificateId, endorsementIndex);
            }
            guarantor = _endorserAt(paid.leafId, guarantorCertificateId, endorsementIndex, creditor);
        } else {
            // An endorsement on a proper ancestor of the certificate that paid.
            uint256 start = certificates.certificateOf(paid.guarantorCertificateId).parentId;
            guarantor = _guarantorOf(paid.leafId, start, guarantorCertificateId, endorsementIndex, creditor);
        }

        // Effects.
        paid.escalated = true;
        newClaimId = _open(
            paid.leafId,
            paid.kind,
            creditor,
            guarantor,
            guarantorCertificateId,
            endorsementIndex,
            amount,
            claimId
        );
        if (paid.kind == RecourseKind.Default) _defaultClaims[paid.leafId] = newClaimId;
    }

    /// @inheritdoc IRecourseLedger
    function payClaim(uint256 claimId) external nonReentrant {
        // Checks.
        RecourseClaim storage claim = _existing(claimId);
        if (claim.status != ClaimStatus.Open) revert RecourseClaimWrongStatus(claimId, claim.status);
        uint256 amount = claim.amount;
        bool delivers = claim.kind == RecourseKind.Default;
        if (delivers) {
            if (certificates.ownerOf(claim.leafId) != claim.creditor) {
                revert RecourseCreditorNotHolder(claim.leafId, claim.creditor);
            }
            _requireApproved(claim.leafId, claim.creditor);
            // A late payment settled to the creditor since the claim was opened made good part of
            // its loss: the guarantor pays only what the leaf is still owed, or the creditor
            // recovers twice. (A dilution cut is final: the debtor never pays it.)
            amount = Math.min(amount, _unpaidClaimOf(claim.leafId));
        }

        // Effects: the claim keeps what was paid, which is what an escalation passes on.
        claim.status = ClaimStatus.Paid;
        if (amount != claim.amount) claim.amount = amount;
        emit RecourseClaimPaid(claimId, msg.sender, claim.creditor, amount);

        // Interactions: both legs in this call, or neither. The leaf moves first: a token that calls
        // its recipient lets the creditor run code when the money arrives, and by then any late
        // payout it settles on the leaf is the guarantor's, who paid for the loss it makes good.
        if (delivers) certificates.transferFrom(claim.creditor, claim.guarantor, claim.leafId);
        settlementToken.safeTransferFrom(msg.sender, claim.creditor, amount);
    }

    function _open(
        uint256 leafId,
        RecourseKind kind,
        address creditor,
        address guarantor,
        uint256 guarantorCertificateId,
        uint256 endorsementIndex,
        uint256 amount,
        uint256 parentClaimId
    ) private returns (uint256 claimId) {
        claimId = ++claimCount;
        _claims[claimId] = RecourseClaim({
            leafId: leafId,
            kind: kind,
            status: ClaimStatus.Open,
            escalated: false,
            creditor: creditor,
            guarantor: guarantor,
            guarantorCertificateId: guarantorCertificateId,
            endorsementIndex: endorsementIndex,
            amount: amount,
            parentClaimId: parentClaimId
        });
        emit RecourseClaimOpened(
            claimId,
            leafId,
            guarantor,
            creditor,
            kind,
            amount,
            guarantorCertificateId,
            endorsementIndex,
            parentClaimId
        );
    }

    /* ------------------------------------------------------------------ */
    /*                                 Views                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IRecourseLedger
    function endorsementsOf(uint256 certificateId) external view returns (Endorsement[] memory) {
        return _endorsements[certificateId];
    }

    /// @inheritdoc IRecourseLedger
    function guarantees(
        uint256 leafId,
        uint256 certificateId,
        uint256 endorsementIndex,
        address creditor
    ) external view returns (bool) {
        Endorsement[] storage endorsements = _endorsements[certificateId];
        if (endorsementIndex >= endorsements.length || endorsements[endorsementIndex].endorser == creditor) {
            return false;
        }
        return _onLineage(leafId, certificateId);
    }

    /// @inheritdoc IRecourseLedger
    function claimOf(uint256 claimId) external view returns (RecourseClaim memory) {
        return _claims[claimId];
    }

    /// @inheritdoc IRecourseLedger
    function dilutionClaimedOf(uint256 leafId, address bearer) external view returns (uint256) {
        return _dilutionClaimed[leafId][bearer];
    }

    /// @inheritdoc IRecourseLedger
    function defaultClaimOf(uint256 leafId) external view returns (uint256) {
        return _defaultClaims[leafId];
    }

    /* ------------------------------------------------------------------ */
    /*                                Helpers                             */
    /* ------------------------------------------------------------------ */

    /// What the leaf is still owed: its diluted claim less what settlement paid on it. A default
    /// loss shrinks by each late payment, made to whoever holds the leaf: the creditor until its
    /// claim is paid, then the guarantor that paid and took the leaf.
    function _unpaidClaimOf(uint256 leafId) private view returns (uint256) {
        return dilution.claimOf(leafId) - escrow.paidOutOf(leafId);
    }

    /// The endorser at (`certificateId`, `index`) if `certificateId` is `start` or one of its
    /// ancestors and the endorser is not `creditor`.
    function _guarantorOf(
        uint256 leafId,
        uint256 start,
        uint256 certificateId,
        uint256 index,
        address creditor
    ) private view returns (address) {
        if (!_onLineage(start, certificateId)) revert RecourseNotAGuarantor(leafId, certificateId, index);
        return _endorserAt(leafId, certificateId, index, creditor);
    }

    function _endorserAt(
        uint256 leafId,
        uint256 certificateId,
        uint256 index,
        address creditor
    ) private view returns (address endorser) {
        Endorsement[] storage endorsements = _endorsements[certificateId];
        if (index >= endorsements.length) revert RecourseNotAGuarantor(leafId, certificateId, index);
        endorser = endorsements[index].endorser;
        if (endorser == creditor) revert RecourseNotAGuarantor(leafId, certificateId, index);
    }

    /// Whether `ancestor` is `from` or one of its ancestors (one read per generation).
    function _onLineage(uint256 from, uint256 ancestor) private view returns (bool) {
        if (ancestor == 0) return false;
        while (from != 0) {
            if (from == ancestor) return true;
            from = certificates.certificateOf(from).parentId;
        }
        return false;
    }

    /// No claim while a credit note is cut in passes: the loss and the claim are not final yet.
    function _requireNotApplying(bytes32 receivableId) private view {
        uint256 applying = dilution.applyingCreditNoteOf(receivableId);
        if (applying != 0) revert RecourseCreditNoteApplying(receivableId, applying);
    }

    function _requireApproved(uint256 leafId, address holder) private view {
        if (
            certificates.getApproved(leafId) != address(this) && !certificates.isApprovedForAll(holder, address(this))
        ) {
            revert RecourseLeafNotApproved(leafId);
        }
    }

    function _existing(uint256 claimId) private view returns (RecourseClaim storage claim) {
        claim = _claims[claimId];
        if (claim.status == ClaimStatus.None) revert RecourseClaimNotFound(claimId);
    }
}
