// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ISettlementEscrow} from "./interfaces/ISettlementEscrow.sol";
import {IFinancingMarket} from "./interfaces/IFinancingMarket.sol";
import {ICertificateToken} from "./interfaces/ICertificateToken.sol";
import {IReceivableRegistry} from "./interfaces/IReceivableRegistry.sol";
import {IPartyRegistry} from "./interfaces/IPartyRegistry.sol";
import {IDilutionLedger} from "./interfaces/IDilutionLedger.sol";

/// @title FinancingMarket
/// @notice Discounting and pledging of certificates, delivery versus payment. See {IFinancingMarket}.
contract FinancingMarket is IFinancingMarket, AccessControl, Pausable, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;

    /// @inheritdoc IFinancingMarket
    bytes32 public constant ATTESTER_ROLE = keccak256("ATTESTER_ROLE");
    /// @inheritdoc IFinancingMarket
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        // solhint-disable-next-line max-line-length
        "RiskAttestation(uint256 requestId,uint256 certificateId,uint256 price,uint256 repayAmount,uint256 remainingClaim,uint16 advanceRateBps,uint64 expiry)"
    );

    /// @inheritdoc IFinancingMarket
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @inheritdoc IFinancingMarket
    uint256 public immutable deploymentBlock;

    ICertificateToken public immutable certificates;
    IReceivableRegistry public immutable registry;
    IPartyRegistry public immutable parties;
    IERC20 public immutable settlementToken;
    address public escrow;

    /// @inheritdoc IFinancingMarket
    uint256 public requestCount;

    /// A request as stored: four slots, packed so that funding updates slots the request already
    /// has instead of creating new ones. Amounts are at most a certificate's 128-bit face value;
    /// ids are the token's 48-bit ids. The view {requestOf} returns the {Request} struct.
    struct StoredRequest {
        // Slot 0: who asked, for what, where it stands.
        address holder;
        FinancingKind kind;
        RequestStatus status;
        uint64 attestedUntil;
        uint16 advanceRateBps;
        // Slot 1: the certificate (and its due date, which never changes), and who funded it.
        address financier;
        uint48 certificateId;
        uint40 dueDate;
        // Slot 2: the price, and the certificate's remaining claim when the request was opened.
        // While the request is open that claim cannot shrink: any payout on the (locked)
        // certificate cancels the request (recordLeafPayment).
        uint128 price;
        uint128 remainingClaim;
        // Slot 3: a pledge's terms (zero for a discount sale: not written).
        uint128 repayAmount;
        uint128 outstanding;
    }

    mapping(uint256 requestId => StoredRequest) private _requests;
    mapping(uint256 certificateId => uint256 requestId) private _activeRequests;

    /// @inheritdoc IFinancingMarket
    address public dilutionLedger; // issue 16: disputes stop new financing; claims shrink by credit notes

    constructor(
        address admin,
        ICertificateToken certificates_,
        IReceivableRegistry registry_,
        IPartyRegistry parties_
    ) EIP712("Tierline FinancingMarket", "1") {
        deploymentBlock = block.number;
        certificates = certificates_;
        registry = registry_;
        parties = parties_;
        settlementToken = IERC20(registry_.settlementToken());
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /* ------------------------------------------------------------------ */
    /*                                  Open                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IFinancingMarket
    function openRequest(
        uint256 certificateId,
        FinancingKind kind,
        uint256 price,
        uint256 repayAmount
    ) external whenNotPaused returns (uint256 requestId) {
        // Checks. The lock below refuses a certificate that is already locked.
        ICertificateToken.Certificate memory certificate = certificates.certificateOf(certificateId);
        if (certificate.state == ICertificateToken.CertificateState.Locked) {
            revert ICertificateToken.CertificateLocked(certificateId);
        }
        if (certificate.state != ICertificateToken.CertificateState.Live) {
            revert ICertificateToken.CertificateWrongState(certificateId, certificate.state);
        }
        if (certificates.ownerOf(certificateId) != msg.sender) revert FinancingNotHolder(certificateId, msg.sender);
        if (!parties.isActive(msg.sender)) revert IPartyRegistry.PartyNotActive(msg.sender);
        (IReceivableRegistry.ReceivableStatus status, bool dilutionNoted) = registry.statusAndDilutionOf(
            certificate.receivableId
        );
        uint256 remainingClaim = _remainingClaim(certificateId, certificate.faceValue, dilutionNoted);
        _requireTerms(kind, price, repayAmount, remainingClaim);
        _requireOpenReceivable(certificate.receivableId, certificate.dueDate, status, dilutionNoted);

        // Effects. The casts are exact: the certificate exists (48-bit id, 40-bit due date) and
        // price, repay amount and remaining claim are at most its 128-bit face value.
        requestId = ++requestCount;
        _requests[requestId] = StoredRequest({
            holder: msg.sender,
            kind: kind,
            status: RequestStatus.Open,
            attestedUntil: 0,
            advanceRateBps: 0,
            financier: address(0),
            certificateId: uint48(certificateId),
            dueDate: uint40(certificate.dueDate),
            price: uint128(price),
            remainingClaim: uint128(remainingClaim),
            repayAmount: uint128(repayAmount),
            outstanding: 0
        });
        _activeRequests[certificateId] = requestId;
        emit FinancingRequested(requestId, certificateId, msg.sender, kind, price, repayAmount);

        // Interaction with our own certificate token.
        certificates.lock(certificateId);
    }

    /// @inheritdoc IFinancingMarket
    function cancelRequest(uint256 requestId) external {
        StoredRequest storage request = _existing(requestId);
        if (request.status != RequestStatus.Open) revert FinancingWrongStatus(requestId, request.status);
        if (request.holder != msg.sender) revert FinancingNotHolder(request.certificateId, msg.sender);

        request.status = RequestStatus.Cancelled;
        delete _activeRequests[request.certificateId];
        emit FinancingCancelled(requestId, request.certificateId);

        certificates.unlock(request.certificateId);
    }

    /* ------------------------------------------------------------------ */
    /*                                  Fund                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IFinancingMarket
    function fund(
        uint256 requestId,
        uint256 expectedPrice,
        uint256 expectedRepayAmount,
        uint256 expectedRemainingClaim
    ) external whenNotPaused nonReentrant {
        _fund(requestId, expectedPrice, expectedRepayAmount, expectedRemainingClaim, false);
    }

    /// @inheritdoc IFinancingMarket
    function fundAttested(
        uint256 requestId,
        uint256 expectedPrice,
        uint256 expectedRepayAmount,
        uint256 expectedRemainingClaim
    ) external whenNotPaused nonReentrant {
        _fund(requestId, expectedPrice, expectedRepayAmount, expectedRemainingClaim, true);
    }

    function _fund(
        uint256 requestId,
        uint256 expectedPrice,
        uint256 expectedRepayAmount,
        uint256 expectedRemainingClaim,
        bool attestedOnly
    ) private {
        // Checks.
        StoredRequest storage request = _existing(requestId);
        if (request.status != RequestStatus.Open) revert FinancingWrongStatus(requestId, request.status);
        FinancingKind kind = request.kind;
        // A discount's repay amount is zero by its terms: its slot is neither written nor read.
        uint256 repayAmount = kind == FinancingKind.Discount ? 0 : request.repayAmount;
        if (request.price != expectedPrice || repayAmount != expectedRepayAmount) {
            revert FinancingTermsMismatch(requestId, request.price, repayAmount);
        }
        if (attestedOnly && request.attestedUntil < block.timestamp) revert FinancingNotAttested(requestId);
        if (request.holder == msg.sender) revert FinancingSelfFunding(requestId);
        // The financier is the certificate's next holder (at once for a discount, at foreclosure
        // for a pledge): one that may not hold cannot fund, rather than leave a pledge it could
        // never foreclose. The second call only says why on the way to a revert.
        if (!parties.mayHold(msg.sender)) {
            if (!parties.isActive(msg.sender)) revert IPartyRegistry.PartyNotActive(msg.sender);
            revert ICertificateToken.CertificateRecipientMayNotHold(request.certificateId, msg.sender);
        }
        if (!parties.isActive(request.holder)) revert IPartyRegistry.PartyNotActive(request.holder);
        uint256 certificateId = request.certificateId;
        _requireFundable(requestId, certificateId, request.dueDate, request.remainingClaim, expectedRemainingClaim);

        // Effects.
        request.financier = msg.sender;
        if (kind == FinancingKind.Discount) {
            request.status = RequestStatus.Sold;
            delete _activeRequests[certificateId];
        } else {
            request.status = RequestStatus.Pledged;
            request.outstanding = uint128(repayAmount);
        }
        emit FinancingFunded(requestId, certificateId, msg.sender, kind, expectedPrice);

        // Interactions: both legs in this call, or neither. The certificate moves first: a token
        // that calls its recipient lets the seller run code when the price arrives, and by then
        // any payout it settles on the piece is the financier's (or, pledged, pays the pledge down).
        if (kind == FinancingKind.Discount) certificates.deliverLocked(certificateId, msg.sender);
        _pull(msg.sender, request.holder, expectedPrice);
    }

    /* ------------------------------------------------------------------ */
    /*                            Risk attestation                        */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IFinancingMarket
    function attestRequest(RiskAttestation calldata attestation, bytes calldata signature) external {
        // Checks: the attestation describes the request exactly as it stands now.
        uint256 requestId = attestation.requestId;
        StoredRequest storage request = _existing(requestId);
        if (
            request.status != RequestStatus.Open ||
            request.certificateId != attestation.certificateId ||
            request.price != attestation.price ||
            request.repayAmount != attestation.repayAmount ||
            // Still the claim at opening: a payout since would have cancelled the request.
            request.remainingClaim != attestation.remainingClaim
        ) revert FinancingAttestationMismatch(requestId);
        if (attestation.expiry < block.timestamp) {
            revert FinancingAttestationExpired(attestation.expiry, block.timestamp);
        }
        (address signer, ECDSA.RecoverError error_, ) = ECDSA.tryRecover(attestationDigest(attestation), signature);
        if (error_ != ECDSA.RecoverError.NoError || !hasRole(ATTESTER_ROLE, signer)) {
            revert FinancingAttestationSigner(signer);
        }

        // Effects.
        request.attestedUntil = attestation.expiry;
        request.advanceRateBps = attestation.advanceRateBps;
        emit FinancingAttested(requestId, signer, attestation.advanceRateBps, attestation.expiry);
    }

    /// @inheritdoc IFinancingMarket
    function attestationDigest(RiskAttestation calldata attestation) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        ATTESTATION_TYPEHASH,
                        attestation.requestId,
                        attestation.certificateId,
                        attestation.price,
                        attestation.repayAmount,
                        attestation.remainingClaim,
                        attestation.advanceRateBps,
                        attestation.expiry
                    )
                )
            );
    }

    /// @inheritdoc IFinancingMarket
    function isAttested(uint256 requestId) external view returns (bool) {
        StoredRequest storage request = _requests[requestId];
        return request.status == RequestStatus.Open && request.attestedUntil >= block.timestamp;
    }

    /* ------------------------------------------------------------------ */
    /*                            Pledge endings                          */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IFinancingMarket
    function repayPledge(uint256 requestId) external nonReentrant {
        StoredRequest storage request = _existing(requestId);
        if (request.status != RequestStatus.Pledged) revert FinancingWrongStatus(requestId, request.status);
        if (request.holder != msg.sender) revert FinancingNotHolder(request.certificateId, msg.sender);

        uint256 amount = request.outstanding;
        _release(requestId, request, amount, 0);

        // The certificate leg first, as in funding: the pledgee may run code when paid.
        certificates.unlock(request.certificateId);
        _pull(msg.sender, request.financier, amount);
    }

    /// @inheritdoc IFinancingMarket
    function foreclose(uint256 requestId) external nonReentrant {
        StoredRequest storage request = _existing(requestId);
        if (request.status != RequestStatus.Pledged) revert FinancingWrongStatus(requestId, request.status);
        if (request.financier != msg.sender) revert FinancingNotPledgee(requestId, msg.sender);
        bytes32 receivableId = certificates.receivableIdOf(request.certificateId);
        IReceivableRegistry.ReceivableStatus status = registry.statusOf(receivableId);
        if (status != IReceivableRegistry.ReceivableStatus.Defaulted) {
            revert IReceivableRegistry.ReceivableWrongStatus(receivableId, status);
        }

        request.status = RequestStatus.Foreclosed;
        delete _activeRequests[request.certificateId];
        emit PledgeForeclosed(requestId, request.certificateId, msg.sender);

        certificates.deliverLocked(request.certificateId, msg.sender);
    }

    /// @inheritdoc IFinancingMarket
    function recordLeafPayment(uint256 certificateId, uint256 toPledgee, bool final_) external {
        if (msg.sender != escrow) revert CallerNotEscrow(msg.sender);
        uint256 requestId = _activeRequests[certificateId];
        if (requestId == 0) return;
        StoredRequest storage request = _requests[requestId];

        if (request.status == RequestStatus.Open) {
            // Paid out (in part or in full) before anyone funded it: its price was set for a
            // larger claim, so no financier may buy it at that price any more.
            request.status = RequestStatus.Cancelled;
            delete _activeRequests[certificateId];
            emit FinancingCancelled(requestId, certificateId);
            // On a final payment the escrow closes the certificate itself, lock included.
            if (!final_) certificates.unlock(certificateId);
            return;
        }
        if (toPledgee == 0 && !final_) return;
        // The escrow never pays a pledgee more than is outstanding.
        uint256 outstanding = request.outstanding - toPledgee;
        request.outstanding = uint128(outstanding);
        emit PledgeRepaid(requestId, toPledgee, outstanding);

        if (outstanding == 0 || final_) {
            _release(requestId, request, 0, outstanding);
            // On a final payment the escrow closes the certificate itself, lock included.
            if (!final_) certificates.unlock(certificateId);
        }
    }

    function _release(uint256 requestId, StoredRequest storage request, uint256 repaid, uint256 shortfall) private {
        request.status = RequestStatus.Released;
        request.outstanding = 0;
        delete _activeRequests[request.certificateId];
        if (repaid != 0) emit PledgeRepaid(requestId, repaid, 0);
        emit PledgeReleased(requestId, request.certificateId, shortfall);
    }

    /* ------------------------------------------------------------------ */
    /*                             Administration                         */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IFinancingMarket
    function wireEscrow(address escrow_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (escrow != address(0) || escrow_ == address(0)) revert EscrowWiringInvalid(escrow_);
        escrow = escrow_;
        emit EscrowWired(escrow_);
    }

    /// @inheritdoc IFinancingMarket
    function wireDilution(address ledger) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (dilutionLedger != address(0) || ledger == address(0)) revert FinancingDilutionWiringInvalid(ledger);
        dilutionLedger = ledger;
        emit DilutionWired(ledger);
    }

    /// @inheritdoc IFinancingMarket
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IFinancingMarket
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /* ------------------------------------------------------------------ */
    /*                                 Views                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IFinancingMarket
    function pledgeOf(
        uint256 certificateId
    ) external view returns (uint256 requestId, address pledgee, uint256 outstanding) {
        requestId = _activeRequests[certificateId];
        StoredRequest storage request = _requests[requestId];
        if (request.status != RequestStatus.Pledged) return (0, address(0), 0);
        return (requestId, request.financier, request.outstanding);
    }

    /// @inheritdoc IFinancingMarket
    function requestOf(uint256 requestId) external view returns (Request memory) {
        StoredRequest storage request = _requests[requestId];
        return
            Request({
                certificateId: request.certificateId,
                holder: request.holder,
                kind: request.kind,
                status: request.status,
                attestedUntil: request.attestedUntil,
                advanceRateBps: request.advanceRateBps,
                financier: request.financier,
                price: request.price,
                repayAmount: request.repayAmount,
                outstanding: request.outstanding
            });
    }

    /// @inheritdoc IFinancingMarket
    function remainingClaimOf(uint256 certificateId) external view returns (uint256) {
        return _remainingClaim(certificateId, certificates.certificateOf(certificateId).faceValue, true);
    }

    /// @notice The EIP-712 domain separator of risk attestations.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IFinancingMarket
    function activeRequestOf(uint256 certificateId) external view returns (uint256) {
        return _activeRequests[certificateId];
    }

    /* ------------------------------------------------------------------ */
    /*                                Helpers                             */
    /* ------------------------------------------------------------------ */

    function _requireTerms(FinancingKind kind, uint256 price, uint256 repayAmount, uint256 faceValue) private pure {
        bool valid =
            price != 0 &&
                price <= faceValue &&
                (
                    kind == FinancingKind.Discount
                        ? repayAmount == 0
                        : (price <= repayAmount && repayAmount <= faceValue)
                );
        if (!valid) revert FinancingTermsInvalid(price, repayAmount, faceValue);
    }

    /// A funding's checks of the receivable and of the claim. The claim is still what it was at
    /// opening: a payout since would have cancelled the request, and a credit note that cut the
    /// piece since (only on a noted receivable) refuses the funding, whose price was set for the
    /// larger claim; the holder cancels and re-opens. Then the financier's view must match it.
    function _requireFundable(
        uint256 requestId,
        uint256 certificateId,
        uint256 dueDate,
        uint256 remainingClaim,
        uint256 expectedRemainingClaim
    ) private view {
        bytes32 receivableId = certificates.receivableIdOf(certificateId);
        (IReceivableRegistry.ReceivableStatus status, bool dilutionNoted) = registry.statusAndDilutionOf(receivableId);
        _requireOpenReceivable(receivableId, dueDate, status, dilutionNoted);
        if (dilutionNoted) {
            uint256 live = _remainingClaim(certificateId, certificates.certificateOf(certificateId).faceValue, true);
            if (live != remainingClaim) revert FinancingRemainingClaimMismatch(requestId, live);
        }
        if (remainingClaim != expectedRemainingClaim) revert FinancingRemainingClaimMismatch(requestId, remainingClaim);
    }

    /// New financing only while the receivable is Active and not yet due (the certificate
    /// carries the due date; `status` and `dilutionNoted` are the registry's statusAndDilutionOf).
    function _requireOpenReceivable(
        bytes32 receivableId,
        uint256 dueDate,
        IReceivableRegistry.ReceivableStatus status,
        bool dilutionNoted
    ) private view {
        if (block.timestamp >= dueDate || status != IReceivableRegistry.ReceivableStatus.Active) {
            revert FinancingReceivableClosed(receivableId);
        }
        // Dilution hook (issue 16): nothing newly financed while the debtor disputes it. The ledger
        // holds nothing on a receivable the registry has not noted (issue 12: a call saved).
        address ledger = dilutionLedger;
        if (ledger != address(0) && dilutionNoted && IDilutionLedger(ledger).isDisputed(receivableId)) {
            revert FinancingReceivableDisputed(receivableId);
        }
    }

    /// Face value minus credit notes (dilution hook, issue 16) minus what the escrow has paid out
    /// on the certificate (before wiring: face value). No credit note without `dilutionNoted`.
    function _remainingClaim(
        uint256 certificateId,
        uint256 faceValue,
        bool dilutionNoted
    ) private view returns (uint256) {
        address ledger = dilutionLedger;
        if (ledger != address(0) && dilutionNoted) faceValue -= IDilutionLedger(ledger).reductionOf(certificateId);
        if (escrow == address(0)) return faceValue;
        return faceValue - ISettlementEscrow(escrow).paidOutOf(certificateId);
    }

    /// Moves `amount` from `from` to `to` and refuses a token that delivers less.
    function _pull(address from, address to, uint256 amount) private {
        uint256 before = settlementToken.balanceOf(to);
        settlementToken.safeTransferFrom(from, to, amount);
        uint256 received = settlementToken.balanceOf(to) - before;
        if (received != amount) revert SettlementTokenShortfall(amount, received);
    }

    function _existing(uint256 requestId) private view returns (StoredRequest storage request) {
        request = _requests[requestId];
        if (request.status == RequestStatus.None) revert FinancingRequestNotFound(requestId);
    }
}
