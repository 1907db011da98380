// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// The few cheat codes the Tierline property tests use, served by Hardhat's EDR at the
// well-known hevm address. A local interface instead of forge-std: the npm copy of
// forge-std is a broken 2022 snapshot, and this keeps the tests free of dependencies.
// Every signature below is one EDR lists as supported (checked against its binary).
interface Vm {
    /// The next call is made by `sender`.
    function prank(address sender) external;

    /// Every call until {stopPrank} is made by `sender`.
    function startPrank(address sender) external;

    function stopPrank() external;

    /// Sets block.timestamp.
    function warp(uint256 newTimestamp) external;

    /// Sets block.chainid.
    function chainId(uint256 newChainId) external;

    /// Discards the current fuzz input when `condition` is false.
    function assume(bool condition) external;

    /// The next call must revert, for any reason.
    function expectRevert() external;

    /// The next call must revert with exactly this 4-byte custom error (no arguments).
    function expectRevert(bytes4 revertData) external;

    /// The next call must revert with exactly these bytes (selector and arguments).
    function expectRevert(bytes calldata revertData) external;

    /// Signs `digest` with `privateKey` (secp256k1): returns (v, r, s).
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    /// The address of `privateKey`.
    function addr(uint256 privateKey) external pure returns (address);
}

// The cheat-code contract: address(uint160(uint256(keccak256("hevm cheat code")))).
Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
