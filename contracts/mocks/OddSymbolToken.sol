// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// The symbol holds a double quote: prettier writes that literal single-quoted.
// solhint-disable quotes

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title OddSymbolToken
/// @notice Test double: an ERC-20 whose symbol would break JSON and SVG if embedded as is
/// (a quote and angle brackets), so certificate metadata must fall back to raw units.
contract OddSymbolToken is ERC20 {
    constructor() ERC20("Odd Symbol USD", '"><svg') {}

    /// @notice Anyone may mint: this is a test double.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
