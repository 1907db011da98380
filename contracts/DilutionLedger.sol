// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDilutionLedger} from "./interfaces/IDilutionLedger.sol";
import {IReceivableRegistry} from "./interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "./interfaces/ICertificateToken.sol";
import {IFinancingMarket} from "./interfaces/IFinancingMarket.sol";
import {IPartyRegistry} from "./interfaces/IPartyRegistry.sol";

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
    /// The registry's own party registry: the seller's company (legal id) decides which leaves
    /// are its retained pieces.
    IPartyRegistry public immutable parties;

    /// @inheritdoc IDilutionLedger
    uint64 public sellerResponsePeriod = 7 days;
    /// @inheritdoc IDilutionLedger
    uint256 public creditNoteCount;

    mapping(uint256 creditNoteId => CreditNote) private _creditNotes;
    /// Per receivable, `number << 1 | open`: the number of the latest dispute (1, 2, 3, … in the order
    /// opened) and whether it is open, in the one slot the open flag alone took, so a dismissal
    /// scheduled for one dispute cannot close a later one (see {dismissDispute}).
    mapping(bytes32 receivableId => uint256 numberAndOpen) private _disputes;
    mapping(bytes32 receivableId => uint256 creditNoteId) private _pending;
    mapping(uint256 certificateId => uint256) private _reductions;
    mapping(uint256 certificateId => mapping(address bearer => uint256)) private _losses;

    /// Where the batched application of an Applying credit note is (trees above
    /// MAX_DILUTION_LEAVES). Amounts fit 128 bits: a receivable's face value fits 96.
    struct Application {
        ApplicationPhase phase;
        CreditNoteApproval approvedBy;
        uint32 round; // tally restarts (a chunk's hash includes it)
        uint32 processed; // leaves done in this pass
        uint32 leafCount;
        uint128 rest; // cut pass: what the other leaves share
        uint256 cursor; // last leaf id taken in this pass (0 at its start)
        uint128 retainedUnlocked; // tally: their claims; cut: what they still absorb
        uint128 retainedLocked; // tally: their claims; cut: what they still absorb
        uint128 pool; // the other leaves' claims
        uint128 poolSeen; // cut: the other leaves' claims walked so far (S_previous)
    }

    mapping(uint256 creditNoteId => Application) private _applications;
    /// Each tallied leaf's class by position, 2 bits a leaf (bit 0 retained by the seller's
    /// company, bit 1 pledged), 128 leaves a slot: the cut pass reads it, so a transfer, or an
    /// alias registered, between the passes changes nothing.
    mapping(uint256 creditNoteId => mapping(uint256 slot => uint256 classes)) private _classes;
    /// The hash of (round, cursor before, ids) of each tally chunk by its start position: the cut
    /// pass must take exactly the same chunks, so it walks exactly the tallied (complete) list.
    mapping(uint256 creditNoteId => mapping(uint256 position => bytes32)) private _chunks;

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
        parties = registry_.parties();
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
        uint256 dispute = _disputes[receivableId];
        if (dispute & 1 != 0) revert DisputeAlreadyOpen(receivableId);

        uint256 number = _openNext(receivableId, dispute);
        emit DisputeOpened(receivableId, msg.sender, number, reasonCode, documentHash);
    }

    /// @inheritdoc IDilutionLedger
    function withdrawDispute(bytes32 receivableId) external {
        _asDebtor(receivableId);
        _requireDisputeWithoutNote(receivableId);

        _closeDispute(receivableId);
        emit DisputeWithdrawn(receivableId);
    }

    /// @inheritdoc IDilutionLedger
    function dismissDispute(bytes32 receivableId, uint256 disputeNumber) external onlyRole(ARBITER_ROLE) {
        uint256 current = _requireDisputeWithoutNote(receivableId);
        // A dismissal is reviewed and scheduled for one dispute: if the debtor withdrew it and
        // opened another meanwhile, the old schedule must not close the new one.
        if (current != disputeNumber) revert DisputeNotTheOneNamed(receivableId, disputeNumber, current);

        _closeDispute(receivableId);
        emit DisputeDismissed(receivableId, msg.sender, current);
    }

    /// The open dispute's number; refuses when none is open or a credit note is pending on it.
    function _requireDisputeWithoutNote(bytes32 receivableId) private view returns (uint256 number) {
        uint256 dispute = _disputes[receivableId];
        if (dispute & 1 == 0) revert DisputeNotOpen(receivableId);
        uint256 pending = _pending[receivableId];
        if (pending != 0) revert DisputeHasPendingCreditNote(receivableId, pending);
        return dispute >> 1;
    }

    /// Opens the next dispute of `receivableId` (`dispute` is its closed slot) and returns its number.
    function _openNext(bytes32 receivableId, uint256 dispute) private returns (uint256 number) {
        number = (dispute >> 1) + 1;
        _disputes[receivableId] = (number << 1) | 1;
        // The token and the market ask this ledger only about receivables noted at the registry.
        if (number == 1) registry.noteDilution(receivableId);
    }

    /// Closes the open dispute of `receivableId`, keeping its number.
    function _closeDispute(bytes32 receivableId) private {
        _disputes[receivableId] &= ~uint256(1);
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
        uint256 dispute = _disputes[receivableId];
        if (dispute & 1 == 0) {
            // The tree is frozen while the note is pending, so the leaf list it is applied over
            // (and a decision scheduled in the timelock) stays valid.
            uint256 number = _openNext(receivableId, dispute);
            emit DisputeOpened(receivableId, msg.sender, number, reasonCode, documentHash);
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
        uint256 count = certificates.leafCountOf(receivableId);
        if (count > MAX_DILUTION_LEAVES) {
            if (leafIds.length != 0) revert DilutionLeafCount(receivableId, leafIds.length, count, MAX_DILUTION_LEAVES);
            _beginApplying(creditNoteId, note, approvedBy, count);
            return;
        }
        Leaf[] memory leaves = _loadLeaves(receivableId, _sellerCompanyOf(receivable.seller), leafIds, count);

        // The rule (see IDilutionLedger): retained pieces first, unlocked then pledged, then the
        // others by cumulative rounding. One tally, then one cut per leaf in ascending id order.
        Flow memory flow;
        for (uint256 i; i < leaves.length; ++i) {
            Leaf memory leaf = leaves[i];
            if (!leaf.retained) flow.pool += leaf.claim;
            else if (leaf.locked) flow.lockedLeft += leaf.claim;
            else flow.unlockedLeft += leaf.claim;
        }
        _startCuts(flow, amount);
        for (uint256 i; i < leaves.length; ++i) {
            leaves[i].cut = _cutDown(flow, leaves[i].claim, leaves[i].retained, leaves[i].locked);
        }

        // Effects.
        note.status = CreditNoteStatus.Applied;
        delete _pending[receivableId];
        _closeDispute(receivableId);
        _recordCuts(creditNoteId, receivableId, leaves);
        emit DisputeResolved(receivableId, creditNoteId);
        emit CreditNoteApplied(
            creditNoteId,
            receivableId,
            approvedBy,
            amount,
            amount - flow.rest,
            flow.rest,
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
            _cutLeaf(creditNoteId, receivableId, leaf);
        }
    }

    /// Writes one leaf's cut: its reduction, the loss of the holder that bore it, the event, and a
    /// pledge shortfall if its pledgee is now owed more than the claim.
    function _cutLeaf(uint256 creditNoteId, bytes32 receivableId, Leaf memory leaf) private {
        _reductions[leaf.id] += leaf.cut;
        _losses[leaf.id][leaf.holder] += leaf.cut;
        uint256 claim = leaf.claim - leaf.cut;
        emit LeafDiluted(leaf.id, receivableId, leaf.holder, creditNoteId, leaf.cut, claim, leaf.retained);
        if (leaf.locked) _reportCollateral(leaf.id, claim);
    }

    /// Reads the complete ascending leaf list and refuses anything else: its length must be the
    /// token's leaf count, so strictly ascending ids that all belong here are exactly the leaves.
    function _loadLeaves(
        bytes32 receivableId,
        SellerCompany memory seller,
        uint256[] calldata leafIds,
        uint256 count
    ) private view returns (Leaf[] memory leaves) {
        if (leafIds.length != count) revert DilutionLeafCount(receivableId, leafIds.length, count, MAX_DILUTION_LEAVES);
        leaves = new Leaf[](count);
        uint256 previous;
        for (uint256 i; i < count; ++i) {
            uint256 id = leafIds[i];
            if (id <= previous) revert DilutionLeavesNotSorted(id);
            previous = id;
            Leaf memory leaf = _leafOf(receivableId, id);
            leaf.retained = _isRetained(seller, leaf.holder);
            leaves[i] = leaf;
        }
    }

    /// Leaf `id` of `receivableId` as it is now (live or pledged, else refused): its holder, its
    /// claim (face value less every reduction so far), and whether it is pledged.
    function _leafOf(bytes32 receivableId, uint256 id) private view returns (Leaf memory leaf) {
        (
            bytes32 leafReceivableId,
            uint256 faceValue,
            ICertificateToken.CertificateState state,
            address holder
        ) = certificates.claimOf(id);
        bool locked = state == ICertificateToken.CertificateState.Locked;
        if (leafReceivableId != receivableId || (!locked && state != ICertificateToken.CertificateState.Live)) {
            revert DilutionNotALeaf(id, receivableId);
        }
        leaf.id = id;
        leaf.holder = holder;
        leaf.claim = faceValue - _reductions[id];
        leaf.locked = locked;
    }

    /// The seller's company as one transaction classifies leaves: its address, its legal id, and
    /// whether the company has any other address. Read once per transaction (per chunk of a wide
    /// tree's tally); the tally stores each leaf's class, so the cut never classifies again.
    struct SellerCompany {
        address account;
        bytes32 legalId;
        bool aliased;
    }

    function _sellerCompanyOf(address seller) private view returns (SellerCompany memory company) {
        company.account = seller;
        company.legalId = parties.legalIdOf(seller);
        company.aliased = parties.addressCountOf(company.legalId) > 1;
    }

    /// Whether a leaf held by `holder` is the seller's retained piece: held by any address of the
    /// seller's company, so a piece kept at (or moved to) an alias still absorbs first. A company
    /// with one address needs no call per leaf: that address is the seller's. Every holder is a
    /// registered party (the token delivers only to parties that may hold), so legalIdOf answers.
    function _isRetained(SellerCompany memory seller, address holder) private view returns (bool) {
        if (holder == seller.account) return true;
        return seller.aliased && parties.legalIdOf(holder) == seller.legalId;
    }

    /* ------------------------------------------------------------------ */
    /*                              The rule                              */
    /* ------------------------------------------------------------------ */

    /// The cut rule's running state: what the retained unlocked and pledged leaves still absorb,
    /// what the other leaves share (`rest`), their claims in all (`pool`) and walked so far
    /// (`poolSeen`), and floor(rest x poolSeen / pool) (`given`).
    struct Flow {
        uint256 unlockedLeft;
        uint256 lockedLeft;
        uint256 rest;
        uint256 pool;
        uint256 poolSeen;
        uint256 given;
    }

    /// Turns the tally (retained unlocked claims in `unlockedLeft`, retained pledged in
    /// `lockedLeft`, the others' in `pool`) into what each group takes of `amount`: the unlocked
    /// retained leaves absorb up to their claims, then the pledged ones, the rest is shared.
    /// `amount` never exceeds the sum of all claims (the registry's outstanding check and
    /// conservation), so rest > 0 only when both retained groups are used up, and rest <= pool.
    function _startCuts(Flow memory flow, uint256 amount) private pure {
        flow.unlockedLeft = Math.min(amount, flow.unlockedLeft);
        flow.lockedLeft = Math.min(amount - flow.unlockedLeft, flow.lockedLeft);
        flow.rest = amount - flow.unlockedLeft - flow.lockedLeft;
    }

    /// The cut of the next leaf in ascending id order. A retained leaf absorbs what its group
    /// still takes, down to zero. Another leaf's cut is floor(rest x S / pool) - floor(rest x
    /// S_previous / pool) (`...Down`), S the running sum of the others' claims including it: the
    /// cuts telescope to floor(rest x pool / pool) = rest exactly, and none exceeds its claim:
    /// with x = rest x S_previous / pool and b = rest x claim / pool <= claim (rest <= pool),
    /// floor(x + b) - floor(x) <= ceil(b) <= claim (claim is an integer).
    function _cutDown(Flow memory flow, uint256 claim, bool retained, bool locked) private pure returns (uint256 cut) {
        if (retained) {
            if (locked) {
                cut = Math.min(claim, flow.lockedLeft);
                flow.lockedLeft -= cut;
            } else {
                cut = Math.min(claim, flow.unlockedLeft);
                flow.unlockedLeft -= cut;
            }
            return cut;
        }
        if (flow.rest == 0) return 0;
        flow.poolSeen += claim;
        uint256 total = Math.mulDiv(flow.rest, flow.poolSeen, flow.pool);
        cut = total - flow.given;
        flow.given = total;
    }

    /* ------------------------------------------------------------------ */
    /*                  Trees above MAX_DILUTION_LEAVES: passes           */
    /* ------------------------------------------------------------------ */

    /// Approval of a note over a wide tree: the credit is recorded now (the debtor owes the
    /// reduced amount at once), the dispute stays open (no split, no new financing) and the cuts
    /// follow through {continueCreditNote}.
    function _beginApplying(
        uint256 creditNoteId,
        CreditNote storage note,
        CreditNoteApproval approvedBy,
        uint256 leafCount
    ) private {
        bytes32 receivableId = note.receivableId;
        note.status = CreditNoteStatus.Applying;
        Application storage application = _applications[creditNoteId];
        application.phase = ApplicationPhase.Tallying;
        application.approvedBy = approvedBy;
        application.leafCount = SafeCast.toUint32(leafCount);
        emit CreditNoteApplying(creditNoteId, receivableId, approvedBy, leafCount);

        registry.recordCredit(receivableId, note.amount);
    }

    /// @inheritdoc IDilutionLedger
    function continueCreditNote(uint256 creditNoteId, uint256[] calldata leafIds) external {
        // Checks common to both passes: an Applying note, a chunk of 1..room ids.
        CreditNote storage note = _creditNotes[creditNoteId];
        if (note.status != CreditNoteStatus.Applying) revert CreditNoteNotApplying(creditNoteId, note.status);
        Application storage application = _applications[creditNoteId];
        uint256 processed = application.processed;
        uint256 room = Math.min(MAX_DILUTION_LEAVES, application.leafCount - processed);
        if (leafIds.length == 0 || leafIds.length > room) revert DilutionChunkSize(leafIds.length, room);
        bytes32 chunkHash = _chunkHash(application.round, application.cursor, leafIds);

        if (application.phase == ApplicationPhase.Tallying) {
            _chunks[creditNoteId][processed] = chunkHash;
            _tally(creditNoteId, note, application, leafIds);
        } else {
            if (_chunks[creditNoteId][processed] != chunkHash) revert DilutionChunkMismatch(creditNoteId, processed);
            delete _chunks[creditNoteId][processed];
            _cut(creditNoteId, note, application, leafIds);
        }
    }

    /// The tally pass over one chunk: checks each id (ascending after the cursor, a live or
    /// pledged leaf of the receivable), stores its class by position and sums its claim.
    function _tally(
        uint256 creditNoteId,
        CreditNote storage note,
        Application storage application,
        uint256[] calldata leafIds
    ) private {
        bytes32 receivableId = note.receivableId;
        SellerCompany memory seller = _sellerCompanyOf(registry.receivableOf(receivableId).seller);
        uint256 position = application.processed;
        uint256 previous = application.cursor;
        Flow memory sums = Flow(application.retainedUnlocked, application.retainedLocked, 0, application.pool, 0, 0);
        uint256 classes;
        uint256 mask;
        for (uint256 i; i < leafIds.length; ++i) {
            uint256 id = leafIds[i];
            if (id <= previous) revert DilutionLeavesNotSorted(id);
            previous = id;
            uint256 shift = (position % 128) * 2;
            classes |= _tallyLeaf(receivableId, seller, id, sums) << shift;
            mask |= 3 << shift;
            ++position;
            if (position % 128 == 0 || i == leafIds.length - 1) {
                _storeClasses(creditNoteId, (position - 1) / 128, mask, classes);
                (classes, mask) = (0, 0);
            }
        }

        // Effects (the per-leaf checks above read only).
        application.retainedUnlocked = uint128(sums.unlockedLeft);
        application.retainedLocked = uint128(sums.lockedLeft);
        application.pool = uint128(sums.pool);
        application.cursor = previous;
        application.processed = uint32(position);
        emit CreditNoteChunkProcessed(creditNoteId, ApplicationPhase.Tallying, application.round, position, previous);
        if (position == application.leafCount) {
            // Strictly ascending distinct leaves, as many as the tree has: every leaf was seen.
            emit CreditNoteTallied(creditNoteId, sums.unlockedLeft, sums.lockedLeft, sums.pool);
            _startCuts(sums, note.amount);
            application.phase = ApplicationPhase.Cutting;
            application.retainedUnlocked = uint128(sums.unlockedLeft);
            application.retainedLocked = uint128(sums.lockedLeft);
            application.rest = uint128(sums.rest);
            application.processed = 0;
            application.cursor = 0;
        }
    }

    /// One leaf of the tally: checked, its claim added to its group, its class returned
    /// (bit 0 retained by the seller's company, bit 1 pledged).
    function _tallyLeaf(
        bytes32 receivableId,
        SellerCompany memory seller,
        uint256 id,
        Flow memory sums
    ) private view returns (uint256 class) {
        Leaf memory leaf = _leafOf(receivableId, id);
        bool retained = _isRetained(seller, leaf.holder);
        if (!retained) sums.pool += leaf.claim;
        else if (leaf.locked) sums.lockedLeft += leaf.claim;
        else sums.unlockedLeft += leaf.claim;
        return (retained ? 1 : 0) | (leaf.locked ? 2 : 0);
    }

    /// Writes the classes of the positions in `mask` into `slot`; positions of a thrown-away
    /// round are overwritten, not ORed.
    function _storeClasses(uint256 creditNoteId, uint256 slot, uint256 mask, uint256 classes) private {
        mapping(uint256 => uint256) storage stored = _classes[creditNoteId];
        stored[slot] = (stored[slot] & ~mask) | classes;
    }

    /// The cut pass over one chunk (the same ids the tally took at this position): cuts each leaf
    /// by its stored class and the rule, the holder now bearing the loss.
    function _cut(
        uint256 creditNoteId,
        CreditNote storage note,
        Application storage application,
        uint256[] calldata leafIds
    ) private {
        bytes32 receivableId = note.receivableId;
        uint256 position = application.processed;
        uint256 leafCount = application.leafCount;
        Flow memory flow = Flow(
            application.retainedUnlocked,
            application.retainedLocked,
            application.rest,
            application.pool,
            application.poolSeen,
            0
        );
        if (flow.rest != 0) flow.given = Math.mulDiv(flow.rest, flow.poolSeen, flow.pool);
        uint256 classes = _classes[creditNoteId][position / 128];
        for (uint256 i; i < leafIds.length; ++i) {
            // The same leaves as tallied (the chunk hash), and none can have left the tree since.
            Leaf memory leaf = _leafOf(receivableId, leafIds[i]);
            uint256 class = (classes >> ((position % 128) * 2)) & 3;
            leaf.retained = class & 1 != 0;
            leaf.cut = _cutDown(flow, leaf.claim, leaf.retained, class & 2 != 0);
            ++position;
            if (position % 128 == 0 || position == leafCount) {
                delete _classes[creditNoteId][(position - 1) / 128];
                if (position != leafCount) classes = _classes[creditNoteId][position / 128];
            }
            if (leaf.cut != 0) _cutLeaf(creditNoteId, receivableId, leaf);
        }

        uint256 cursor = leafIds[leafIds.length - 1];
        emit CreditNoteChunkProcessed(creditNoteId, ApplicationPhase.Cutting, application.round, position, cursor);
        if (position != leafCount) {
            application.retainedUnlocked = uint128(flow.unlockedLeft);
            application.retainedLocked = uint128(flow.lockedLeft);
            application.poolSeen = uint128(flow.poolSeen);
            application.processed = uint32(position);
            application.cursor = cursor;
            return;
        }
        _finishApplying(creditNoteId, note, application.approvedBy, flow.rest);
    }

    /// The last cut is done: the note is Applied and the dispute ends.
    function _finishApplying(
        uint256 creditNoteId,
        CreditNote storage note,
        CreditNoteApproval approvedBy,
        uint256 rest
    ) private {
        bytes32 receivableId = note.receivableId;
        note.status = CreditNoteStatus.Applied;
        delete _pending[receivableId];
        _closeDispute(receivableId);
        delete _applications[creditNoteId];
        emit DisputeResolved(receivableId, creditNoteId);
        emit CreditNoteApplied(
            creditNoteId,
            receivableId,
            approvedBy,
            note.amount,
            note.amount - rest,
            rest,
            registry.creditedOf(receivableId)
        );
    }

    /// @inheritdoc IDilutionLedger
    function restartTally(
        uint256 creditNoteId,
        uint256 position,
        uint256 before,
        uint256[] calldata chunk,
        uint256 missingLeafId
    ) external {
        // Checks: a tally in progress, `chunk` is the one it took at `position` in this round, and
        // the missing leaf lies strictly inside it (after `before`), so the tally passed it by.
        CreditNote storage note = _creditNotes[creditNoteId];
        if (note.status != CreditNoteStatus.Applying) revert CreditNoteNotApplying(creditNoteId, note.status);
        Application storage application = _applications[creditNoteId];
        if (
            application.phase != ApplicationPhase.Tallying ||
            chunk.length == 0 ||
            _chunks[creditNoteId][position] != _chunkHash(application.round, before, chunk)
        ) revert DilutionChunkMismatch(creditNoteId, position);
        uint256 previous = before;
        bool skipped;
        for (uint256 i; i < chunk.length && !skipped; ++i) {
            skipped = previous < missingLeafId && missingLeafId < chunk[i];
            previous = chunk[i];
        }
        if (!skipped) revert DilutionNoGap(creditNoteId, missingLeafId);
        _leafOf(note.receivableId, missingLeafId); // reverts unless a live or pledged leaf here

        // Effects: a new round from scratch (its chunks and classes overwrite this round's).
        uint32 round = application.round + 1;
        application.round = round;
        application.processed = 0;
        application.cursor = 0;
        application.retainedUnlocked = 0;
        application.retainedLocked = 0;
        application.pool = 0;
        emit CreditNoteTallyRestarted(creditNoteId, missingLeafId, round);
    }

    function _chunkHash(uint256 round, uint256 before, uint256[] calldata leafIds) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(round, before, leafIds));
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
        return _disputes[receivableId] & 1 != 0;
    }

    /// @inheritdoc IDilutionLedger
    function disputeOf(bytes32 receivableId) external view returns (uint256 number, bool open) {
        uint256 dispute = _disputes[receivableId];
        return (dispute >> 1, dispute & 1 != 0);
    }

    /// @inheritdoc IDilutionLedger
    function splitStatusOf(
        bytes32 receivableId,
        uint256 certificateId
    ) external view returns (bool disputed, uint256 reduction) {
        return (_disputes[receivableId] & 1 != 0, _reductions[certificateId]);
    }

    /// @inheritdoc IDilutionLedger
    function applicationOf(
        uint256 creditNoteId
    ) external view returns (ApplicationPhase phase, uint256 processed, uint256 leafCount, uint256 cursor) {
        Application storage application = _applications[creditNoteId];
        return (application.phase, application.processed, application.leafCount, application.cursor);
    }

    /// @inheritdoc IDilutionLedger
    function applyingCreditNoteOf(bytes32 receivableId) external view returns (uint256) {
        uint256 pending = _pending[receivableId];
        return pending != 0 && _creditNotes[pending].status == CreditNoteStatus.Applying ? pending : 0;
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
