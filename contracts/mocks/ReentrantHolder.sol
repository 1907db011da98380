// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISettlementEscrow} from "../interfaces/ISettlementEscrow.sol";
import {CallbackToken, ITokenReceivedHook} from "./CallbackToken.sol";

/// @title ReentrantHolder
/// @notice Test double (attacker): a party holding a certificate that, when paid in {CallbackToken},
/// tries to re-enter the escrow's settle or withdraw and records whether that succeeded.
contract ReentrantHolder is ITokenReceivedHook {
    enum Attack {
        None,
        Settle,
        Withdraw
    }

    ISettlementEscrow public immutable escrow;
    CallbackToken public immutable token;

    Attack public attack;
    /// When true, a failed re-entry reverts the hook, so the payment to this holder fails too.
    bool public revertOnFailure;
    bytes32 public targetReceivable;
    uint256[] private _targetBatch;

    uint256 public attempts;
    uint256 public successes;
    bytes public lastError;

    constructor(ISettlementEscrow escrow_, CallbackToken token_) {
        escrow = escrow_;
        token = token_;
        token_.enableHook();
    }

    function arm(Attack attack_, bytes32 receivableId, uint256[] calldata batch, bool revertOnFailure_) external {
        attack = attack_;
        targetReceivable = receivableId;
        _targetBatch = batch;
        revertOnFailure = revertOnFailure_;
    }

    /// @notice Collects payments the escrow kept for this holder.
    function withdrawFromEscrow(address to) external returns (uint256) {
        return escrow.withdraw(to);
    }

    function onTokenReceived(address, uint256) external {
        if (msg.sender != address(token) || attack == Attack.None) return;
        ++attempts;
        bool ok;
        bytes memory reason;
        if (attack == Attack.Settle) {
            try escrow.settle(targetReceivable, _targetBatch) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            try escrow.withdraw(address(this)) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        }
        if (ok) {
            ++successes;
            return;
        }
        lastError = reason;
        if (revertOnFailure) {
            assembly {
                revert(add(reason, 0x20), mload(reason))
            }
        }
    }
}
