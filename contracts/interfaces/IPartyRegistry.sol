// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPartyRegistry
/// @notice The on-chain list of parties (suppliers, debtors, financiers) that may hold
/// or receive certificates. A party is an address bound to the hash of its legal registry
/// id (unified social credit code, LEI, ...). Several addresses may share one legal id:
/// the receivable id is derived from legal ids, so the same invoice collides whichever
/// platform or key brings it.
/// @dev The operator (PARTY_MANAGER_ROLE) registers parties and switches them on and off.
/// An inactive party can neither receive nor send certificates.
interface IPartyRegistry {
    /// @notice A party's record.
    /// @param legalIdHash keccak256 of the normalised legal registry id.
    /// @param active whether the party may take part in transfers now.
    struct Party {
        bytes32 legalIdHash;
        bool active;
    }

    /// @notice Emitted when `account` is registered as a party with legal id hash `legalIdHash`.
    event PartyRegistered(address indexed account, bytes32 indexed legalIdHash);

    /// @notice Emitted when the operator activates or suspends `account`.
    event PartyStatusChanged(address indexed account, bool active);

    /// @notice `account` is already a registered party.
    error PartyAlreadyRegistered(address account);

    /// @notice `account` has never been registered.
    error PartyNotRegistered(address account);

    /// @notice `account` is registered but suspended, or not registered at all.
    error PartyNotActive(address account);

    /// @notice A party needs a non-zero address and a non-zero legal id hash.
    error PartyInvalid(address account, bytes32 legalIdHash);

    /// @notice The role allowed to register, activate and suspend parties.
    function PARTY_MANAGER_ROLE() external view returns (bytes32);

    /// @notice The block this contract was deployed in: where an indexer starts.
    function deploymentBlock() external view returns (uint256);

    /// @notice Registers `account` as an active party with legal id hash `legalIdHash`.
    /// @dev Only PARTY_MANAGER_ROLE.
    function registerParty(address account, bytes32 legalIdHash) external;

    /// @notice Activates (`active` true) or suspends (`active` false) a registered party.
    /// @dev Only PARTY_MANAGER_ROLE. Setting the current status again reverts nothing and emits.
    function setPartyActive(address account, bool active) external;

    /// @notice The record of `account` (zero hash if unregistered).
    function partyOf(address account) external view returns (Party memory);

    /// @notice Whether `account` is registered and active.
    function isActive(address account) external view returns (bool);

    /// @notice The legal id hash of `account`; reverts with PartyNotRegistered if unknown.
    function legalIdOf(address account) external view returns (bytes32);
}
