// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IPartyRegistry} from "./interfaces/IPartyRegistry.sol";

/// @title PartyRegistry
/// @notice Which addresses are parties, which of them are active, and which may hold
/// certificates. See {IPartyRegistry}.
contract PartyRegistry is IPartyRegistry, AccessControl, EIP712 {
    /// @inheritdoc IPartyRegistry
    bytes32 public constant PARTY_MANAGER_ROLE = keccak256("PARTY_MANAGER_ROLE");
    /// @inheritdoc IPartyRegistry
    bytes32 public constant ALIAS_CONSENT_TYPEHASH = keccak256(
        "AliasConsent(address account,bytes32 legalIdHash,uint256 nonce,uint256 deadline)"
    );

    /// @inheritdoc IPartyRegistry
    uint256 public immutable deploymentBlock;

    mapping(address account => Party) private _parties;
    mapping(bytes32 legalIdHash => uint256 count) private _addressCount;
    mapping(address approver => mapping(uint256 nonce => bool)) private _aliasNonceUsed;

    constructor(address admin) EIP712("Tierline PartyRegistry", "1") {
        deploymentBlock = block.number;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PARTY_MANAGER_ROLE, admin);
    }

    /* ------------------------------------------------------------------ */
    /*                              Management                            */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IPartyRegistry
    function registerParty(address account, bytes32 legalIdHash, bool mayHold_) external onlyRole(PARTY_MANAGER_ROLE) {
        _checkNewAddress(account, legalIdHash);
        // A further address speaks for the company: the party manager alone may not add one.
        if (_addressCount[legalIdHash] != 0) revert PartyAliasConsentRequired(account, legalIdHash);

        _register(account, legalIdHash, mayHold_);
    }

    /// @inheritdoc IPartyRegistry
    function registerAlias(
        address account,
        bytes32 legalIdHash,
        AliasConsent calldata consent
    ) external onlyRole(PARTY_MANAGER_ROLE) {
        _checkNewAlias(account, legalIdHash);
        _checkConsent(account, legalIdHash, consent);

        _aliasNonceUsed[consent.approver][consent.nonce] = true;
        // The same company, so the same capability as the address that vouches for it.
        _register(account, legalIdHash, _parties[consent.approver].mayHold);

        emit PartyAliasAdded(account, legalIdHash, consent.approver);
    }

    /// @inheritdoc IPartyRegistry
    function registerAliasByAdmin(
        address account,
        bytes32 legalIdHash,
        bool mayHold_
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkNewAlias(account, legalIdHash);

        _register(account, legalIdHash, mayHold_);

        emit PartyAliasAdded(account, legalIdHash, msg.sender);
    }

    /// @inheritdoc IPartyRegistry
    function setPartyActive(address account, bool active) external onlyRole(PARTY_MANAGER_ROLE) {
        if (_parties[account].legalIdHash == bytes32(0)) revert PartyNotRegistered(account);

        _parties[account].active = active;

        emit PartyStatusChanged(account, active);
    }

    /// @inheritdoc IPartyRegistry
    function setPartyMayHold(address account, bool mayHold_) external onlyRole(PARTY_MANAGER_ROLE) {
        if (_parties[account].legalIdHash == bytes32(0)) revert PartyNotRegistered(account);

        _parties[account].mayHold = mayHold_;

        emit PartyHoldingChanged(account, mayHold_);
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
    function mayHold(address account) external view returns (bool) {
        Party storage party = _parties[account];
        // `active` is only ever true for a registered address.
        return party.active && party.mayHold;
    }

    /// @inheritdoc IPartyRegistry
    function legalIdOf(address account) external view returns (bytes32) {
        bytes32 legalIdHash = _parties[account].legalIdHash;
        if (legalIdHash == bytes32(0)) revert PartyNotRegistered(account);
        return legalIdHash;
    }

    /// @inheritdoc IPartyRegistry
    function addressCountOf(bytes32 legalIdHash) external view returns (uint256) {
        return _addressCount[legalIdHash];
    }

    /// @inheritdoc IPartyRegistry
    function aliasConsentDigest(
        address account,
        bytes32 legalIdHash,
        uint256 nonce,
        uint256 deadline
    ) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ALIAS_CONSENT_TYPEHASH, account, legalIdHash, nonce, deadline)));
    }

    /// @inheritdoc IPartyRegistry
    function aliasNonceUsed(address approver, uint256 nonce) external view returns (bool) {
        return _aliasNonceUsed[approver][nonce];
    }

    /// @notice The EIP-712 domain separator (chain id and this contract's address are in it).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /* ------------------------------------------------------------------ */
    /*                               Internals                            */
    /* ------------------------------------------------------------------ */

    function _checkNewAddress(address account, bytes32 legalIdHash) private view {
        if (account == address(0) || legalIdHash == bytes32(0)) revert PartyInvalid(account, legalIdHash);
        if (_parties[account].legalIdHash != bytes32(0)) revert PartyAlreadyRegistered(account);
    }

    function _checkNewAlias(address account, bytes32 legalIdHash) private view {
        _checkNewAddress(account, legalIdHash);
        if (_addressCount[legalIdHash] == 0) revert PartyLegalIdUnknown(legalIdHash);
    }

    function _checkConsent(address account, bytes32 legalIdHash, AliasConsent calldata consent) private view {
        Party storage approver = _parties[consent.approver];
        // Only a live address of the same company speaks for it: not a suspended one, not another company's.
        if (approver.legalIdHash != legalIdHash || !approver.active) {
            revert PartyAliasApproverInvalid(consent.approver, legalIdHash);
        }
        if (block.timestamp > consent.deadline) revert PartyAliasConsentExpired(consent.deadline, block.timestamp);
        if (_aliasNonceUsed[consent.approver][consent.nonce]) {
            revert PartyAliasNonceUsed(consent.approver, consent.nonce);
        }
        bytes32 digest = aliasConsentDigest(account, legalIdHash, consent.nonce, consent.deadline);
        // SignatureChecker: ECDSA (low-s only) for EOAs, ERC-1271 for contract wallets, as for debtors.
        if (!SignatureChecker.isValidSignatureNow(consent.approver, digest, consent.signature)) {
            revert PartyAliasInvalidSignature(consent.approver);
        }
    }

    /// Effects and the three events every registration has, first address or alias.
    function _register(address account, bytes32 legalIdHash, bool mayHold_) private {
        _parties[account] = Party({legalIdHash: legalIdHash, active: true, mayHold: mayHold_});
        ++_addressCount[legalIdHash];

        emit PartyRegistered(account, legalIdHash);
        emit PartyStatusChanged(account, true);
        emit PartyHoldingChanged(account, mayHold_);
    }
}
