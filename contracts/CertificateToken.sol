// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
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
    address public settlementEscrow;

    /// One slot read by every lock, delivery, issue and split: the wired market, the pause flag,
    /// the id counter and the tier policy's limits (OpenZeppelin's own `_paused` stays unused).
    struct Config {
        address financingMarket;
        bool paused;
        uint48 nextCertificateId;
        uint8 maxTier;
        uint16 maxSplitParts;
    }

    /// One slot per child: its receivable is its root's, found through `rootId`.
    struct Child {
        uint128 faceValue;
        uint48 parentId;
        uint48 rootId;
        uint8 tier;
        CertificateState state;
    }

    Config private _config = Config({
        financingMarket: address(0),
        paused: false,
        nextCertificateId: 1,
        maxTier: 10,
        maxSplitParts: 32
    });
    uint256 private _minPieceSize = 1;

    // A root's record (face value, due date, state; always tier 1 with no parent) and its tree's
    // leaf count are the registry's (IReceivableRegistry.CertificateTree): they sit in the
    // receivable's record beside the seller, a slot registration writes anyway (issue 12).
    mapping(uint256 rootId => bytes32 receivableId) private _rootReceivables;
    mapping(uint256 certificateId => Child) private _children;

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
        uint64 /* dueDate: the registry keeps it */
    ) external returns (uint256 certificateId) {
        _requireCaller(address(registry));
        // One root per receivable, ever: the registry prepares the tree (one live leaf) before this
        // call and records the root's id after it, never to clear it. A caller speaking as the
        // registry outside a registration meets one or the other.
        IReceivableRegistry.CertificateTree memory tree = _treeOf(receivableId);
        if (tree.rootCertificateId != 0) revert CertificateRootExists(receivableId);
        if (tree.rootState != CertificateState.Live || tree.leafCount != 1) {
            revert CertificateReceivableNotRegistered(receivableId);
        }
        if (faceValue > type(uint128).max) revert CertificateFaceValueTooLarge(faceValue, type(uint128).max);
        certificateId = _config.nextCertificateId++;
        // The registry refused a seller that may not hold in this same call (ReceivableSellerMayNotHold).
        _requireNotPaused();
        _rootReceivables[certificateId] = receivableId;
        // No ERC-721 owner slot: the seller's holding is its receivable's record (see _ownerOf).
        _increaseBalance(seller, 1);
        emit Transfer(address(0), seller, certificateId);

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
        (Certificate memory parent, address holder, uint256 firstChildId) = _checkSplit(certificateId, parts);

        // Effects: retire the parent (burn goes through _update, which checks the pause), mint children.
        // A root's state and the leaf count share the registry's slot: one call, one write.
        bool isRoot = parent.parentId == 0;
        uint48 rootId = isRoot ? uint48(certificateId) : _children[certificateId].rootId;
        // The burn first: an unmoved root's holder is read through its state (see _ownerOf).
        _burn(certificateId);
        if (!isRoot) _children[certificateId].state = CertificateState.Retired;
        // The registry checks the leaf count's sum (32 bits).
        registry.recordSplit(parent.receivableId, parts.length - 1, isRoot);

        childIds = new uint256[](parts.length);
        _config.nextCertificateId = SafeCast.toUint48(firstChildId + parts.length);
        for (uint256 i; i < parts.length; ++i) {
            childIds[i] = firstChildId + i;
            _issueChild(childIds[i], certificateId, rootId, parent, holder, parts[i]);
        }

        emit CertificateSplit(certificateId, childIds);
        emit MetadataUpdate(certificateId);
    }

    /// The checks of a split. Returns the parent's record, its holder and the first child's id.
    function _checkSplit(
        uint256 certificateId,
        SplitPart[] calldata parts
    ) private view returns (Certificate memory parent, address holder, uint256 firstChildId) {
        parent = _load(certificateId);
        holder = _ownerOf(certificateId);
        if (holder == address(0)) revert CertificateWrongState(certificateId, parent.state);
        if (holder != msg.sender) revert CertificateNotHolder(certificateId, msg.sender);
        // The parent's burn skips the party check in _update, so the sender is checked here.
        if (!parties.isActive(holder)) revert CertificatePartyNotActive(holder);
        if (parent.state == CertificateState.Locked) revert CertificateLocked(certificateId);
        Config memory config = _config;
        uint256 minPieceSize = _minPieceSize;
        if (parts.length == 0 || parts.length > config.maxSplitParts) {
            revert SplitPartCount(parts.length, config.maxSplitParts);
        }
        if (parts.length == 1 && parts[0].to == holder) revert SplitChangesNothing(certificateId);
        address debtor = _requireSplitOpen(parent.receivableId, certificateId);
        uint256 sum;
        for (uint256 i; i < parts.length; ++i) {
            // The children's mints skip the debtor check in _update (see there): checked here,
            // against the receivable already read.
            if (parts[i].to == debtor) revert CertificateRecipientIsDebtor(certificateId, debtor);
            uint256 amount = parts[i].amount;
            if (amount < minPieceSize || amount == 0) revert SplitPieceTooSmall(amount, minPieceSize);
            uint8 tier = _childTier(parent.tier, holder, parts[i].to);
            if (tier > config.maxTier) revert SplitTierTooDeep(tier, config.maxTier);
            sum += amount;
        }
        if (sum != parent.faceValue) revert SplitAmountMismatch(certificateId, parent.faceValue, sum);
        firstChildId = config.nextCertificateId;
    }

    function _issueChild(
        uint256 childId,
        uint256 parentId,
        uint48 rootId,
        Certificate memory parent,
        address holder,
        SplitPart calldata part
    ) private {
        uint8 tier = _childTier(parent.tier, holder, part.to);
        // Ids are below nextCertificateId (uint48) and the parts sum to the parent's uint128 face.
        _children[childId] = Child({
            faceValue: uint128(part.amount),
            parentId: uint48(parentId),
            rootId: rootId,
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
        bool dilutionNoted;
        (debtor, dilutionNoted) = registry.splitTermsOf(receivableId);
        if (debtor == address(0)) revert SplitClosed(receivableId);
        // Dilution hook (issue 16): no new pieces while the debtor disputes the receivable, and a
        // piece a credit note reduced is not split (its children's face values would no longer
        // add up to its claim); it can still move, be financed and be settled.
        // The ledger holds nothing on a receivable the registry has not noted (issue 12: a call saved).
        address ledger = dilutionLedger;
        if (ledger != address(0) && dilutionNoted) {
            (bool disputed, uint256 reduction) = IDilutionLedger(ledger).splitStatusOf(receivableId, certificateId);
            if (disputed) revert CertificateReceivableDisputed(receivableId);
            if (reduction != 0) revert CertificateDiluted(certificateId, reduction);
        }
    }

    /* ------------------------------------------------------------------ */
    /*                                 Locks                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ICertificateToken
    function lock(uint256 certificateId) external whenNotPaused {
        _requireCaller(_config.financingMarket);
        CertificateState state = _stateOf(certificateId);
        if (state == CertificateState.Locked) revert CertificateLocked(certificateId);
        if (state != CertificateState.Live) revert CertificateWrongState(certificateId, state);

        _setState(certificateId, CertificateState.Locked);

        emit CertificateLockPlaced(certificateId, msg.sender);
        emit MetadataUpdate(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function unlock(uint256 certificateId) external {
        _requireLocker(certificateId);

        _setState(certificateId, CertificateState.Live);

        emit CertificateLockLifted(certificateId);
        emit MetadataUpdate(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function deliverLocked(uint256 certificateId, address to) external {
        _requireLocker(certificateId);

        _setState(certificateId, CertificateState.Live);
        emit CertificateLockLifted(certificateId);
        emit MetadataUpdate(certificateId);

        _transfer(_ownerOf(certificateId), to, certificateId);
    }

    function _requireLocker(uint256 certificateId) private view {
        _requireCaller(_config.financingMarket);
        CertificateState state = _stateOf(certificateId);
        if (state != CertificateState.Locked) revert CertificateWrongState(certificateId, state);
    }

    /* ------------------------------------------------------------------ */
    /*                               Settlement                           */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ICertificateToken
    function markSettled(uint256 certificateId) external {
        _requireCaller(settlementEscrow);
        CertificateState state = _stateOf(certificateId);
        if (state != CertificateState.Live && state != CertificateState.Locked) {
            revert CertificateWrongState(certificateId, state);
        }

        if (state == CertificateState.Locked) emit CertificateLockLifted(certificateId);
        // The burn before the state: an unmoved root's holder is read through it (see _ownerOf).
        _burn(certificateId);
        _setState(certificateId, CertificateState.Settled);

        emit CertificateSettled(certificateId);
        emit MetadataUpdate(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function notifyPayouts(uint256 fromId, uint256 toId) external {
        if (fromId == toId) emit MetadataUpdate(fromId);
        else emit BatchMetadataUpdate(fromId, toId);
    }

    /* ------------------------------------------------------------------ */
    /*                         Where a record lives                       */
    /* ------------------------------------------------------------------ */

    /// A child's state is in its own slot; a root's in its receivable's record, at the registry.
    function _stateOf(uint256 certificateId) private view returns (CertificateState state) {
        state = _children[certificateId].state;
        if (state == CertificateState.None) state = _rootStateOf(_rootReceivables[certificateId]);
    }

    function _setState(uint256 certificateId, CertificateState state) private {
        Child storage child = _children[certificateId];
        if (child.state != CertificateState.None) child.state = state;
        else registry.recordRootState(_rootReceivables[certificateId], state);
    }

    /// One call site for the registry's tree (its decoding is sizeable; the token is near the size limit).
    function _treeOf(bytes32 receivableId) private view returns (IReceivableRegistry.CertificateTree memory) {
        return registry.treeOf(receivableId);
    }

    /// None for an id that is not a root (no receivable), without asking the registry.
    function _rootStateOf(bytes32 receivableId) private view returns (CertificateState) {
        if (receivableId == bytes32(0)) return CertificateState.None;
        return registry.rootStateOf(receivableId);
    }

    /// The receivable and state of `certificateId`, without the rest of the record.
    function _receivableAndStateOf(
        uint256 certificateId
    ) private view returns (bytes32 receivableId, CertificateState state) {
        Child storage child = _children[certificateId];
        state = child.state;
        if (state != CertificateState.None) return (_rootReceivables[child.rootId], state);
        receivableId = _rootReceivables[certificateId];
        state = _rootStateOf(receivableId);
    }

    /// The whole record, as the views return it (state None for an id never issued).
    function _load(uint256 certificateId) private view returns (Certificate memory certificate) {
        Child memory child = _children[certificateId];
        if (child.state != CertificateState.None) {
            bytes32 receivableId = _rootReceivables[child.rootId];
            return
                Certificate({
                    receivableId: receivableId,
                    parentId: child.parentId,
                    faceValue: child.faceValue,
                    dueDate: registry.dueDateOf(receivableId),
                    tier: child.tier,
                    state: child.state
                });
        }
        bytes32 rootReceivable = _rootReceivables[certificateId];
        if (rootReceivable == bytes32(0)) return certificate;
        IReceivableRegistry.CertificateTree memory tree = _treeOf(rootReceivable);
        return
            Certificate({
                receivableId: rootReceivable,
                parentId: 0,
                faceValue: tree.faceValue,
                dueDate: tree.dueDate,
                tier: 1,
                state: tree.rootState
            });
    }

    /* ------------------------------------------------------------------ */
    /*                      The one ownership-change hook                 */
    /* ------------------------------------------------------------------ */

    /// Every mint, transfer and burn passes here. Burns (split, settlement) are always
    /// allowed, so a pause never traps repayment. Everything else needs: not paused,
    /// both ends active parties, a recipient that may hold (never an auditor), no lock unless
    /// the locker is delivering, and never to the receivable's debtor. Mints skip the debtor
    /// check: the registry refuses a seller that is the debtor (ReceivableSelfDealing) before
    /// the root, and split checks its parts.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        if (to != address(0)) {
            _requireMayReceive(to, tokenId);
            address current = _ownerOf(tokenId);
            if (current != address(0)) {
                // A locker's delivery (auth == 0: a funded sale, a foreclosure) enforces a right the
                // holder granted when it locked the certificate; it needs no consent from the sender.
                if (auth != address(0) && !parties.isActive(current)) revert CertificatePartyNotActive(current);
                // deliverLocked lifts the lock before it moves the token, so only a locker can pass.
                (bytes32 receivableId, CertificateState state) = _receivableAndStateOf(tokenId);
                if (state == CertificateState.Locked) revert CertificateLocked(tokenId);
                if (to == registry.debtorOf(receivableId)) revert CertificateRecipientIsDebtor(tokenId, to);
            }
        }
        return super._update(to, tokenId, auth);
    }

    /// Not paused, and a recipient that may hold: every mint and transfer, and a root's issue.
    function _requireMayReceive(address to, uint256 tokenId) private view {
        _requireNotPaused();
        // One registry call per recipient; the second only on the way to a revert, to say why.
        if (!parties.mayHold(to)) {
            if (!parties.isActive(to)) revert CertificatePartyNotActive(to);
            revert CertificateRecipientMayNotHold(tokenId, to);
        }
    }

    /// A root is issued without an ERC-721 owner slot (issue 12: registration writes the seller
    /// once, in the receivable's record): while the slot is empty and the root is live or locked,
    /// its seller holds it. Its first transfer writes the slot; a burn (split, settlement) runs
    /// before the root's state leaves live or locked, and after it the registry answers zero.
    function _ownerOf(uint256 tokenId) internal view override returns (address owner) {
        owner = super._ownerOf(tokenId);
        // A child always has its owner slot (and a child's mint has just written its record).
        if (owner != address(0) || _children[tokenId].state != CertificateState.None) return owner;
        bytes32 receivableId = _rootReceivables[tokenId];
        if (receivableId != bytes32(0)) owner = registry.liveRootSellerOf(receivableId);
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
        // A piece above the largest face value could never be cut: refused like a zero.
        if (maxTier == 0 || maxSplitParts == 0 || minPieceSize == 0) {
            revert TierPolicyInvalid(maxTier, minPieceSize, maxSplitParts);
        }
        Config storage config = _config;
        config.maxTier = maxTier;
        config.maxSplitParts = maxSplitParts;
        _minPieceSize = minPieceSize;
        emit TierPolicySet(maxTier, minPieceSize, maxSplitParts);
    }

    /// @inheritdoc ICertificateToken
    function wire(address financingMarket_, address settlementEscrow_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (
            _config.financingMarket != address(0) || financingMarket_ == address(0) || settlementEscrow_ == address(0)
        ) {
            revert CertificateWiringInvalid();
        }
        _config.financingMarket = financingMarket_;
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

    /// @notice Whether transfers, splits and locks are paused.
    function paused() public view override returns (bool) {
        return _config.paused;
    }

    function _pause() internal override whenNotPaused {
        _config.paused = true;
        emit Paused(_msgSender());
    }

    function _unpause() internal override whenPaused {
        _config.paused = false;
        emit Unpaused(_msgSender());
    }

    /* ------------------------------------------------------------------ */
    /*                                 Views                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ICertificateToken
    function tierPolicy() external view returns (uint8 maxTier, uint256 minPieceSize, uint16 maxSplitParts) {
        Config memory config = _config;
        return (config.maxTier, _minPieceSize, config.maxSplitParts);
    }

    /// @inheritdoc ICertificateToken
    function financingMarket() external view returns (address) {
        return _config.financingMarket;
    }

    /// @inheritdoc ICertificateToken
    function nextCertificateId() external view returns (uint256) {
        return _config.nextCertificateId;
    }

    /// @inheritdoc ICertificateToken
    function certificateOf(uint256 certificateId) external view returns (Certificate memory certificate) {
        certificate = _load(certificateId);
        if (certificate.state == CertificateState.None) revert CertificateNotFound(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function claimOf(
        uint256 certificateId
    ) external view returns (bytes32 receivableId, uint256 faceValue, CertificateState state, address holder) {
        Child memory child = _children[certificateId];
        if (child.state != CertificateState.None) {
            (receivableId, faceValue, state) = (_rootReceivables[child.rootId], child.faceValue, child.state);
        } else {
            receivableId = _rootReceivables[certificateId];
            if (receivableId == bytes32(0)) revert CertificateNotFound(certificateId);
            IReceivableRegistry.CertificateTree memory tree = _treeOf(receivableId);
            (faceValue, state) = (tree.faceValue, tree.rootState);
        }
        holder = _ownerOf(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function receivableIdOf(uint256 certificateId) external view returns (bytes32 receivableId) {
        uint48 rootId = _children[certificateId].rootId;
        receivableId = _rootReceivables[rootId == 0 ? certificateId : rootId];
        if (receivableId == bytes32(0)) revert CertificateNotFound(certificateId);
    }

    /// @inheritdoc ICertificateToken
    function lockerOf(uint256 certificateId) external view returns (address) {
        return _stateOf(certificateId) == CertificateState.Locked ? _config.financingMarket : address(0);
    }

    /// @inheritdoc ICertificateToken
    function leafCountOf(bytes32 receivableId) external view returns (uint256) {
        return _treeOf(receivableId).leafCount;
    }

    /// @inheritdoc ICertificateToken
    function tokenURI(uint256 certificateId) public view override(ERC721, ICertificateToken) returns (string memory) {
        Certificate memory certificate = _load(certificateId);
        if (certificate.state == CertificateState.None) revert CertificateNotFound(certificateId);
        address escrow = settlementEscrow;
        // Before the escrow is wired nothing can have been paid out.
        uint256 paidOut = escrow == address(0) ? 0 : ISettlementEscrow(escrow).paidOutOf(certificateId);
        // Dilution (issue 16): a wallet shows what the piece is worth now, face less credit notes.
        address ledger = dilutionLedger;
        uint256 reduction = ledger == address(0) ? 0 : IDilutionLedger(ledger).reductionOf(certificateId);
        return CertificateMetadata.tokenURI(certificateId, certificate, reduction, paidOut, registry.settlementToken());
    }

    /// @notice ERC-721, ERC-721 metadata, ERC-4906 (metadata update events), AccessControl, ERC-165.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl, IERC165) returns (bool) {
        return interfaceId == ERC4906_INTERFACE_ID || super.supportsInterface(interfaceId);
    }
}
