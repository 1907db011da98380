// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title BlocklistToken
/// @notice Test double: an ERC-20 (like USDC) whose owner can blocklist an address; transfers to it revert.
contract BlocklistToken is ERC20, Ownable {
    mapping(address account => bool) public blocked;

    /// @notice `account` is blocklisted and cannot receive tokens.
    error RecipientBlocked(address account);

    constructor(address owner_) ERC20("Blocklist USD", "blkUSD") Ownable(owner_) {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Anyone may mint: this is a test double.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlocked(address account, bool isBlocked) external onlyOwner {
        blocked[account] = isBlocked;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[to]) revert RecipientBlocked(to);
        super._update(from, to, value);
    }
}
