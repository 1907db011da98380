// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title TierlineTimelock
/// @notice The admin of every Tierline contract: OpenZeppelin's TimelockController. Every admin
/// action (role grants, tier policy, grace period for new receivables) is scheduled in public
/// and can run only after `minDelay`, so holders see it coming. Proposers and executors are the
/// governor: one key on the local chain, a multisig on a real network. The timelock administers
/// itself (no separate timelock admin), so even its delay changes only through a delayed proposal.
contract TierlineTimelock is TimelockController {
    /// @notice The local development chain, the only one where a zero delay is allowed.
    uint256 public constant LOCAL_CHAIN_ID = 31337;

    /// @notice A zero delay was asked for on chain `chainId`, which is not the local chain.
    error TimelockZeroDelayOffLocalChain(uint256 chainId);

    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors
    ) TimelockController(minDelay, proposers, executors, address(0)) {
        if (minDelay == 0 && block.chainid != LOCAL_CHAIN_ID) revert TimelockZeroDelayOffLocalChain(block.chainid);
    }
}
