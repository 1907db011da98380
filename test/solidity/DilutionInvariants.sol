// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Invariant tests of dilution (issue 16) over interleaved actions on up to four receivables:
// registrations, splits, transfers, disputes opened and withdrawn, credit notes (the seller's or
// the arbiter's), pledges, partial and full repayments and settlement batches (DilutionHandler).
// After every call:
//   invariant_conservationAfterDilution  the leaves (live, pledged or settled) of every receivable
//                                        add up to face - credited in claims, and to face in
//                                        face values; their number is the token's leaf count;
//   invariant_noPayoutAboveClaim         no leaf was ever paid more than its diluted claim, no
//                                        receivable paid out more than the debtor paid in, and a
//                                        repaid receivable's settled leaves got exactly their claims;
//   invariant_escrowSolvent              the escrow holds every unpaid repayment and kept payment.
// `afterInvariant` checks the handler was called, no valid action was refused, no split or
// financing the rules forbid (a disputed receivable, a piece a credit note cut) went through, and
// every credit note cut the seller's company first (the cast includes an alias of the seller, so
// pieces reach a second address of its company by splits and transfers);
// `test_handlerReachesEveryPath` runs a fixed script through every action.
//
// Run counts (hardhat.config.ts, fixed seed "tier1ine"), per invariant function:
//   default profile: invariant.runs = 1,000, depth = 16  (16,000 calls)
//   deep profile:    invariant.runs = 1,000, depth = 32  (32,000 calls)

import {vm} from "./utils/Vm.sol";
import {TierlineDeployer} from "./utils/TierlineDeployer.sol";
import {DilutionHandler} from "./DilutionHandler.sol";
import {IReceivableRegistry} from "../../contracts/interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "../../contracts/interfaces/ICertificateToken.sol";

contract DilutionInvariants is TierlineDeployer {
    /// The shape the invariant runner reads from targetSelectors() (as forge-std's StdInvariant).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    DilutionHandler internal handler;

    function setUp() public {
        deployTierline();
        // tier1 (the seller) first, then its alias (same legal id), financier2 (the pledgee) last.
        address sellerAlias = vm.addr(uint256(keccak256("tierline: tier1 alias")));
        parties.registerAliasByAdmin(sellerAlias, legalId("tier1"), true);
        address[] memory others = holders();
        address[] memory cast = new address[](others.length + 1);
        cast[0] = others[0];
        cast[1] = sellerAlias;
        for (uint256 i = 1; i < others.length; ++i) {
            cast[i + 1] = others[i];
        }
        handler = new DilutionHandler(world, DEBTOR_KEY, cast);
        registry.grantRole(registry.REGISTRAR_ROLE(), address(handler));
        dilution.grantRole(dilution.ARBITER_ROLE(), address(handler)); // the timelock's role, held here
        dilution.setSellerResponsePeriod(1 hours);
        handler.register(1_000 * ONE);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = DilutionHandler.register.selector;
        selectors[1] = DilutionHandler.split.selector;
        selectors[2] = DilutionHandler.split.selector; // splits weigh double: they build the trees
        selectors[3] = DilutionHandler.transfer.selector;
        selectors[4] = DilutionHandler.dispute.selector;
        selectors[5] = DilutionHandler.credit.selector;
        selectors[6] = DilutionHandler.pledge.selector;
        selectors[7] = DilutionHandler.repay.selector;
        selectors[8] = DilutionHandler.settle.selector;
        selectors[9] = DilutionHandler.credit.selector; // credit notes weigh double: the subject
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /* ------------------------------------------------------------------ */
    /*                              Invariants                            */
    /* ------------------------------------------------------------------ */

    function invariant_conservationAfterDilution() public view {
        for (uint256 r; r < handler.receivableCount(); ++r) {
            bytes32 id = handler.receivableIds(r);
            uint256[] memory leaves = handler.leavesOf(id);
            uint256 claims;
            uint256 faces;
            for (uint256 i; i < leaves.length; ++i) {
                claims += dilution.claimOf(leaves[i]);
                faces += certificates.certificateOf(leaves[i]).faceValue;
            }
            uint256 face = registry.receivableOf(id).faceValue;
            require(claims == face - registry.creditedOf(id), "live leaves' claims != face - credited");
            require(faces == face, "live leaves' face values != face");
            require(leaves.length == certificates.leafCountOf(id), "leaf count disagrees");
        }
    }

    function invariant_noPayoutAboveClaim() public view {
        for (uint256 r; r < handler.receivableCount(); ++r) {
            bytes32 id = handler.receivableIds(r);
            IReceivableRegistry.Receivable memory receivable = registry.receivableOf(id);
            require(escrow.distributedOf(id) <= receivable.repaidAmount, "paid out more than was paid in");
            uint256[] memory leaves = handler.leavesOf(id);
            for (uint256 i; i < leaves.length; ++i) {
                uint256 claim = dilution.claimOf(leaves[i]);
                require(escrow.paidOutOf(leaves[i]) <= claim, "a leaf was paid above its diluted claim");
                if (certificates.certificateOf(leaves[i]).state == ICertificateToken.CertificateState.Settled) {
                    require(escrow.paidOutOf(leaves[i]) == claim, "a settled leaf was not paid its claim");
                }
            }
        }
    }

    function invariant_escrowSolvent() public view {
        uint256 owedToHolders = escrow.totalClaimable();
        for (uint256 r; r < handler.receivableCount(); ++r) {
            bytes32 id = handler.receivableIds(r);
            owedToHolders += registry.receivableOf(id).repaidAmount - escrow.distributedOf(id);
        }
        require(token.balanceOf(address(escrow)) >= owedToHolders, "escrow insolvent");
    }

    function afterInvariant() public view {
        require(handler.calls() > 0, "the invariant fuzzer never called the handler");
        require(handler.unexpected() == 0, "a valid split or transfer was refused");
        require(handler.wronglyAllowed() == 0, "a split or financing the dilution rules forbid went through");
        require(handler.firstLossMissed() == 0, "a credit note spared the seller's company (an alias?)");
    }

    /// A fixed script through every action; each must make progress.
    function test_handlerReachesEveryPath() public {
        handler.split(0);
        handler.split(1);
        handler.transfer(2);
        handler.dispute(3); // opens
        handler.dispute(3); // withdraws
        handler.pledge(5);
        handler.credit(262); // the seller co-signs a credit of one unit
        handler.credit(263); // the arbiter decides another
        handler.dispute(3); // opens again: while it stands, no piece may be split or financed
        for (uint256 seed = 16; seed <= 64; seed += 16) {
            handler.split(seed); // pieces other than the pledged first one
            handler.pledge(seed + 1);
        }
        handler.dispute(3); // withdraws
        handler.register(8);
        handler.repay(9);
        handler.settle(9);
        require(handler.splits() >= 1, "no split");
        require(handler.creditNotes() == 2, "credit notes did not apply");
        require(handler.settlements() >= 1, "no settlement");
        require(handler.unexpected() == 0, "a valid action was refused");
        require(handler.forbiddenTried() >= 2, "no forbidden split or financing was tried");
        require(handler.wronglyAllowed() == 0, "a split or financing the dilution rules forbid went through");
        require(handler.firstLossMissed() == 0, "a credit note spared the seller's company (an alias?)");
        invariant_conservationAfterDilution();
        invariant_noPayoutAboveClaim();
        invariant_escrowSolvent();
    }
}
