// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ICertificateToken} from "./ICertificateToken.sol";
import {IPartyRegistry} from "./IPartyRegistry.sol";

/// @title IReceivableRegistry
/// @notice The shared registry of trade receivables. It refuses the same invoice twice,
/// whoever brings it, and it refuses any receivable the debtor has not confirmed with an
/// EIP-712 signature: the operator alone can never create a claim on a debtor.
/// @dev Lifecycle (one way): Active -> Overdue -> Defaulted, and Active|Overdue|Defaulted -> Repaid
/// (a debtor may still pay after default; the money reaches the holders, a pledgee first).
/// The grace period and the debtor's early-payment rate are snapshotted into each receivable
/// when it is registered: later changes apply to later receivables only, never to claims
/// already sold or pledged.
/// A receivable id, once registered, can never be registered again, whatever its status.
interface IReceivableRegistry {
    /// @notice Where a receivable is in its life. `None` means never registered.
    enum ReceivableStatus {
        None,
        Active,
        Overdue,
        Defaulted,
        Repaid
    }

    /// @notice What the registrar submits; the id is derived on-chain from legal ids.
    /// @param seller the supplier that delivered the goods and receives the root certificate.
    /// @param debtor the buyer that owes the money and signed the confirmation.
    /// @param invoiceNumberHash keccak256 of the normalised invoice number.
    /// @param documentHash anchor of the off-chain trade documents (never stored in clear).
    /// @param faceValue amount owed, in the settlement token's smallest unit.
    /// @param dueDate unix time the debtor must have paid by.
    struct ReceivableTerms {
        address seller;
        address debtor;
        bytes32 invoiceNumberHash;
        bytes32 documentHash;
        uint256 faceValue;
        uint64 dueDate;
    }

    /// @notice The debtor's consent to one receivable.
    /// @param nonce any number of the debtor's choosing. It is signed, not stored: a confirmation
    /// is spent by the one registration it confirms, since its digest binds the receivable id and
    /// the registry never accepts an id twice (so no nonce slot is written per registration).
    /// @param deadline unix time after which the signature is void.
    /// @param signature EIP-712 signature by the debtor (EOA) or ERC-1271 approval (contract).
    struct DebtorConfirmation {
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice One item of a batch registration: the terms and the debtor's consent to them,
    /// exactly as `register` takes them.
    struct Registration {
        ReceivableTerms terms;
        DebtorConfirmation confirmation;
    }

    /// @notice A registered receivable, as `receivableOf` returns it.
    /// @dev The registry stores only what its own checks and the other contracts read (seller,
    /// debtor, status, dates, rate, amounts, root certificate). `registrar` and `documentHash` are
    /// not stored: they are always zero here, and ReceivableRegistered is their record.
    struct Receivable {
        address seller;
        address debtor;
        /// Not stored: always zero. See ReceivableRegistered.
        address registrar;
        ReceivableStatus status;
        uint64 dueDate;
        /// The block time of ReceivableRegistered.
        uint64 registeredAt;
        /// The grace period (seconds after the due date before default) frozen at registration.
        uint64 gracePeriod;
        /// The debtor's early-payment rate (annual bps) frozen at registration.
        uint16 earlyPaymentRateBps;
        uint256 faceValue;
        uint256 repaidAmount;
        /// Not stored: always zero. See ReceivableRegistered.
        bytes32 documentHash;
        uint256 rootCertificateId;
    }

    /// @notice The receivable's tree of certificates as the certificate token keeps it here, in the
    /// receivable's record beside the seller: registration writes that slot anyway, so the tree costs
    /// no slot of its own (issue 12). Only the wired certificate token writes the leaf count and the
    /// root's state; its own events (CertificateIssued, CertificateSplit, the lock and settlement
    /// events) are their record.
    struct CertificateTree {
        uint256 rootCertificateId;
        uint256 faceValue;
        uint64 dueDate;
        /// Live, locked or settled certificates of the receivable (a split adds parts - 1).
        uint256 leafCount;
        ICertificateToken.CertificateState rootState;
    }

    /// @notice Emitted once per receivable, when it is written into the registry.
    event ReceivableRegistered(
        bytes32 indexed receivableId,
        address indexed seller,
        address indexed debtor,
        address registrar,
        uint256 faceValue,
        uint64 dueDate,
        bytes32 documentHash,
        uint256 rootCertificateId
    );

    /// @notice Emitted with ReceivableRegistered: the terms frozen into `receivableId` for its whole life.
    event ReceivableTermsFrozen(bytes32 indexed receivableId, uint64 gracePeriod, uint16 earlyPaymentRateBps);

    /// @notice Emitted by `registerBatch` for item `index`, which was not registered: `reason` is the
    /// ABI-encoded custom error `register` would have reverted with for the same item (decode it with
    /// this contract's ABI). `receivableId` is zero when the item was refused before its parties were
    /// found active (zero face value, self dealing, due date, inactive party): the id is derived from
    /// their legal ids. Nothing is written for a refused item.
    event RegistrationRefused(
        uint256 indexed index,
        bytes32 indexed receivableId,
        address indexed debtor,
        bytes reason
    );

    /// @notice Emitted when the settlement escrow records money received for `receivableId`.
    event RepaymentRecorded(bytes32 indexed receivableId, uint256 amount, uint256 repaidAmount);

    /// @notice Emitted when a receivable changes status (Overdue, Defaulted, Repaid).
    event ReceivableStatusChanged(bytes32 indexed receivableId, ReceivableStatus status);

    /// @notice Emitted when the operator sets the grace period between due date and default.
    event GracePeriodSet(uint64 gracePeriod);

    /// @notice Emitted when the operator sets the early-payment discount rate of `debtor`
    /// (annual, in basis points; 0 switches early discounting off).
    event EarlyPaymentRateSet(address indexed debtor, uint16 rateBps);

    /// @notice Emitted when `receivableId` is discharged early: `paid` settles the whole
    /// outstanding amount, `discount` is what the holders gave up for being paid early.
    event ReceivableDischargedEarly(bytes32 indexed receivableId, uint256 paid, uint256 discount);

    /// @notice Emitted once, when the certificate token and settlement escrow are wired in.
    event ContractsWired(address certificateToken, address settlementEscrow);

    /// @notice `receivableId` is already in the registry (it may be settled; ids never recycle).
    error ReceivableAlreadyRegistered(bytes32 receivableId);

    /// @notice `receivableId` is not in the registry.
    error ReceivableNotFound(bytes32 receivableId);

    /// @notice The action needs `receivableId` in another status than `status`.
    error ReceivableWrongStatus(bytes32 receivableId, ReceivableStatus status);

    /// @notice The receivable is not yet past `notBefore` (the due date, or due date + grace).
    error ReceivableNotYetDue(bytes32 receivableId, uint256 notBefore, uint256 nowTime);

    /// @notice The face value must be above zero.
    error ReceivableZeroFaceValue();

    /// @notice Seller and debtor must be two different parties.
    error ReceivableSelfDealing(address party);

    /// @notice The seller is an active party that may not hold certificates (an auditor): it could
    /// never receive the root.
    error ReceivableSellerMayNotHold(address seller);

    /// @notice The due date `dueDate` is not after `nowTime`.
    error ReceivableDueDateInPast(uint64 dueDate, uint256 nowTime);

    /// @notice Seller or debtor `account` is not an active party. The very error of
    /// {IPartyRegistry-PartyNotActive} (same signature, same selector), declared here too so that
    /// registration's refusals are all in this contract's ABI.
    error PartyNotActive(address account);

    /// @notice The face value is above `max` (2^96 - 1 smallest units), what the registry stores.
    error ReceivableFaceValueTooLarge(uint256 faceValue, uint256 max);

    /// @notice The due date is after `max` (2^40 - 1 seconds, year 36812), what the registry stores.
    error ReceivableDueDateTooFar(uint64 dueDate, uint256 max);

    /// @notice A grace period above `max` (2^32 - 1 seconds, 136 years) is refused.
    error GracePeriodTooLong(uint64 gracePeriod, uint256 max);

    /// @notice The debtor's confirmation expired at `deadline`.
    error ConfirmationExpired(uint256 deadline, uint256 nowTime);

    /// @notice The signature is not the debtor's consent to exactly these terms.
    error ConfirmationInvalidSignature(address debtor);

    /// @notice Repayment of `amount` would take `receivableId` past its face value.
    error RepaymentExceedsOutstanding(bytes32 receivableId, uint256 amount, uint256 outstanding);

    /// @notice `debtor` has no early-payment discount rate, the receivable is already due, or
    /// rate x time to maturity is a year or more (the discount would swallow the claim).
    error EarlyPaymentUnavailable(bytes32 receivableId, uint16 rateBps, uint64 dueDate);

    /// @notice An early-payment rate above 100% a year (10,000 bps) is refused.
    error EarlyPaymentRateTooHigh(uint16 rateBps);

    /// @notice The contracts were wired already.
    error AlreadyWired();

    /// @notice Registration needs the certificate token and escrow wired first.
    error NotWired();

    /// @notice Only the wired settlement escrow may record repayments; `caller` is not it.
    error CallerNotEscrow(address caller);

    /// @notice Only the wired certificate token may record its trees' state; `caller` is not it.
    error CallerNotCertificates(address caller);

    /// @notice A zero address where a contract was expected.
    error ZeroAddress();

    /* ----------------------- Dilution (issue 16) ----------------------- */

    /// @notice Emitted when the dilution ledger records credit note `amount` on `receivableId`;
    /// `credited` is its total: the debtor owes faceValue - credited from now on.
    event CreditRecorded(bytes32 indexed receivableId, uint256 amount, uint256 credited);

    /// @notice Emitted once, when the dilution ledger (disputes and credit notes) is wired in.
    event DilutionLedgerWired(address dilutionLedger);

    /// @notice Emitted once per receivable, when the dilution ledger first opens a dispute on it
    /// (or records a credit): from then on the token and the market ask the ledger about it.
    event DilutionNoted(bytes32 indexed receivableId);

    /// @notice Only the wired dilution ledger may record credit notes; `caller` is not it.
    error CallerNotDilutionLedger(address caller);

    /// @notice The dilution ledger (disputes and credit notes), or zero before it is wired.
    function dilutionLedger() external view returns (address);

    /// @notice The total of credit notes applied to `receivableId`: the debtor owes
    /// faceValue - creditedOf - repaidAmount, and the receivable is Repaid when that reaches zero.
    function creditedOf(bytes32 receivableId) external view returns (uint256);

    /// @notice Records a credit note of `amount` on `receivableId`: only while Active or Overdue
    /// and before any repayment, never past the face value. Marks Repaid when credited in full.
    /// @dev Only the wired dilution ledger.
    function recordCredit(bytes32 receivableId, uint256 amount) external;

    /// @notice Notes, once and for good, that the dilution ledger holds something on `receivableId`
    /// (a dispute, open or closed, or a credit). Until then the certificate token's splits and the
    /// market's openings and fundings skip the ledger: nothing there can concern the receivable.
    /// @dev Only the wired dilution ledger, before the first dispute it opens on the receivable.
    function noteDilution(bytes32 receivableId) external;

    /// @notice Wires the dilution ledger, once. Only DEFAULT_ADMIN_ROLE.
    function wireDilution(address ledger) external;

    /* ------------------------------------------------------------------ */

    /// @notice The role of platforms allowed to register receivables.
    function REGISTRAR_ROLE() external view returns (bytes32);

    /// @notice The role allowed to pause and unpause registration.
    function PAUSER_ROLE() external view returns (bytes32);

    /// @notice The EIP-712 type hash of the debtor's confirmation.
    function CONFIRMATION_TYPEHASH() external view returns (bytes32);

    /// @notice The block this contract was deployed in: where an indexer starts.
    function deploymentBlock() external view returns (uint256);

    /// @notice Seconds between due date and the moment a receivable registered from now on may be
    /// defaulted (each receivable keeps the value it was registered with).
    function gracePeriod() external view returns (uint64);

    /// @notice The settlement token every receivable here is denominated in.
    function settlementToken() external view returns (address);

    /// @notice The party registry sellers and debtors are checked against, and whose legal ids
    /// make receivable ids (the dilution ledger reads the seller's company from it too).
    function parties() external view returns (IPartyRegistry);

    /// @notice The receivable id of an invoice: keccak256(abi.encode(sellerLegalId,
    /// debtorLegalId, invoiceNumberHash)). Legal ids, not addresses, so other keys collide too.
    function computeReceivableId(
        bytes32 sellerLegalId,
        bytes32 debtorLegalId,
        bytes32 invoiceNumberHash
    ) external pure returns (bytes32);

    /// @notice The id the registry would give `terms` (reverts if a party is unregistered).
    function receivableIdOf(ReceivableTerms calldata terms) external view returns (bytes32);

    /// @notice The EIP-712 digest the debtor signs to confirm `terms` under `nonce` and `deadline`.
    function confirmationDigest(
        ReceivableTerms calldata terms,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice Registers a receivable confirmed by its debtor and issues the root certificate
    /// to the seller.
    /// @dev Only REGISTRAR_ROLE; not while paused. Seller and debtor must be active parties. The face
    /// value must fit 96 bits and the due date 40 bits (ReceivableFaceValueTooLarge, ReceivableDueDateTooFar).
    /// @return receivableId the id derived from the parties' legal ids and the invoice number.
    /// @return rootCertificateId the certificate issued to the seller.
    function register(
        ReceivableTerms calldata terms,
        DebtorConfirmation calldata confirmation
    ) external returns (bytes32 receivableId, uint256 rootCertificateId);

    /// @notice Registers many receivables in one transaction, each exactly as `register` would, with an
    /// outcome per item: one bad item never sinks the batch.
    /// @dev Only REGISTRAR_ROLE; not while paused; the registry must be wired. Those three revert the
    /// whole batch. Every other refusal `register` knows (terms, parties, duplicates, including an id
    /// twice in the same batch, expired confirmation, signature) skips the item: nothing is written for
    /// it, `rootCertificateIds[i]` is 0 and `RegistrationRefused` carries the error. A registered item
    /// emits the same events, in the same order, as `register`. Items are taken in order, so of two
    /// items with the same id the first one wins.
    /// @return receivableIds the id of each item (zero where it was refused before its id was known).
    /// @return rootCertificateIds the root certificate issued for each item, 0 where it was refused.
    function registerBatch(
        Registration[] calldata items
    ) external returns (bytes32[] memory receivableIds, uint256[] memory rootCertificateIds);

    /// @notice Marks a receivable past its due date and not repaid as Overdue. Anyone may call.
    function markOverdue(bytes32 receivableId) external;

    /// @notice Marks a receivable past due date + grace and not repaid as Defaulted. Anyone may call.
    function markDefaulted(bytes32 receivableId) external;

    /// @notice Records `amount` received by the escrow; marks Repaid at face value. Accepted while
    /// Active, Overdue or Defaulted (late payment after default still reaches the holders).
    /// @dev Only the wired settlement escrow.
    /// @return repaidAmount the receivable's cumulative repaid amount after this payment.
    function recordRepayment(bytes32 receivableId, uint256 amount) external returns (uint256 repaidAmount);

    /// @notice Early discharge: the escrow reports `paid` as settling the whole outstanding
    /// amount before the due date; the receivable becomes Repaid below face value.
    /// @dev Only the wired settlement escrow.
    function recordEarlyDischarge(bytes32 receivableId, uint256 paid, uint256 discount) external;

    /// @notice The early-payment discount rate of `debtor` for receivables registered from now on,
    /// annual basis points (each receivable keeps the rate it was registered with).
    function earlyPaymentRateOf(address debtor) external view returns (uint16);

    /// @notice Sets the early-payment discount rate of `debtor` (annual bps, <= 10,000) for receivables
    /// registered from now on. Only REGISTRAR_ROLE: a registration term, with no power over existing claims.
    function setEarlyPaymentRate(address debtor, uint16 rateBps) external;

    /// @notice Sets the grace period of receivables registered from now on (at most 2^32 - 1 seconds).
    /// Only DEFAULT_ADMIN_ROLE.
    function setGracePeriod(uint64 newGracePeriod) external;

    /// @notice Wires the certificate token and settlement escrow, once. Only DEFAULT_ADMIN_ROLE.
    function wire(address certificateToken, address settlementEscrow) external;

    /// @notice Stops new registrations. Repayment keeps working. Only PAUSER_ROLE.
    function pause() external;

    /// @notice Resumes registrations. Only PAUSER_ROLE.
    function unpause() external;

    /// @notice The receivable `receivableId` (status None if unknown).
    function receivableOf(bytes32 receivableId) external view returns (Receivable memory);

    /// @notice The status of `receivableId`.
    function statusOf(bytes32 receivableId) external view returns (ReceivableStatus);

    /// @notice The debtor of `receivableId` (zero if unknown). One slot: the certificate token
    /// reads it on every transfer to keep the receivable's certificates away from its debtor.
    function debtorOf(bytes32 receivableId) external view returns (address);

    /// @notice The debtor of `receivableId` while its certificates may be split: the receivable is
    /// active, nothing of it is repaid yet (shares already paid would be paid twice) and it is not
    /// yet due; zero otherwise (and if unknown). And whether the dilution ledger holds anything on
    /// it (see noteDilution). The certificate token's split check, in one call.
    function splitTermsOf(bytes32 receivableId) external view returns (address debtor, bool dilutionNoted);

    /// @notice The status of `receivableId`, and whether the dilution ledger holds anything on it
    /// (see noteDilution). The financing market's check before it opens or funds a request.
    function statusAndDilutionOf(
        bytes32 receivableId
    ) external view returns (ReceivableStatus status, bool dilutionNoted);

    /// @notice The due date of `receivableId` (zero if unknown). One slot: a child certificate's due date.
    function dueDateOf(bytes32 receivableId) external view returns (uint64);

    /* --------------- The certificate tree (kept for the token) --------------- */

    /// @notice The tree of certificates of `receivableId` (all zero if unknown). See CertificateTree.
    function treeOf(bytes32 receivableId) external view returns (CertificateTree memory);

    /// @notice The state of the root certificate of `receivableId` (None until its root is issued).
    function rootStateOf(bytes32 receivableId) external view returns (ICertificateToken.CertificateState);

    /// @notice The seller of `receivableId` while its root certificate is live or locked; zero once
    /// the root is retired or settled, and for an unknown id.
    /// @dev The certificate token asks only for a root whose ERC-721 owner slot it never wrote (a root
    /// its seller still holds: registration writes no owner slot, the root's first transfer does).
    function liveRootSellerOf(bytes32 receivableId) external view returns (address);

    /// @notice Records the new state of the root certificate of `receivableId` (a lock, its lifting,
    /// settlement). Only the wired certificate token.
    function recordRootState(bytes32 receivableId, ICertificateToken.CertificateState state) external;

    /// @notice Records a split in the tree of `receivableId`: `addedLeaves` more leaves (parts - 1), and
    /// the root retired when it was the certificate split. Only the wired certificate token.
    function recordSplit(bytes32 receivableId, uint256 addedLeaves, bool rootRetired) external;
}
