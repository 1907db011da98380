// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IPartyRegistry} from "./interfaces/IPartyRegistry.sol";

/// @title PartyRegistry
/// @notice Which addresses are parties, and which of them are active. See {IPartyRegistry}.
contract PartyRegistry is IPartyRegistry, AccessControl {
    /// @inheritdoc IPartyRegistry
    bytes32 public constant PARTY_MANAGER_ROLE = keccak256("PARTY_MANAGER_ROLE");

    /// @inheritdoc IPartyRegistry
    uint256 public immutable deploymentBlock;

    mapping(address account => Party) private _parties;

    constructor(address admin) {
        deploymentBlock = block.number;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PARTY_MANAGER_ROLE, admin);
    }

    /* ------------------------------------------------------------------ */
    /*                              Management                            */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IPartyRegistry
    function registerParty(address account, bytes32 legalIdHash) external onlyRole(PARTY_MANAGER_ROLE) {
        if (account == address(0) || legalIdHash == bytes32(0)) revert PartyInvalid(account, legalIdHash);
        if (_parties[account].legalIdHash != bytes32(0)) revert PartyAlreadyRegistered(account);

        _parties[account] = Party({legalIdHash: legalIdHash, active: true});

        emit PartyRegistered(account, legalIdHash);
        emit PartyStatusChanged(account, true);
    }

    /// @inheritdoc IPartyRegistry
    function setPartyActive(address account, bool active) external onlyRole(PARTY_MANAGER_ROLE) {
        if (_parties[account].legalIdHash == bytes32(0)) revert PartyNotRegistered(account);

        _parties[account].active = active;

        emit PartyStatusChanged(account, active);
    }

    /* ------------------------------------------------------------------ */
    /*                                 Views                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IPartyRegistry
    function partyOf(address account) external view returns (Party memory) {
        return _parties[account];
    }

    /// @inheritdoc IPartyRegistry
    function isActive(address account) external view returns (bool) {
        return _parties[account].active;
    }

    /// @inheritdoc IPartyRegistry
    function legalIdOf(address account) external view returns (bytes32) {
        bytes32 legalIdHash = _parties[account].legalIdHash;
        if (legalIdHash == bytes32(0)) revert PartyNotRegistered(account);
        return legalIdHash;
    }
}
