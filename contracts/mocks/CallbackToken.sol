// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice What a recipient of {CallbackToken} implements to be called on receipt.
interface ITokenReceivedHook {
    function onTokenReceived(address from, uint256 amount) external;
}

/// @title CallbackToken
/// @notice Test double: an ERC-20 that, like ERC-777/1363, calls `onTokenReceived` on recipients that opted in
/// (as ERC-777 recipients register in ERC-1820); a reverting hook reverts the transfer.
contract CallbackToken is ERC20 {
    mapping(address account => bool) public hookEnabled;

    constructor() ERC20("Callback USD", "cbUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Anyone may mint: this is a test double.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The caller opts in to be called on every receipt.
    function enableHook() external {
        hookEnabled[msg.sender] = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from != address(0) && hookEnabled[to]) ITokenReceivedHook(to).onTokenReceived(from, value);
    }
}
