// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title LocalSettlementToken
/// @notice A plain ERC-20 stand-in for a stablecoin on the local chain: 6 decimals, minted
/// by its owner. It refuses to mint anywhere but a local development chain, so a copy
/// deployed elsewhere by mistake cannot print money. On a real network configure a real
/// settlement token instead.
contract LocalSettlementToken is ERC20, Ownable {
    /// @notice Chain ids where minting is allowed (Hardhat and Anvil default to 31337).
    uint256 public constant LOCAL_CHAIN_ID = 31337;

    /// @notice Minting was tried on chain `chainId`, which is not the local chain.
    error MintOnlyOnLocalChain(uint256 chainId);

    constructor(address owner_) ERC20("Tierline Local USD", "tUSD") Ownable(owner_) {}

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` to `to`. Only the owner, only on the local chain.
    function mint(address to, uint256 amount) external onlyOwner {
        if (block.chainid != LOCAL_CHAIN_ID) revert MintOnlyOnLocalChain(block.chainid);
        _mint(to, amount);
    }
}
