// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IFinancingMarket
/// @notice Financing of certificates, delivery versus payment. A holder opens a request
/// (discount sale or pledge); the certificate locks at once, so it can be in at most one
/// financing at a time (the double-pledge defence). A financier funds the request in one
/// call: the settlement token goes to the holder and the certificate (discount) or the
/// pledge (pledge) to the financier, or nothing moves.
/// @dev Request lifecycle: Open -> Cancelled | Sold (discount) | Pledged -> Released | Foreclosed.
interface IFinancingMarket {
    /// @notice Discount: the financier buys the certificate for `price`. Pledge: the financier
    /// lends `price` against the locked certificate and is owed `repayAmount` from its payout.
    enum FinancingKind {
        Discount,
        Pledge
    }

    /// @notice Where a request is. `None` means never opened.
    enum RequestStatus {
        None,
        Open,
        Cancelled,
        Sold,
        Pledged,
        Released,
        Foreclosed
    }

    /// @notice One financing request and, once funded, its outcome.
    struct Request {
        uint256 certificateId;
        address holder;
        FinancingKind kind;
        RequestStatus status;
        /// Until when (unix time) the service's risk attestation of these terms holds; 0 = unattested.
        uint64 attestedUntil;
        /// The advance rate (bps of face) the attestation allowed; 0 = unattested.
        uint16 advanceRateBps;
        address financier;
        uint256 price;
        uint256 repayAmount;
        uint256 outstanding;
    }

    /// @notice Emitted when `holder` opens request `requestId` on `certificateId`.
    event FinancingRequested(
        uint256 indexed requestId,
        uint256 indexed certificateId,
        address indexed holder,
        FinancingKind kind,
        uint256 price,
        uint256 repayAmount
    );

    /// @notice The service's EIP-712 risk attestation of a request: it checked the holder's credit
    /// limits and advance-rate rules and vouches for exactly these terms until `expiry`.
    struct RiskAttestation {
        uint256 requestId;
        uint256 certificateId;
        uint256 price;
        uint256 repayAmount;
        uint256 remainingClaim;
        uint16 advanceRateBps;
        uint64 expiry;
    }

    /// @notice Emitted when `attester`'s risk attestation of `requestId` is recorded.
    event FinancingAttested(uint256 indexed requestId, address indexed attester, uint16 advanceRateBps, uint64 expiry);

    /// @notice Emitted when the holder cancels an unfunded request, or a payout on the
    /// certificate made its price stale.
    event FinancingCancelled(uint256 indexed requestId, uint256 indexed certificateId);

    /// @notice Emitted when `financier` funds `requestId`, paying `price` to the holder.
    event FinancingFunded(
        uint256 indexed requestId,
        uint256 indexed certificateId,
        address indexed financier,
        FinancingKind kind,
        uint256 price
    );

    /// @notice Emitted when `amount` of a pledge loan is repaid; `outstanding` remains.
    event PledgeRepaid(uint256 indexed requestId, uint256 amount, uint256 outstanding);

    /// @notice Emitted when a pledge ends and the certificate is free; `shortfall` stayed unpaid.
    event PledgeReleased(uint256 indexed requestId, uint256 indexed certificateId, uint256 shortfall);

    /// @notice Emitted when the pledgee takes the certificate after the receivable defaulted.
    event PledgeForeclosed(uint256 indexed requestId, uint256 indexed certificateId, address indexed pledgee);

    /// @notice Emitted once, when the settlement escrow is wired in.
    event EscrowWired(address escrow);

    /// @notice No request `requestId` exists.
    error FinancingRequestNotFound(uint256 requestId);

    /// @notice `requestId` is `status`, not what this action needs.
    error FinancingWrongStatus(uint256 requestId, RequestStatus status);

    /// @notice `caller` is not the holder of the certificate or request.
    error FinancingNotHolder(uint256 certificateId, address caller);

    /// @notice `caller` is not the pledgee of `requestId`.
    error FinancingNotPledgee(uint256 requestId, address caller);

    /// @notice Terms are inconsistent: need 0 < price <= face, and for a pledge
    /// price <= repayAmount <= face; for a discount repayAmount must be 0.
    error FinancingTermsInvalid(uint256 price, uint256 repayAmount, uint256 faceValue);

    /// @notice The funder expected other terms than the request has (front-run protection).
    error FinancingTermsMismatch(uint256 requestId, uint256 price, uint256 repayAmount);

    /// @notice The funder expected another remaining claim (face value minus what the certificate
    /// was paid out already) than the certificate has now.
    error FinancingRemainingClaimMismatch(uint256 requestId, uint256 remainingClaim);

    /// @notice `requestId` has no valid (recorded, unexpired) risk attestation.
    error FinancingNotAttested(uint256 requestId);

    /// @notice The attestation does not describe `requestId` as it stands (terms, remaining claim, status).
    error FinancingAttestationMismatch(uint256 requestId);

    /// @notice The attestation expired at `expiry`.
    error FinancingAttestationExpired(uint64 expiry, uint256 nowTime);

    /// @notice The attestation was not signed by a holder of ATTESTER_ROLE (`signer` recovered).
    error FinancingAttestationSigner(address signer);

    /// @notice A holder cannot fund its own request.
    error FinancingSelfFunding(uint256 requestId);

    /// @notice The receivable behind the certificate is past due or closed: no new financing.
    error FinancingReceivableClosed(bytes32 receivableId);

    /// @notice The token moved `received` where `expected` was due (fee-on-transfer tokens refused).
    error SettlementTokenShortfall(uint256 expected, uint256 received);

    /// @notice Only the wired settlement escrow may call this; `caller` is not it.
    error CallerNotEscrow(address caller);

    /// @notice The escrow was wired already, or a zero address was given.
    error EscrowWiringInvalid(address escrow);

    /* ----------------------- Dilution (issue 16) ----------------------- */

    /// @notice Emitted once, when the dilution ledger is wired in.
    event DilutionWired(address dilutionLedger);

    /// @notice The debtor disputes `receivableId`: no new request and no funding until it ends.
    error FinancingReceivableDisputed(bytes32 receivableId);

    /// @notice The dilution ledger was wired already, or `ledger` is zero.
    error FinancingDilutionWiringInvalid(address ledger);

    /// @notice The dilution ledger whose disputes stop new financing and whose credit notes
    /// lower remaining claims (zero before it is wired).
    function dilutionLedger() external view returns (address);

    /// @notice Wires the dilution ledger, once. Only DEFAULT_ADMIN_ROLE.
    function wireDilution(address ledger) external;

    /* ------------------------------------------------------------------ */

    /// @notice The role whose EIP-712 signatures attest requests (the service's risk key).
    function ATTESTER_ROLE() external view returns (bytes32);

    /// @notice The EIP-712 type hash of a RiskAttestation.
    function ATTESTATION_TYPEHASH() external view returns (bytes32);

    /// @notice The role allowed to pause and unpause financing.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice The block this contract was deployed in: where an indexer starts.
    function deploymentBlock() external view returns (uint256);

    /// @notice Opens a financing request on `certificateId` and locks it.
    /// @dev Only the certificate's holder; not while paused. Terms are checked against the
    /// remaining claim (face value minus what was paid out on it already).
    function openRequest(
        uint256 certificateId,
        FinancingKind kind,
        uint256 price,
        uint256 repayAmount
    ) external returns (uint256 requestId);

    /// @notice Cancels an unfunded request and unlocks the certificate. Only its holder.
    function cancelRequest(uint256 requestId) external;

    /// @notice Funds `requestId`: pays `price` in the settlement token to the holder and takes
    /// the certificate (discount) or the pledge (pledge), atomically.
    /// @dev A discount's certificate is delivered before the price is paid, so a holder that runs
    /// code on receipt of the price cannot take a payout of the piece it has just sold: whatever
    /// the escrow pays on it from then on goes to the financier. The funder names the price, the
    /// repay amount and the remaining claim (face value minus paid out so far) it was shown;
    /// anything else reverts. The funder must be an active party and have approved this contract
    /// for `price`.
    function fund(
        uint256 requestId,
        uint256 expectedPrice,
        uint256 expectedRepayAmount,
        uint256 expectedRemainingClaim
    ) external;

    /// @notice As {fund}, and only if the request carries a valid risk attestation.
    function fundAttested(
        uint256 requestId,
        uint256 expectedPrice,
        uint256 expectedRepayAmount,
        uint256 expectedRemainingClaim
    ) external;

    /// @notice Records the service's signed risk attestation of an open request. Anyone may submit
    /// it; it must match the request as it stands and be signed by an ATTESTER_ROLE holder.
    function attestRequest(RiskAttestation calldata attestation, bytes calldata signature) external;

    /// @notice The EIP-712 digest an attester signs for `attestation`.
    function attestationDigest(RiskAttestation calldata attestation) external view returns (bytes32);

    /// @notice Whether `requestId` is open and carries an unexpired risk attestation.
    function isAttested(uint256 requestId) external view returns (bool);

    /// @notice What `certificateId` can still pay: face value minus credit notes (its dilution
    /// ledger reduction) minus what was paid out on it.
    function remainingClaimOf(uint256 certificateId) external view returns (uint256);

    /// @notice The holder repays what is outstanding on a pledge and frees the certificate.
    function repayPledge(uint256 requestId) external;

    /// @notice After the receivable defaulted, the pledgee takes the pledged certificate.
    function foreclose(uint256 requestId) external;

    /// @notice The escrow reports that leaf `certificateId` was paid, `toPledgee` of it to the
    /// pledgee; `final_` true when the receivable is repaid in full and the certificate closes.
    /// Frees a pledge once nothing is owed (or on the final payment, with any shortfall
    /// reported), and cancels a still-open request on any payout (its price was for a larger claim).
    /// @dev Only the wired settlement escrow.
    function recordLeafPayment(uint256 certificateId, uint256 toPledgee, bool final_) external;

    /// @notice The live pledge on `certificateId`: request id, pledgee and amount still owed
    /// (all zero if none).
    function pledgeOf(
        uint256 certificateId
    ) external view returns (uint256 requestId, address pledgee, uint256 outstanding);

    /// @notice The request `requestId`.
    function requestOf(uint256 requestId) external view returns (Request memory);

    /// @notice The open, or pledged, request on `certificateId` (0 if none).
    function activeRequestOf(uint256 certificateId) external view returns (uint256);

    /// @notice The number of requests ever opened (ids run from 1).
    function requestCount() external view returns (uint256);

    /// @notice Wires the settlement escrow, once. Only DEFAULT_ADMIN_ROLE.
    function wireEscrow(address escrow) external;

    /// @notice Stops opening and funding. Cancel, pledge repayment and settlement still work.
    function pause() external;

    /// @notice Resumes financing.
    function unpause() external;
}
