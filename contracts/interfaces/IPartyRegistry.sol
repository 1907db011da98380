// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPartyRegistry
/// @notice The on-chain list of parties (suppliers, debtors, financiers, auditors), and
/// which of them may hold or receive certificates. A party is an address bound to the hash of
/// its legal registry id (unified social credit code, LEI, ...). Several addresses may share one legal id:
/// the receivable id is derived from legal ids, so the same invoice collides whichever
/// platform or key brings it.
/// @dev The operator (PARTY_MANAGER_ROLE) registers parties and switches them on and off.
/// An inactive party can neither receive nor send certificates.
/// Holding is a capability of its own ({Party.mayHold}), set at registration and changed by
/// the party manager: suppliers and financiers hold; an auditor reads and never holds, so a
/// self-custody holder calling the token directly cannot hand it a certificate either. The
/// token asks {mayHold} once per recipient (transfer, split part, market delivery); senders
/// and holders are checked with {isActive} alone, so a party that lost the capability can
/// still pass on what it holds.
/// The operator alone registers only the first address of a legal id. Any further address
/// (an alias) speaks for the same company, and may sign that company's debtor confirmations
/// in the receivable registry; so an alias needs, besides the party manager, either the
/// consent of an active address already registered under that legal id (an EIP-712
/// signature, or ERC-1271 approval for a contract wallet) or the admin (the governor,
/// through the timelock and its delay). Without that gate the party manager's key could add
/// an address of its own to a real debtor and confirm claims on it in the debtor's name.
interface IPartyRegistry {
    /// @notice A party's record.
    /// @param legalIdHash keccak256 of the normalised legal registry id.
    /// @param active whether the party may take part in transfers now.
    /// @param mayHold whether the party may receive certificates while active (suppliers and
    /// financiers); it shares `active`'s slot, so registering writes no extra slot.
    struct Party {
        bytes32 legalIdHash;
        bool active;
        bool mayHold;
    }

    /// @notice An existing address's consent to a new address joining its legal id.
    /// @param approver an active address already registered under the legal id; it signs.
    /// @param nonce any number `approver` has not used for a consent before (unordered).
    /// @param deadline unix time after which the signature is void.
    /// @param signature EIP-712 signature of {ALIAS_CONSENT_TYPEHASH} by `approver` (EOA) or
    /// ERC-1271 approval (contract wallet).
    struct AliasConsent {
        address approver;
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice Emitted when `account` is registered as a party with legal id hash `legalIdHash`
    /// (the first address of a legal id and every alias alike).
    event PartyRegistered(address indexed account, bytes32 indexed legalIdHash);

    /// @notice Emitted when the operator activates or suspends `account`.
    event PartyStatusChanged(address indexed account, bool active);

    /// @notice Emitted when `account`'s capability to hold certificates is set: at every
    /// registration (after PartyStatusChanged) and at every {setPartyMayHold}.
    event PartyHoldingChanged(address indexed account, bool mayHold);

    /// @notice Emitted with PartyRegistered when `account` joins a legal id that already had an
    /// address: `approvedBy` is the existing address that signed its consent, or the admin
    /// (the timelock) that registered it.
    event PartyAliasAdded(address indexed account, bytes32 indexed legalIdHash, address indexed approvedBy);

    /// @notice `account` is already a registered party.
    error PartyAlreadyRegistered(address account);

    /// @notice `account` has never been registered.
    error PartyNotRegistered(address account);

    /// @notice `account` is registered but suspended, or not registered at all.
    error PartyNotActive(address account);

    /// @notice A party needs a non-zero address and a non-zero legal id hash.
    error PartyInvalid(address account, bytes32 legalIdHash);

    /// @notice `legalIdHash` already has an address: `account` may join it only as an alias,
    /// with an existing address's consent ({registerAlias}) or by the admin ({registerAliasByAdmin}).
    error PartyAliasConsentRequired(address account, bytes32 legalIdHash);

    /// @notice `legalIdHash` has no address yet: its first address comes through {registerParty}.
    error PartyLegalIdUnknown(bytes32 legalIdHash);

    /// @notice `approver` is not an active address registered under `legalIdHash`.
    error PartyAliasApproverInvalid(address approver, bytes32 legalIdHash);

    /// @notice The alias consent expired at `deadline`.
    error PartyAliasConsentExpired(uint256 deadline, uint256 nowTime);

    /// @notice `approver` already used `nonce` for another alias consent.
    error PartyAliasNonceUsed(address approver, uint256 nonce);

    /// @notice The signature is not `approver`'s consent to exactly this alias, nonce and deadline.
    error PartyAliasInvalidSignature(address approver);

    /// @notice The role allowed to register, activate and suspend parties, and to grant and
    /// withdraw their capability to hold certificates.
    function PARTY_MANAGER_ROLE() external view returns (bytes32);

    /// @notice The EIP-712 type an existing address signs to let `account` join `legalIdHash`:
    /// `AliasConsent(address account,bytes32 legalIdHash,uint256 nonce,uint256 deadline)`, in the
    /// domain ("Tierline PartyRegistry", "1", chain id, this contract).
    // solhint-disable-next-line func-name-mixedcase
    function ALIAS_CONSENT_TYPEHASH() external view returns (bytes32);

    /// @notice The block this contract was deployed in: where an indexer starts.
    function deploymentBlock() external view returns (uint256);

    /// @notice Registers `account` as the first, active address of legal id hash `legalIdHash`,
    /// allowed to hold certificates if `mayHold` (a supplier or financier; false for an auditor).
    /// Emits PartyRegistered, PartyStatusChanged and PartyHoldingChanged.
    /// @dev Only PARTY_MANAGER_ROLE. Reverts with PartyAliasConsentRequired if `legalIdHash`
    /// already has an address: further addresses go through {registerAlias} or
    /// {registerAliasByAdmin}. There is no default: every registration states the capability.
    function registerParty(address account, bytes32 legalIdHash, bool mayHold) external;

    /// @notice Registers `account` as a further, active address of `legalIdHash`, with the
    /// consent of an existing active address of that legal id. The alias speaks for the same
    /// company, so it takes the approver's capability to hold. Emits PartyRegistered,
    /// PartyStatusChanged, PartyHoldingChanged and PartyAliasAdded (approvedBy =
    /// `consent.approver`), and uses the approver's nonce.
    /// @dev Only PARTY_MANAGER_ROLE. Checks, in order: the address and hash (PartyInvalid,
    /// PartyAlreadyRegistered), that the legal id has an address (PartyLegalIdUnknown), the
    /// approver (PartyAliasApproverInvalid), the deadline, the nonce and the signature.
    function registerAlias(address account, bytes32 legalIdHash, AliasConsent calldata consent) external;

    /// @notice Registers `account` as a further, active address of `legalIdHash` on the
    /// admin's word alone: for a company that lost the keys of every address it had. No
    /// address of the company vouches for it, so the admin states its capability to hold
    /// (`mayHold`). Emits PartyRegistered, PartyStatusChanged, PartyHoldingChanged and
    /// PartyAliasAdded (approvedBy = the admin).
    /// @dev Only DEFAULT_ADMIN_ROLE (the timelock: the governor proposes, waits out the delay,
    /// executes). Reverts with PartyLegalIdUnknown if `legalIdHash` has no address yet.
    function registerAliasByAdmin(address account, bytes32 legalIdHash, bool mayHold) external;

    /// @notice Activates (`active` true) or suspends (`active` false) a registered party.
    /// @dev Only PARTY_MANAGER_ROLE. Setting the current status again reverts nothing and emits.
    function setPartyActive(address account, bool active) external;

    /// @notice Grants (`mayHold` true) or withdraws (false) a registered party's capability to
    /// receive certificates. What it holds already stays with it, and it may still pass it on.
    /// @dev Only PARTY_MANAGER_ROLE. Reverts with PartyNotRegistered for an unknown address.
    /// Setting the current value again reverts nothing and emits PartyHoldingChanged.
    function setPartyMayHold(address account, bool mayHold) external;

    /// @notice The record of `account` (zero hash if unregistered).
    function partyOf(address account) external view returns (Party memory);

    /// @notice Whether `account` is registered and active.
    function isActive(address account) external view returns (bool);

    /// @notice Whether `account` may receive a certificate now: registered, active and allowed
    /// to hold. One call per recipient check (both flags share one slot).
    function mayHold(address account) external view returns (bool);

    /// @notice The legal id hash of `account`; reverts with PartyNotRegistered if unknown.
    function legalIdOf(address account) external view returns (bytes32);

    /// @notice How many addresses were ever registered under `legalIdHash` (suspended ones included).
    function addressCountOf(bytes32 legalIdHash) external view returns (uint256);

    /// @notice The EIP-712 digest an existing address signs to let `account` join `legalIdHash`
    /// under `nonce`, valid until `deadline`.
    function aliasConsentDigest(
        address account,
        bytes32 legalIdHash,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice Whether `approver` has used alias-consent nonce `nonce`.
    function aliasNonceUsed(address approver, uint256 nonce) external view returns (bool);
}
