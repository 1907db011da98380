// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
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
        // Checks: wiring, terms, parties, uniqueness, consent.
        if (address(certificates) == address(0)) revert NotWired();
        if (terms.faceValue == 0) revert ReceivableZeroFaceValue();
        if (terms.seller == terms.debtor) revert ReceivableSelfDealing(terms.seller);
        if (terms.dueDate <= block.timestamp) revert ReceivableDueDateInPast(terms.dueDate, block.timestamp);
        if (!parties.isActive(terms.seller)) revert IPartyRegistry.PartyNotActive(terms.seller);
        if (!parties.isActive(terms.debtor)) revert IPartyRegistry.PartyNotActive(terms.debtor);

        receivableId = receivableIdOf(terms);
        if (_receivables[receivableId].status != ReceivableStatus.None) {
            revert ReceivableAlreadyRegistered(receivableId);
        }
        _checkConfirmation(receivableId, terms, confirmation);

        // Effects.
        _nonceUsed[terms.debtor][confirmation.nonce] = true;
        _receivables[receivableId] = Receivable({
            seller: terms.seller,
            debtor: terms.debtor,
            registrar: msg.sender,
            status: ReceivableStatus.Active,
            dueDate: terms.dueDate,
            registeredAt: uint64(block.timestamp),
            gracePeriod: gracePeriod,
            earlyPaymentRateBps: _earlyPaymentRates[terms.debtor],
            faceValue: terms.faceValue,
            repaidAmount: 0,
            documentHash: terms.documentHash,
            rootCertificateId: 0
        });

        // Interaction with our own certificate token (trusted, wired once by the admin).
        rootCertificateId = certificates.issueRoot(receivableId, terms.seller, terms.faceValue, terms.dueDate);
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
        emit ReceivableTermsFrozen(receivableId, gracePeriod, _earlyPaymentRates[terms.debtor]);
    }

    function _checkConfirmation(
        bytes32 receivableId,
        ReceivableTerms calldata terms,
        DebtorConfirmation calldata confirmation
    ) private view {
        if (block.timestamp > confirmation.deadline) {
            revert ConfirmationExpired(confirmation.deadline, block.timestamp);
        }
        if (_nonceUsed[terms.debtor][confirmation.nonce]) {
            revert ConfirmationNonceUsed(terms.debtor, confirmation.nonce);
        }
        bytes32 digest = _confirmationDigest(receivableId, terms, confirmation.nonce, confirmation.deadline);
        // SignatureChecker: ECDSA (low-s only, so no malleable copies) for EOAs, ERC-1271 for smart wallets.
        if (!SignatureChecker.isValidSignatureNow(terms.debtor, digest, confirmation.signature)) {
            revert ConfirmationInvalidSignature(terms.debtor);
        }
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
        uint256 owed = receivable.faceValue - _credited[receivableId]; // dilution hook: face less credit notes
        uint256 outstanding = owed - receivable.repaidAmount;
        if (amount > outstanding) revert RepaymentExceedsOutstanding(receivableId, amount, outstanding);

        repaidAmount = receivable.repaidAmount + amount;
        receivable.repaidAmount = repaidAmount;
        emit RepaymentRecorded(receivableId, amount, repaidAmount);

        if (repaidAmount == owed) {
            receivable.status = ReceivableStatus.Repaid;
            emit ReceivableStatusChanged(receivableId, ReceivableStatus.Repaid);
        }
    }

    /// @inheritdoc IReceivableRegistry
    function recordEarlyDischarge(bytes32 receivableId, uint256 paid, uint256 discount) external {
        if (msg.sender != settlementEscrow) revert CallerNotEscrow(msg.sender);
        Receivable storage receivable = _existing(receivableId);
        if (receivable.status != ReceivableStatus.Active) revert ReceivableWrongStatus(receivableId, receivable.status);
        // Dilution hook: face less credit notes.
        uint256 outstanding = receivable.faceValue - _credited[receivableId] - receivable.repaidAmount;
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
    /*                      Dilution (credit notes, issue 16)             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IReceivableRegistry
    function recordCredit(bytes32 receivableId, uint256 amount) external {
        if (msg.sender != dilutionLedger || msg.sender == address(0)) revert CallerNotDilutionLedger(msg.sender);
        Receivable storage receivable = _existing(receivableId);
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
    function wireDilution(address ledger) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (dilutionLedger != address(0)) revert AlreadyWired();
        if (ledger == address(0)) revert ZeroAddress();
        dilutionLedger = ledger;
        emit DilutionLedgerWired(ledger);
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
