// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISettlementEscrow} from "../interfaces/ISettlementEscrow.sol";
import {IFinancingMarket} from "../interfaces/IFinancingMarket.sol";
import {IRecourseLedger} from "../interfaces/IRecourseLedger.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {CallbackToken, ITokenReceivedHook} from "./CallbackToken.sol";

/// @title PayoutGrabbingSeller
/// @notice Test double (attacker): a holder that lists its piece on the market (or claims its
/// default loss from a guarantor) and, when the price (or the guarantor's payment) reaches it (a
/// {CallbackToken} calls it on receipt), re-enters the escrow to settle the piece's pending
/// payout before the financier (or the guarantor) has it. It refuses the escrow's push, so a
/// payout aimed at it is kept for a later withdrawal and a balance check sees only the price.
contract PayoutGrabbingSeller is ITokenReceivedHook {
    ISettlementEscrow public immutable escrow;
    IFinancingMarket public immutable market;
    CallbackToken public immutable token;

    bytes32 public receivableId;
    uint256 public piece;
    bool public armed;
    bool public refusingEscrow;
    /// What the escrow paid out on the piece inside the hook (to whoever then held it).
    uint256 public settledInHook;

    error PaymentRefused();

    constructor(ISettlementEscrow escrow_, IFinancingMarket market_, CallbackToken token_) {
        escrow = escrow_;
        market = market_;
        token = token_;
        token_.enableHook();
    }

    /// Lists `piece_` and arms the hook for the funding's price.
    function list(
        bytes32 receivableId_,
        uint256 piece_,
        IFinancingMarket.FinancingKind kind,
        uint256 price,
        uint256 repayAmount
    ) external returns (uint256) {
        receivableId = receivableId_;
        piece = piece_;
        armed = true;
        return market.openRequest(piece_, kind, price, repayAmount);
    }

    /// As a creditor of recourse: approves `recourse` for the defaulted `piece_`, opens a default
    /// claim on it against endorsement (`guarantorCertificateId`, `endorsementIndex`) and arms the
    /// hook for the guarantor's payment.
    function claimDefault(
        IRecourseLedger recourse,
        IERC721 certificates,
        bytes32 receivableId_,
        uint256 piece_,
        uint256 guarantorCertificateId,
        uint256 endorsementIndex
    ) external returns (uint256) {
        receivableId = receivableId_;
        piece = piece_;
        armed = true;
        certificates.approve(address(recourse), piece_);
        return recourse.openDefaultClaim(piece_, guarantorCertificateId, endorsementIndex);
    }

    /// Collects whatever the escrow kept for this seller.
    function withdrawKept() external returns (uint256) {
        refusingEscrow = false;
        return escrow.withdraw(address(this));
    }

    function onTokenReceived(address from, uint256) external {
        if (from == address(escrow) && refusingEscrow) revert PaymentRefused();
        if (msg.sender != address(token) || !armed) return;
        armed = false;
        refusingEscrow = true;
        uint256[] memory batch = new uint256[](1);
        batch[0] = piece;
        settledInHook = escrow.settle(receivableId, batch);
    }
}
