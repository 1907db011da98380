// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ICertificateToken} from "./interfaces/ICertificateToken.sol";
import {IPartyRegistry} from "./interfaces/IPartyRegistry.sol";
import {IReceivableRegistry} from "./interfaces/IReceivableRegistry.sol";
import {ISettlementEscrow} from "./interfaces/ISettlementEscrow.sol";
import {CertificateMetadata} from "./libraries/CertificateMetadata.sol";
import {IDilutionLedger} from "./interfaces/IDilutionLedger.sol";

/// @title CertificateToken
/// @notice ERC-721 receivable certificates with on-chain lineage. See {ICertificateToken}.
contract CertificateToken is ICertificateToken, ERC721, AccessControl, Pausable {
    /// ERC-4906 (metadata update events), claimed in {supportsInterface}.
    bytes4 private constant ERC4906_INTERFACE_ID = 0x49064906;

    /// @inheritdoc ICertificateToken
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @inheritdoc ICertificateToken
    uint256 public immutable deploymentBlock;

    IPartyRegistry public immutable parties;
    IReceivableRegistry public immutable registry;
    /// @inheritdoc ICertificateToken
    address public financingMarket;
    /// @inheritdoc ICertificateToken
    address public settlementEscrow;

    struct TierPolicy {
        uint8 maxTier;
        uint16 maxSplitParts;
        uint256 minPieceSize;
    }

    TierPolicy private _policy = TierPolicy({maxTier: 10, maxSplitParts: 32, minPieceSize: 1});

    /// @inheritdoc ICertificateToken
    uint256 public nextCertificateId = 1;

    mapping(uint256 certificateId => Certificate) private _certificates;
    mapping(bytes32 receivableId => uint256) private _leafCounts;

    /// @inheritdoc ICertificateToken
    address public dilutionLedger; // issue 16: a disputed receivable cannot be split

    constructor(
        address admin,
        IPartyRegistry parties_,
        IReceivableRegistry registry_
    ) ERC721("Tierline Receivable Certificate", "TRC") {
        deploymentBlock = block.number;
        parties = parties_;
        registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /// Contract-to-contract powers are checks against the wired addresses, not roles: there is
    /// nothing the admin could grant to itself or anyone else.
    function _requireCaller(address expected) private view {
        if (msg.sender != expected || expected == address(0)) revert CertificateCallerNotWired(msg.sender, expected);
    }

    /* ------------------------------------------------------------------ */
    /*                                 Issue                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ICertificateToken
    function issueRoot(
        bytes32 receivableId,
        address seller,
        uint256 faceValue,
        uint64 dueDate
    ) external returns (uint256 certificateId) {
        _requireCaller(address(registry));
        // One root per receivable, ever: a leaf count is never zero once a root was issued.
        if (_leafCounts[receivableId] != 0) revert CertificateRootExists(receivableId);
        certificateId = nextCertificateId++;
        _leafCounts[receivableId] = 1;
        _certificates[certificateId] = Certificate({
            receivableId: receivableId,
            parentId: 0,
            faceValue: faceValue,
            dueDate: dueDate,
            tier: 1,
            state: CertificateState.Live
        });
        _mint(seller, certificateId);

        emit CertificateIssued(certificateId, receivableId, 0, seller, faceValue, 1);
    }

    /* ------------------------------------------------------------------ */
    /*                                 Split                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ICertificateToken
    function split(
        uint256 certificateId,
        SplitPart[] calldata parts
    ) external whenNotPaused returns (uint256[] memory childIds) {
        // Checks.
        Certificate storage parent = _certificates[certificateId];
        address holder = _ownerOf(certificateId);
        if (holder == address(0)) revert CertificateWrongState(certificateId, parent.state);
        if (holder != msg.sender) revert CertificateNotHolder(certificateId, msg.sender);
        // The parent's burn skips the party check in _update, so the sender is checked here.
        if (!parties.isActive(holder)) revert CertificatePartyNotActive(holder);
        if (parent.state == CertificateState.Locked) revert CertificateLocked(certificateId);
        TierPolicy memory policy = _policy;
        if (parts.length == 0 || parts.length > policy.maxSplitParts) {
            revert SplitPartCount(parts.length, policy.maxSplitParts);
        }
        if (parts.length == 1 && parts[0].to == holder) revert SplitChangesNothing(certificateId);
        bytes32 receivableId = parent.receivableId;
        address debtor = _requireSplitOpen(receivableId, certificateId);
        uint256 sum;
        for (uint256 i; i < parts.length; ++i) {
            // The children's mints skip the debtor check in _update (see there): checked here,
            // against the receivable already read.
            if (parts[i].to == debtor) revert CertificateRecipientIsDebtor(certificateId, debtor);
            uint256 amount = parts[i].amount;
            if (amount < policy.minPieceSize || amount == 0) revert SplitPieceTooSmall(amount, policy.minPieceSize);
            uint8 tier = _childTier(parent.tier, holder, parts[i].to);
            if (tier > policy.maxTier) revert SplitTierTooDeep(tier, policy.maxTier);
            sum += amount;
        }
        if (sum != parent.faceValue) revert SplitAmountMismatch(certificateId, parent.faceValue, sum);

        // Effects: retire the parent (burn goes through _update, which checks the pause), mint children.
        parent.state = CertificateState.Retired;
        _burn(certificateId);
        _leafCounts[receivableId] += parts.length - 1;

        childIds = new uint256[](parts.length);
        uint256 firstChildId = nextCertificateId;
        nextCertificateId = firstChildId + parts.length;
        for (uint256 i; i < parts.length; ++i) {
            childIds[i] = firstChildId + i;
            _issueChild(childIds[i], certificateId, parent, holder, parts[i]);
        }

        emit CertificateSplit(certificateId, childIds);
        emit MetadataUpdate(certificateId);
    }

    function _issueChild(
        uint256 childId,
        uint256 parentId,
        Certificate storage parent,
        address holder,
        SplitPart calldata part
    ) private {
        uint8 tier = _childTier(parent.tier, holder, part.to);
        _certificates[childId] = Certificate({
            receivableId: parent.receivableId,
            parentId: parentId,
            faceValue: part.amount,
            dueDate: parent.dueDate,
            tier: tier,
            state: CertificateState.Live
        });
        _mint(part.to, childId);
        emit CertificateIssued(childId, parent.receivableId, parentId, part.to, part.amount, tier);
    }

    /// A piece passed to another party sits one tier further from the debtor.
    function _childTier(uint8 parentTier, address holder, address to) private pure returns (uint8) {
        return to == holder ? parentTier : parentTier + 1;
    }

    /// Splitting stops once the debtor starts paying (shares already paid would be paid twice),
    /// at the due date, and when the receivable is closed. Returns the receivable's debtor.
    function _requireSplitOpen(bytes32 receivableId, uint256 certificateId) private view returns (address debtor) {
        IReceivableRegistry.Receivable memory receivable = registry.receivableOf(receivableId);
        if (
            receivable.status != IReceivableRegistry.ReceivableStatus.Active ||
            receivable.repaidAmount != 0 ||
            block.timestamp >= receivable.dueDate
        ) revert SplitClosed(receivableId);
        // Dilution hook (issue 16): no new pieces while the debtor disputes the receivable, and a
        // piece a credit note reduced is not split (its children's face values would no longer
        // add up to its claim); it can still move, be financed and be settled.
        address ledger = dilutionLedger;
        if (ledger != address(0)) {
            (bool disputed, uint256 reduction) = IDilutionLedger(ledger).splitStatusOf(receivableId, certificateId);
            if (disputed) revert CertificateReceivableDisputed(receivableId);
            if (reduction != 0) revert CertificateDiluted(certificateId, reduction);
        }
        return receivable.debtor;
    }

    /* ------------------------------------------------------------------ */
    /*                                 Locks                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ICertificateToken
    function lock(uint256 certificateId) external whenNotPaused {
        _requireCaller(financingMarket);
        Certificate storage certificate = _certificates[certificateId];
        if (certificate.state == CertificateState.Locked) revert CertificateLocked(certificateId);
        if (certificate.state != CertificateState.Live) revert CertificateWrongState(certificateId, certificate.state);

        certificate.state = CertificateState.Locked;

        emit CertificateLockPlaced(certificateId, msg.sender);
        emit MetadataUpdate(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function unlock(uint256 certificateId) external {
        _requireLocker(certificateId);

        _certificates[certificateId].state = CertificateState.Live;

        emit CertificateLockLifted(certificateId);
        emit MetadataUpdate(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function deliverLocked(uint256 certificateId, address to) external {
        _requireLocker(certificateId);

        _certificates[certificateId].state = CertificateState.Live;
        emit CertificateLockLifted(certificateId);
        emit MetadataUpdate(certificateId);

        _transfer(_ownerOf(certificateId), to, certificateId);
    }

    function _requireLocker(uint256 certificateId) private view {
        _requireCaller(financingMarket);
        CertificateState state = _certificates[certificateId].state;
        if (state != CertificateState.Locked) revert CertificateWrongState(certificateId, state);
    }

    /* ------------------------------------------------------------------ */
    /*                               Settlement                           */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ICertificateToken
    function markSettled(uint256 certificateId) external {
        _requireCaller(settlementEscrow);
        Certificate storage certificate = _certificates[certificateId];
        CertificateState state = certificate.state;
        if (state != CertificateState.Live && state != CertificateState.Locked) {
            revert CertificateWrongState(certificateId, state);
        }

        certificate.state = CertificateState.Settled;
        if (state == CertificateState.Locked) emit CertificateLockLifted(certificateId);
        _burn(certificateId);

        emit CertificateSettled(certificateId);
        emit MetadataUpdate(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function notifyPayouts(uint256 fromId, uint256 toId) external {
        if (fromId == toId) emit MetadataUpdate(fromId);
        else emit BatchMetadataUpdate(fromId, toId);
    }

    /* ------------------------------------------------------------------ */
    /*                      The one ownership-change hook                 */
    /* ------------------------------------------------------------------ */

    /// Every mint, transfer and burn passes here. Burns (split, settlement) are always
    /// allowed, so a pause never traps repayment. Everything else needs: not paused,
    /// both ends active parties, no lock unless the locker is delivering, and never to the
    /// receivable's debtor. Mints skip the debtor check: the registry refuses a seller that is
    /// the debtor (ReceivableSelfDealing) before the root, and split checks its parts.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        if (to != address(0)) {
            _requireNotPaused();
            if (!parties.isActive(to)) revert CertificatePartyNotActive(to);
            address current = _ownerOf(tokenId);
            if (current != address(0)) {
                // A locker's delivery (auth == 0: a funded sale, a foreclosure) enforces a right the
                // holder granted when it locked the certificate; it needs no consent from the sender.
                if (auth != address(0) && !parties.isActive(current)) revert CertificatePartyNotActive(current);
                // deliverLocked lifts the lock before it moves the token, so only a locker can pass.
                Certificate storage certificate = _certificates[tokenId];
                if (certificate.state == CertificateState.Locked) revert CertificateLocked(tokenId);
                if (to == registry.debtorOf(certificate.receivableId)) revert CertificateRecipientIsDebtor(tokenId, to);
            }
        }
        return super._update(to, tokenId, auth);
    }

    /* ------------------------------------------------------------------ */
    /*                             Administration                         */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ICertificateToken
    function setTierPolicy(
        uint8 maxTier,
        uint256 minPieceSize,
        uint16 maxSplitParts
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (maxTier == 0 || maxSplitParts == 0 || minPieceSize == 0) {
            revert TierPolicyInvalid(maxTier, minPieceSize, maxSplitParts);
        }
        _policy = TierPolicy({maxTier: maxTier, maxSplitParts: maxSplitParts, minPieceSize: minPieceSize});
        emit TierPolicySet(maxTier, minPieceSize, maxSplitParts);
    }

    /// @inheritdoc ICertificateToken
    function wire(address financingMarket_, address settlementEscrow_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (financingMarket != address(0) || financingMarket_ == address(0) || settlementEscrow_ == address(0)) {
            revert CertificateWiringInvalid();
        }
        financingMarket = financingMarket_;
        settlementEscrow = settlementEscrow_;
        emit CertificateContractsWired(financingMarket_, settlementEscrow_);
    }

    /// @inheritdoc ICertificateToken
    function wireDilution(address ledger) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (dilutionLedger != address(0) || ledger == address(0)) revert CertificateWiringInvalid();
        dilutionLedger = ledger;
        emit CertificateDilutionWired(ledger);
    }

    /// @inheritdoc ICertificateToken
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ICertificateToken
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /* ------------------------------------------------------------------ */
    /*                                 Views                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ICertificateToken
    function tierPolicy() external view returns (uint8 maxTier, uint256 minPieceSize, uint16 maxSplitParts) {
        TierPolicy memory policy = _policy;
        return (policy.maxTier, policy.minPieceSize, policy.maxSplitParts);
    }

    /// @inheritdoc ICertificateToken
    function certificateOf(uint256 certificateId) external view returns (Certificate memory certificate) {
        certificate = _certificates[certificateId];
        if (certificate.state == CertificateState.None) revert CertificateNotFound(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function lockerOf(uint256 certificateId) external view returns (address) {
        return _certificates[certificateId].state == CertificateState.Locked ? financingMarket : address(0);
    }

    /// @inheritdoc ICertificateToken
    function leafCountOf(bytes32 receivableId) external view returns (uint256) {
        return _leafCounts[receivableId];
    }

    /// @inheritdoc ICertificateToken
    function tokenURI(uint256 certificateId) public view override(ERC721, ICertificateToken) returns (string memory) {
        Certificate memory certificate = _certificates[certificateId];
        if (certificate.state == CertificateState.None) revert CertificateNotFound(certificateId);
        address escrow = settlementEscrow;
        // Before the escrow is wired nothing can have been paid out.
        uint256 paidOut = escrow == address(0) ? 0 : ISettlementEscrow(escrow).paidOutOf(certificateId);
        return CertificateMetadata.tokenURI(certificateId, certificate, paidOut, registry.settlementToken());
    }

    /// @notice ERC-721, ERC-721 metadata, ERC-4906 (metadata update events), AccessControl, ERC-165.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl, IERC165) returns (bool) {
        return interfaceId == ERC4906_INTERFACE_ID || super.supportsInterface(interfaceId);
    }
}
