// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IReceivableRegistry} from "./interfaces/IReceivableRegistry.sol";
import {IPartyRegistry} from "./interfaces/IPartyRegistry.sol";
import {ICertificateToken} from "./interfaces/ICertificateToken.sol";

/// @title ReceivableRegistry
/// @notice Shared, duplicate-proof registry of debtor-confirmed receivables. See {IReceivableRegistry}.
contract ReceivableRegistry is IReceivableRegistry, AccessControl, Pausable, EIP712 {
    /// @inheritdoc IReceivableRegistry
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @inheritdoc IReceivableRegistry
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @inheritdoc IReceivableRegistry
    bytes32 public constant CONFIRMATION_TYPEHASH = keccak256(
        // solhint-disable-next-line max-line-length
        "ReceivableConfirmation(bytes32 receivableId,bytes32 documentHash,address seller,address debtor,uint256 faceValue,address settlementToken,uint64 dueDate,uint256 nonce,uint256 deadline)"
    );

    /// @inheritdoc IReceivableRegistry
    uint256 public immutable deploymentBlock;
    /// @inheritdoc IReceivableRegistry
    address public immutable settlementToken;

    /// @inheritdoc IReceivableRegistry
    IPartyRegistry public immutable parties;
    // certificates and gracePeriod share one slot: registration reads both.
    ICertificateToken public certificates;
    /// @inheritdoc IReceivableRegistry
    uint64 public gracePeriod = 30 days;
    address public settlementEscrow;

    /// A receivable as stored: what the on-chain checks read, in two slots, and nothing else.
    /// Registrar and document hash are in ReceivableRegistered only (no contract reads them);
    /// `receivableOf` returns them as zero.
    /// Slot 0, read by every certificate transfer (debtor) and every status change:
    ///   debtor(160) | status(8) | dueDate(40) | gracePeriod(32) | earlyPaymentRateBps(16).
    /// Slot 1, the money: faceValue(96) | repaidAmount(96) | rootCertificateId(64).
    /// Slot 2, the seller (whose consent a credit note needs and whose retained pieces absorb a
    /// dilution first, see DilutionLedger; the holder of the root until it first moves, see
    /// liveRootSellerOf), when it registered, and the certificate tree the token
    /// keeps here (see CertificateTree), and whether the dilution ledger holds anything on it (see
    /// noteDilution): seller(160) | registeredAt(40) | leafCount(32) | rootState(8) | dilutionNoted(8).
    /// Registration writes this slot for the seller anyway, so the tree needs no slot of its own.
    /// Registration refuses terms that do not fit (ReceivableFaceValueTooLarge, ReceivableDueDateTooFar),
    /// and setGracePeriod a period that does not (GracePeriodTooLong).
    struct Record {
        address debtor;
        ReceivableStatus status;
        uint40 dueDate;
        uint32 gracePeriod;
        uint16 earlyPaymentRateBps;
        uint96 faceValue;
        uint96 repaidAmount;
        uint64 rootCertificateId;
        address seller;
        uint40 registeredAt;
        uint32 leafCount;
        ICertificateToken.CertificateState rootState;
        // Set once by the dilution ledger (noteDilution): splits and financing ask it from then on.
        bool dilutionNoted;
    }

    mapping(bytes32 receivableId => Record) private _receivables;
    // No nonce storage: a debtor's confirmation binds the receivable id, and an id is registered
    // once, so the record above is what spends the confirmation.
    mapping(address debtor => uint16 rateBps) private _earlyPaymentRates;

    // Dilution (issue 16): the ledger of disputes and credit notes, and what it credited.
    /// @inheritdoc IReceivableRegistry
    address public dilutionLedger;
    mapping(bytes32 receivableId => uint256) private _credited;

    constructor(
        address admin,
        IPartyRegistry parties_,
        address settlementToken_
    ) EIP712("Tierline ReceivableRegistry", "1") {
        if (address(parties_) == address(0) || settlementToken_ == address(0)) revert ZeroAddress();
        deploymentBlock = block.number;
        parties = parties_;
        settlementToken = settlementToken_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /* ------------------------------------------------------------------ */
    /*                              Registration                          */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReceivableRegistry
    function register(
        ReceivableTerms calldata terms,
        DebtorConfirmation calldata confirmation
    ) external onlyRole(REGISTRAR_ROLE) whenNotPaused returns (bytes32 receivableId, uint256 rootCertificateId) {
        ICertificateToken certificates_ = _wiredCertificates();
        bytes memory refusal;
        (receivableId, refusal) = _checkRegistration(terms, confirmation);
        if (refusal.length != 0) LowLevelCall.bubbleRevert(refusal);
        rootCertificateId = _record(certificates_, receivableId, terms);
    }

    /// @inheritdoc IReceivableRegistry
    function registerBatch(
        Registration[] calldata items
    )
        external
        onlyRole(REGISTRAR_ROLE)
        whenNotPaused
        returns (bytes32[] memory receivableIds, uint256[] memory rootCertificateIds)
    {
        ICertificateToken certificates_ = _wiredCertificates();
        uint256 count = items.length;
        receivableIds = new bytes32[](count);
        rootCertificateIds = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            Registration calldata item = items[i];
            // Items are checked one after the other against the state the earlier ones left, so a
            // second copy of an id inside the batch meets the first one's record.
            (bytes32 receivableId, bytes memory refusal) = _checkRegistration(item.terms, item.confirmation);
            receivableIds[i] = receivableId;
            if (refusal.length != 0) {
                emit RegistrationRefused(i, receivableId, item.terms.debtor, refusal);
                continue;
            }
            rootCertificateIds[i] = _record(certificates_, receivableId, item.terms);
        }
    }

    /// The certificate token, once wired: registration before wiring would mint nothing.
    function _wiredCertificates() private view returns (ICertificateToken certificates_) {
        certificates_ = certificates;
        if (address(certificates_) == address(0)) revert NotWired();
    }

    /// Every per-receivable rule of registration, in one place for `register` and `registerBatch`:
    /// terms, parties, uniqueness, consent. Returns the ABI-encoded custom error of the first rule
    /// broken (empty if none), so `register` reverts with it and `registerBatch` reports it.
    /// `receivableId` is zero if the terms were refused before both parties were found active.
    function _checkRegistration(
        ReceivableTerms calldata terms,
        DebtorConfirmation calldata confirmation
    ) private view returns (bytes32 receivableId, bytes memory refusal) {
        if (terms.faceValue == 0) return (0, abi.encodeWithSelector(ReceivableZeroFaceValue.selector));
        if (terms.faceValue > type(uint96).max) {
            return (0, abi.encodeWithSelector(ReceivableFaceValueTooLarge.selector, terms.faceValue, type(uint96).max));
        }
        if (terms.seller == terms.debtor) {
            return (0, abi.encodeWithSelector(ReceivableSelfDealing.selector, terms.seller));
        }
        if (terms.dueDate <= block.timestamp) {
            return (0, abi.encodeWithSelector(ReceivableDueDateInPast.selector, terms.dueDate, block.timestamp));
        }
        if (terms.dueDate > type(uint40).max) {
            return (0, abi.encodeWithSelector(ReceivableDueDateTooFar.selector, terms.dueDate, type(uint40).max));
        }
        // The seller receives the root: one that may not hold (an auditor) is refused here, item by
        // item, not by the token's mint check, which would revert a whole batch. One call a party
        // reads its flags and legal id together (issue 12: two calls, not four).
        IPartyRegistry.Party memory seller = parties.partyOf(terms.seller);
        if (!seller.active) return (0, abi.encodeWithSelector(PartyNotActive.selector, terms.seller));
        if (!seller.mayHold) return (0, abi.encodeWithSelector(ReceivableSellerMayNotHold.selector, terms.seller));
        IPartyRegistry.Party memory debtor = parties.partyOf(terms.debtor);
        if (!debtor.active) return (0, abi.encodeWithSelector(PartyNotActive.selector, terms.debtor));

        // An active party is a registered one, so both legal ids are set (receivableIdOf's reads).
        receivableId = computeReceivableId(seller.legalIdHash, debtor.legalIdHash, terms.invoiceNumberHash);
        if (_receivables[receivableId].status != ReceivableStatus.None) {
            return (receivableId, abi.encodeWithSelector(ReceivableAlreadyRegistered.selector, receivableId));
        }
        if (block.timestamp > confirmation.deadline) {
            return (
                receivableId,
                abi.encodeWithSelector(ConfirmationExpired.selector, confirmation.deadline, block.timestamp)
            );
        }
        bytes32 digest = _confirmationDigest(receivableId, terms, confirmation.nonce, confirmation.deadline);
        // SignatureChecker: ECDSA (low-s only, so no malleable copies) for EOAs, ERC-1271 for smart
        // wallets; it answers false rather than reverting, so a bad signature never sinks a batch.
        if (!SignatureChecker.isValidSignatureNow(terms.debtor, digest, confirmation.signature)) {
            return (receivableId, abi.encodeWithSelector(ConfirmationInvalidSignature.selector, terms.debtor));
        }
    }

    /// Effects, the root certificate and the events of one checked registration.
    function _record(
        ICertificateToken certificates_,
        bytes32 receivableId,
        ReceivableTerms calldata terms
    ) private returns (uint256 rootCertificateId) {
        uint64 gracePeriod_ = gracePeriod;
        uint16 rateBps = _earlyPaymentRates[terms.debtor];
        // Bounds checked in _checkRegistration (face value, due date) and setGracePeriod.
        Record storage record = _receivables[receivableId];
        record.debtor = terms.debtor;
        record.status = ReceivableStatus.Active;
        record.dueDate = uint40(terms.dueDate);
        record.gracePeriod = uint32(gracePeriod_);
        record.earlyPaymentRateBps = rateBps;
        record.faceValue = uint96(terms.faceValue);
        record.seller = terms.seller;
        record.registeredAt = uint40(block.timestamp);
        // The certificate tree, one live leaf, in the same slot: issueRoot mints only into a
        // prepared tree with no root id yet, and the root id is written once it returns.
        record.leafCount = 1;
        record.rootState = ICertificateToken.CertificateState.Live;

        // Interaction with our own certificate token (trusted, wired once by the admin).
        rootCertificateId = certificates_.issueRoot(receivableId, terms.seller, terms.faceValue, terms.dueDate);
        record.rootCertificateId = SafeCast.toUint64(rootCertificateId);

        emit ReceivableRegistered(
            receivableId,
            terms.seller,
            terms.debtor,
            msg.sender,
            terms.faceValue,
            terms.dueDate,
            terms.documentHash,
            rootCertificateId
        );
        emit ReceivableTermsFrozen(receivableId, gracePeriod_, rateBps);
    }

    /* ------------------------------------------------------------------ */
    /*                         Overdue and default                        */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReceivableRegistry
    function markOverdue(bytes32 receivableId) external {
        Record storage receivable = _existing(receivableId);
        if (receivable.status != ReceivableStatus.Active) revert ReceivableWrongStatus(receivableId, receivable.status);
        if (block.timestamp <= receivable.dueDate) {
            revert ReceivableNotYetDue(receivableId, uint256(receivable.dueDate) + 1, block.timestamp);
        }

        receivable.status = ReceivableStatus.Overdue;

        emit ReceivableStatusChanged(receivableId, ReceivableStatus.Overdue);
    }

    /// @inheritdoc IReceivableRegistry
    function markDefaulted(bytes32 receivableId) external {
        Record storage receivable = _existing(receivableId);
        ReceivableStatus status = receivable.status;
        if (status != ReceivableStatus.Active && status != ReceivableStatus.Overdue) {
            revert ReceivableWrongStatus(receivableId, status);
        }
        uint256 defaultableAfter = uint256(receivable.dueDate) + receivable.gracePeriod;
        if (block.timestamp <= defaultableAfter) {
            revert ReceivableNotYetDue(receivableId, defaultableAfter + 1, block.timestamp);
        }

        receivable.status = ReceivableStatus.Defaulted;

        emit ReceivableStatusChanged(receivableId, ReceivableStatus.Defaulted);
    }

    /* ------------------------------------------------------------------ */
    /*                              Repayment                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReceivableRegistry
    function recordRepayment(bytes32 receivableId, uint256 amount) external returns (uint256 repaidAmount) {
        if (msg.sender != settlementEscrow) revert CallerNotEscrow(msg.sender);
        Record storage receivable = _existing(receivableId);
        ReceivableStatus status = receivable.status;
        if (status == ReceivableStatus.Repaid) revert ReceivableWrongStatus(receivableId, status);
        uint256 owed = receivable.faceValue - _credited[receivableId]; // dilution hook: face less credit notes
        uint256 outstanding = owed - receivable.repaidAmount;
        if (amount > outstanding) revert RepaymentExceedsOutstanding(receivableId, amount, outstanding);

        // Never above what is owed (at most the face value, which fits 96 bits).
        repaidAmount = owed - outstanding + amount;
        receivable.repaidAmount = uint96(repaidAmount);
        emit RepaymentRecorded(receivableId, amount, repaidAmount);

        if (repaidAmount == owed) {
            receivable.status = ReceivableStatus.Repaid;
            emit ReceivableStatusChanged(receivableId, ReceivableStatus.Repaid);
        }
    }

    /// @inheritdoc IReceivableRegistry
    function recordEarlyDischarge(bytes32 receivableId, uint256 paid, uint256 discount) external {
        if (msg.sender != settlementEscrow) revert CallerNotEscrow(msg.sender);
        Record storage receivable = _existing(receivableId);
        if (receivable.status != ReceivableStatus.Active) revert ReceivableWrongStatus(receivableId, receivable.status);
        uint256 owed = receivable.faceValue - _credited[receivableId]; // dilution hook: face less credit notes
        uint256 outstanding = owed - receivable.repaidAmount;
        if (paid + discount != outstanding)
            revert RepaymentExceedsOutstanding(receivableId, paid + discount, outstanding);

        // paid <= outstanding, so the sum stays below what is owed (at most the face value).
        uint256 repaidAmount = owed - outstanding + paid;
        receivable.repaidAmount = uint96(repaidAmount);
        receivable.status = ReceivableStatus.Repaid;

        emit RepaymentRecorded(receivableId, paid, repaidAmount);
        emit ReceivableDischargedEarly(receivableId, paid, discount);
        emit ReceivableStatusChanged(receivableId, ReceivableStatus.Repaid);
    }

    /* ------------------------------------------------------------------ */
    /*                      Dilution (credit notes, issue 16)             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReceivableRegistry
    function recordCredit(bytes32 receivableId, uint256 amount) external {
        if (msg.sender != dilutionLedger || msg.sender == address(0)) revert CallerNotDilutionLedger(msg.sender);
        Record storage receivable = _existing(receivableId);
        ReceivableStatus status = receivable.status;
        if ((status != ReceivableStatus.Active && status != ReceivableStatus.Overdue) || receivable.repaidAmount != 0) {
            revert ReceivableWrongStatus(receivableId, status);
        }
        uint256 credited = _credited[receivableId] + amount;
        if (credited > receivable.faceValue) {
            revert RepaymentExceedsOutstanding(receivableId, amount, receivable.faceValue - _credited[receivableId]);
        }

        _credited[receivableId] = credited;
        emit CreditRecorded(receivableId, amount, credited);
        _noteDilution(receivable, receivableId);

        // Credited in full: nothing is owed any more, the receivable is closed.
        if (credited == receivable.faceValue) {
            receivable.status = ReceivableStatus.Repaid;
            emit ReceivableStatusChanged(receivableId, ReceivableStatus.Repaid);
        }
    }

    /// @inheritdoc IReceivableRegistry
    function creditedOf(bytes32 receivableId) external view returns (uint256) {
        return _credited[receivableId];
    }

    /// @inheritdoc IReceivableRegistry
    function noteDilution(bytes32 receivableId) external {
        if (msg.sender != dilutionLedger || msg.sender == address(0)) revert CallerNotDilutionLedger(msg.sender);
        _noteDilution(_existing(receivableId), receivableId);
    }

    function _noteDilution(Record storage record, bytes32 receivableId) private {
        if (record.dilutionNoted) return;
        record.dilutionNoted = true;
        emit DilutionNoted(receivableId);
    }

    /// @inheritdoc IReceivableRegistry
    function wireDilution(address ledger) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (dilutionLedger != address(0)) revert AlreadyWired();
        if (ledger == address(0)) revert ZeroAddress();
        dilutionLedger = ledger;
        emit DilutionLedgerWired(ledger);
    }

    /* ------------------------------------------------------------------ */
    /*                  The certificate tree, kept for the token          */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReceivableRegistry
    function recordRootState(bytes32 receivableId, ICertificateToken.CertificateState state) external {
        _requireCertificates();
        _receivables[receivableId].rootState = state;
    }

    /// @inheritdoc IReceivableRegistry
    function recordSplit(bytes32 receivableId, uint256 addedLeaves, bool rootRetired) external {
        _requireCertificates();
        Record storage record = _receivables[receivableId];
        // Checked: a tree past 2^32 - 1 leaves reverts the split, as the token's own count did.
        record.leafCount = SafeCast.toUint32(record.leafCount + addedLeaves);
        if (rootRetired) record.rootState = ICertificateToken.CertificateState.Retired;
    }

    function _requireCertificates() private view {
        address certificates_ = address(certificates);
        if (msg.sender != certificates_ || certificates_ == address(0)) revert CallerNotCertificates(msg.sender);
    }

    /* ------------------------------------------------------------------ */
    /*                             Administration                         */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReceivableRegistry
    function setEarlyPaymentRate(address debtor, uint16 rateBps) external onlyRole(REGISTRAR_ROLE) {
        if (rateBps > 10_000) revert EarlyPaymentRateTooHigh(rateBps);
        _earlyPaymentRates[debtor] = rateBps;
        emit EarlyPaymentRateSet(debtor, rateBps);
    }

    /// @inheritdoc IReceivableRegistry
    function earlyPaymentRateOf(address debtor) external view returns (uint16) {
        return _earlyPaymentRates[debtor];
    }

    /// @inheritdoc IReceivableRegistry
    function setGracePeriod(uint64 newGracePeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        // Each receivable keeps its period in 32 bits (136 years).
        if (newGracePeriod > type(uint32).max) revert GracePeriodTooLong(newGracePeriod, type(uint32).max);
        gracePeriod = newGracePeriod;
        emit GracePeriodSet(newGracePeriod);
    }

    /// @inheritdoc IReceivableRegistry
    function wire(address certificateToken, address escrow) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(certificates) != address(0)) revert AlreadyWired();
        if (certificateToken == address(0) || escrow == address(0)) revert ZeroAddress();
        certificates = ICertificateToken(certificateToken);
        settlementEscrow = escrow;
        emit ContractsWired(certificateToken, escrow);
    }

    /// @inheritdoc IReceivableRegistry
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IReceivableRegistry
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /* ------------------------------------------------------------------ */
    /*                                 Views                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReceivableRegistry
    function computeReceivableId(
        bytes32 sellerLegalId,
        bytes32 debtorLegalId,
        bytes32 invoiceNumberHash
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(sellerLegalId, debtorLegalId, invoiceNumberHash));
    }

    /// @inheritdoc IReceivableRegistry
    function receivableIdOf(ReceivableTerms calldata terms) public view returns (bytes32) {
        return
            computeReceivableId(
                parties.legalIdOf(terms.seller),
                parties.legalIdOf(terms.debtor),
                terms.invoiceNumberHash
            );
    }

    /// @inheritdoc IReceivableRegistry
    function confirmationDigest(
        ReceivableTerms calldata terms,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32) {
        return _confirmationDigest(receivableIdOf(terms), terms, nonce, deadline);
    }

    /// @inheritdoc IReceivableRegistry
    function receivableOf(bytes32 receivableId) external view returns (Receivable memory receivable) {
        Record storage record = _receivables[receivableId];
        // registrar and documentHash are not stored: zero (see Record).
        receivable.seller = record.seller;
        receivable.registeredAt = record.registeredAt;
        receivable.debtor = record.debtor;
        receivable.status = record.status;
        receivable.dueDate = record.dueDate;
        receivable.gracePeriod = record.gracePeriod;
        receivable.earlyPaymentRateBps = record.earlyPaymentRateBps;
        receivable.faceValue = record.faceValue;
        receivable.repaidAmount = record.repaidAmount;
        receivable.rootCertificateId = record.rootCertificateId;
    }

    /// @inheritdoc IReceivableRegistry
    function statusOf(bytes32 receivableId) external view returns (ReceivableStatus) {
        return _receivables[receivableId].status;
    }

    /// @inheritdoc IReceivableRegistry
    function debtorOf(bytes32 receivableId) external view returns (address) {
        return _receivables[receivableId].debtor;
    }

    /// @inheritdoc IReceivableRegistry
    function splitTermsOf(bytes32 receivableId) external view returns (address debtor, bool dilutionNoted) {
        Record storage record = _receivables[receivableId];
        bool open =
            record.status == ReceivableStatus.Active && record.repaidAmount == 0 && block.timestamp < record.dueDate;
        return (open ? record.debtor : address(0), record.dilutionNoted);
    }

    /// @inheritdoc IReceivableRegistry
    function statusAndDilutionOf(
        bytes32 receivableId
    ) external view returns (ReceivableStatus status, bool dilutionNoted) {
        Record storage record = _receivables[receivableId];
        return (record.status, record.dilutionNoted);
    }

    /// @inheritdoc IReceivableRegistry
    function dueDateOf(bytes32 receivableId) external view returns (uint64) {
        return _receivables[receivableId].dueDate;
    }

    /// @inheritdoc IReceivableRegistry
    function treeOf(bytes32 receivableId) external view returns (CertificateTree memory tree) {
        Record storage record = _receivables[receivableId];
        tree.rootCertificateId = record.rootCertificateId;
        tree.faceValue = record.faceValue;
        tree.dueDate = record.dueDate;
        tree.leafCount = record.leafCount;
        tree.rootState = record.rootState;
    }

    /// @inheritdoc IReceivableRegistry
    function rootStateOf(bytes32 receivableId) external view returns (ICertificateToken.CertificateState) {
        return _receivables[receivableId].rootState;
    }

    /// @inheritdoc IReceivableRegistry
    function liveRootSellerOf(bytes32 receivableId) external view returns (address) {
        Record storage record = _receivables[receivableId];
        ICertificateToken.CertificateState state = record.rootState;
        bool held =
            state == ICertificateToken.CertificateState.Live || state == ICertificateToken.CertificateState.Locked;
        return held ? record.seller : address(0);
    }

    /// @notice The EIP-712 domain separator (chain id and this contract's address are in it).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _confirmationDigest(
        bytes32 receivableId,
        ReceivableTerms calldata terms,
        uint256 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        CONFIRMATION_TYPEHASH,
                        receivableId,
                        terms.documentHash,
                        terms.seller,
                        terms.debtor,
                        terms.faceValue,
                        settlementToken,
                        terms.dueDate,
                        nonce,
                        deadline
                    )
                )
            );
    }

    function _existing(bytes32 receivableId) private view returns (Record storage receivable) {
        receivable = _receivables[receivableId];
        if (receivable.status == ReceivableStatus.None) revert ReceivableNotFound(receivableId);
    }
}
