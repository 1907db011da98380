// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
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

    IPartyRegistry public immutable parties;
    ICertificateToken public certificates;
    address public settlementEscrow;

    /// @inheritdoc IReceivableRegistry
    uint64 public gracePeriod = 30 days;

    mapping(bytes32 receivableId => Receivable) private _receivables;
    mapping(address debtor => mapping(uint256 nonce => bool)) private _nonceUsed;
    mapping(address debtor => uint16 rateBps) private _earlyPaymentRates;

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
        rootCertificateId = _record(certificates_, receivableId, terms, confirmation.nonce);
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
            // second copy of an id (or of a nonce) inside the batch meets the first one's record.
            (bytes32 receivableId, bytes memory refusal) = _checkRegistration(item.terms, item.confirmation);
            receivableIds[i] = receivableId;
            if (refusal.length != 0) {
                emit RegistrationRefused(i, receivableId, item.terms.debtor, refusal);
                continue;
            }
            rootCertificateIds[i] = _record(certificates_, receivableId, item.terms, item.confirmation.nonce);
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
        if (terms.seller == terms.debtor) {
            return (0, abi.encodeWithSelector(ReceivableSelfDealing.selector, terms.seller));
        }
        if (terms.dueDate <= block.timestamp) {
            return (0, abi.encodeWithSelector(ReceivableDueDateInPast.selector, terms.dueDate, block.timestamp));
        }
        if (!parties.isActive(terms.seller)) {
            return (0, abi.encodeWithSelector(PartyNotActive.selector, terms.seller));
        }
        if (!parties.isActive(terms.debtor)) {
            return (0, abi.encodeWithSelector(PartyNotActive.selector, terms.debtor));
        }

        receivableId = receivableIdOf(terms);
        if (_receivables[receivableId].status != ReceivableStatus.None) {
            return (receivableId, abi.encodeWithSelector(ReceivableAlreadyRegistered.selector, receivableId));
        }
        if (block.timestamp > confirmation.deadline) {
            return (
                receivableId,
                abi.encodeWithSelector(ConfirmationExpired.selector, confirmation.deadline, block.timestamp)
            );
        }
        if (_nonceUsed[terms.debtor][confirmation.nonce]) {
            return (
                receivableId,
                abi.encodeWithSelector(ConfirmationNonceUsed.selector, terms.debtor, confirmation.nonce)
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
        ReceivableTerms calldata terms,
        uint256 nonce
    ) private returns (uint256 rootCertificateId) {
        uint64 gracePeriod_ = gracePeriod;
        uint16 rateBps = _earlyPaymentRates[terms.debtor];
        _nonceUsed[terms.debtor][nonce] = true;
        _receivables[receivableId] = Receivable({
            seller: terms.seller,
            debtor: terms.debtor,
            registrar: msg.sender,
            status: ReceivableStatus.Active,
            dueDate: terms.dueDate,
            registeredAt: uint64(block.timestamp),
            gracePeriod: gracePeriod_,
            earlyPaymentRateBps: rateBps,
            faceValue: terms.faceValue,
            repaidAmount: 0,
            documentHash: terms.documentHash,
            rootCertificateId: 0
        });

        // Interaction with our own certificate token (trusted, wired once by the admin).
        rootCertificateId = certificates_.issueRoot(receivableId, terms.seller, terms.faceValue, terms.dueDate);
        _receivables[receivableId].rootCertificateId = rootCertificateId;

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
        Receivable storage receivable = _existing(receivableId);
        if (receivable.status != ReceivableStatus.Active) revert ReceivableWrongStatus(receivableId, receivable.status);
        if (block.timestamp <= receivable.dueDate) {
            revert ReceivableNotYetDue(receivableId, uint256(receivable.dueDate) + 1, block.timestamp);
        }

        receivable.status = ReceivableStatus.Overdue;

        emit ReceivableStatusChanged(receivableId, ReceivableStatus.Overdue);
    }

    /// @inheritdoc IReceivableRegistry
    function markDefaulted(bytes32 receivableId) external {
        Receivable storage receivable = _existing(receivableId);
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
        Receivable storage receivable = _existing(receivableId);
        ReceivableStatus status = receivable.status;
        if (status == ReceivableStatus.Repaid) revert ReceivableWrongStatus(receivableId, status);
        uint256 outstanding = receivable.faceValue - receivable.repaidAmount;
        if (amount > outstanding) revert RepaymentExceedsOutstanding(receivableId, amount, outstanding);

        repaidAmount = receivable.repaidAmount + amount;
        receivable.repaidAmount = repaidAmount;
        emit RepaymentRecorded(receivableId, amount, repaidAmount);

        if (repaidAmount == receivable.faceValue) {
            receivable.status = ReceivableStatus.Repaid;
            emit ReceivableStatusChanged(receivableId, ReceivableStatus.Repaid);
        }
    }

    /// @inheritdoc IReceivableRegistry
    function recordEarlyDischarge(bytes32 receivableId, uint256 paid, uint256 discount) external {
        if (msg.sender != settlementEscrow) revert CallerNotEscrow(msg.sender);
        Receivable storage receivable = _existing(receivableId);
        if (receivable.status != ReceivableStatus.Active) revert ReceivableWrongStatus(receivableId, receivable.status);
        uint256 outstanding = receivable.faceValue - receivable.repaidAmount;
        if (paid + discount != outstanding)
            revert RepaymentExceedsOutstanding(receivableId, paid + discount, outstanding);

        uint256 repaidAmount = receivable.repaidAmount + paid;
        receivable.repaidAmount = repaidAmount;
        receivable.status = ReceivableStatus.Repaid;

        emit RepaymentRecorded(receivableId, paid, repaidAmount);
        emit ReceivableDischargedEarly(receivableId, paid, discount);
        emit ReceivableStatusChanged(receivableId, ReceivableStatus.Repaid);
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
    function nonceUsed(address debtor, uint256 nonce) external view returns (bool) {
        return _nonceUsed[debtor][nonce];
    }

    /// @inheritdoc IReceivableRegistry
    function receivableOf(bytes32 receivableId) external view returns (Receivable memory) {
        return _receivables[receivableId];
    }

    /// @inheritdoc IReceivableRegistry
    function statusOf(bytes32 receivableId) external view returns (ReceivableStatus) {
        return _receivables[receivableId].status;
    }

    /// @inheritdoc IReceivableRegistry
    function debtorOf(bytes32 receivableId) external view returns (address) {
        return _receivables[receivableId].debtor;
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

    function _existing(bytes32 receivableId) private view returns (Receivable storage receivable) {
        receivable = _receivables[receivableId];
        if (receivable.status == ReceivableStatus.None) revert ReceivableNotFound(receivableId);
    }
}
