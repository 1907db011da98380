// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// The actor the dilution invariant fuzzer drives (see DilutionInvariants.sol): registrations,
// splits, transfers, disputes, credit notes (seller-signed or decided by the arbiter), pledges,
// repayments and settlements over a few receivables, each action aimed at a valid target.
// Refusals the rules demand are expected; a refusal of a valid action is counted as unexpected.

import {vm} from "./utils/Vm.sol";
import {Tierline, TierlineRandom, TierlineSigning} from "./utils/TierlineDeployer.sol";
import {IReceivableRegistry} from "../../contracts/interfaces/IReceivableRegistry.sol";
import {ICertificateToken} from "../../contracts/interfaces/ICertificateToken.sol";
import {IFinancingMarket} from "../../contracts/interfaces/IFinancingMarket.sol";
import {IDilutionLedger} from "../../contracts/interfaces/IDilutionLedger.sol";

contract DilutionHandler {
    using TierlineRandom for uint256;

    uint256 private constant MAX_RECEIVABLES = 4;
    uint256 private constant MAX_FACE = 1_000_000 * 1_000_000;

    Tierline private t;
    uint256 private immutable debtorKey;
    address public immutable debtor;
    address public immutable seller;
    address[] private actors;

    bytes32[] public receivableIds;
    uint256 private invoices;
    uint256 public calls;
    uint256 public creditNotes;
    uint256 public splits;
    uint256 public settlements;
    uint256 public unexpected;
    /// Splits and financings the dilution rules forbid that went through anyway (must stay 0),
    /// and how many such attempts were made (so a run that never tried one is seen).
    uint256 public wronglyAllowed;
    uint256 public forbiddenTried;
    /// Credit notes whose first loss did not fall on the seller's company (all its addresses,
    /// aliases too) up to what its leaves could absorb (must stay 0).
    uint256 public firstLossMissed;

    constructor(Tierline memory t_, uint256 debtorKey_, address[] memory actors_) {
        t = t_;
        debtorKey = debtorKey_;
        debtor = vm.addr(debtorKey_);
        seller = actors_[0];
        actors = actors_;
    }

    function receivableCount() external view returns (uint256) {
        return receivableIds.length;
    }

    /* ------------------------------------------------------------------ */
    /*                                Actions                             */
    /* ------------------------------------------------------------------ */

    function register(uint256 seed) external {
        ++calls;
        if (receivableIds.length == MAX_RECEIVABLES) return;
        IReceivableRegistry.ReceivableTerms memory terms = IReceivableRegistry.ReceivableTerms({
            seller: seller,
            debtor: debtor,
            invoiceNumberHash: keccak256(abi.encode("DIL-INV", ++invoices)),
            documentHash: keccak256(abi.encode("docs", invoices)),
            faceValue: seed.bound(2, MAX_FACE),
            dueDate: uint64(block.timestamp + 365 days)
        });
        IReceivableRegistry.DebtorConfirmation memory confirmation = TierlineSigning.confirm(
            t.registry,
            debtorKey,
            terms,
            invoices,
            block.timestamp + 1 hours
        );
        (bytes32 id, ) = t.registry.register(terms, confirmation);
        receivableIds.push(id);
    }

    function split(uint256 seed) external {
        ++calls;
        (bytes32 id, uint256 leaf, bool found) = _leaf(seed);
        if (!found || !_open(id)) return;
        ICertificateToken.Certificate memory c = t.certificates.certificateOf(leaf);
        if (c.state != ICertificateToken.CertificateState.Live || c.faceValue < 2) return;
        uint256 parts = (seed >> 8).bound(2, c.faceValue < 4 ? c.faceValue : 4);
        uint256[] memory amounts = c.faceValue.partition(parts, seed >> 16);
        ICertificateToken.SplitPart[] memory list = new ICertificateToken.SplitPart[](parts);
        for (uint256 i; i < parts; ++i) {
            list[i] = ICertificateToken.SplitPart({to: actors[(seed >> (24 + i)) % actors.length], amount: amounts[i]});
        }
        bool forbidden = t.dilution.reductionOf(leaf) != 0 || t.dilution.isDisputed(id);
        vm.prank(t.certificates.ownerOf(leaf));
        try t.certificates.split(leaf, list) {
            ++splits;
            if (forbidden) ++wronglyAllowed; // a disputed receivable or a cut piece was split
        } catch {
            if (forbidden) ++forbiddenTried;
            else ++unexpected;
        }
    }

    function transfer(uint256 seed) external {
        ++calls;
        (, uint256 leaf, bool found) = _leaf(seed);
        if (!found || t.certificates.certificateOf(leaf).state != ICertificateToken.CertificateState.Live) return;
        address holder = t.certificates.ownerOf(leaf);
        address to = actors[(seed >> 8) % actors.length];
        vm.prank(holder);
        try t.certificates.transferFrom(holder, to, leaf) {} catch {
            ++unexpected;
        }
    }

    function dispute(uint256 seed) external {
        ++calls;
        if (receivableIds.length == 0) return;
        bytes32 id = receivableIds[seed % receivableIds.length];
        if (!_open(id) || t.dilution.pendingCreditNoteOf(id) != 0) return;
        bool disputed = t.dilution.isDisputed(id);
        vm.prank(debtor);
        if (disputed) t.dilution.withdrawDispute(id);
        else t.dilution.openDispute(id, keccak256("PRICE"), bytes32(seed));
    }

    function credit(uint256 seed) external {
        ++calls;
        if (receivableIds.length == 0) return;
        bytes32 id = receivableIds[seed % receivableIds.length];
        IReceivableRegistry.Receivable memory r = t.registry.receivableOf(id);
        if (r.status != IReceivableRegistry.ReceivableStatus.Active || r.repaidAmount != 0) return;
        uint256 outstanding = r.faceValue - t.registry.creditedOf(id);
        uint256 amount = (seed >> 8) % 7 == 0 ? outstanding : (seed >> 16).bound(1, outstanding);
        vm.prank(debtor);
        uint256 creditNoteId = t.dilution.proposeCreditNote(id, amount, keccak256("RETURN"), bytes32(seed));
        uint256[] memory leaves = leavesOf(id);
        (bool[] memory company, uint256 companyClaims) = _companyLeaves(leaves);
        if (seed % 2 == 0) {
            vm.prank(seller);
            t.dilution.applyWithSellerConsent(creditNoteId, IDilutionLedger.SellerConsent(0, ""), leaves);
        } else {
            vm.warp(block.timestamp + 1 hours + 1);
            t.dilution.decideCreditNote(creditNoteId, true, leaves); // this handler holds ARBITER_ROLE
        }
        ++creditNotes;
        uint256 absorbed = companyClaims - _claimsOf(leaves, company);
        if (absorbed != (amount < companyClaims ? amount : companyClaims)) ++firstLossMissed;
    }

    function pledge(uint256 seed) external {
        ++calls;
        (bytes32 id, uint256 leaf, bool found) = _leaf(seed);
        if (!found || !_open(id)) return;
        if (t.certificates.certificateOf(leaf).state != ICertificateToken.CertificateState.Live) return;
        uint256 claim = t.dilution.claimOf(leaf);
        address holder = t.certificates.ownerOf(leaf);
        address funder = actors[actors.length - 1];
        if (claim == 0 || holder == funder) return;
        uint256 amount = (seed >> 8).bound(1, claim);
        if (t.dilution.isDisputed(id)) {
            // No new financing on a disputed receivable: the request is refused.
            vm.prank(holder);
            try t.financing.openRequest(leaf, IFinancingMarket.FinancingKind.Pledge, amount, amount) {
                ++wronglyAllowed;
            } catch {
                ++forbiddenTried;
            }
            return;
        }
        vm.prank(holder);
        uint256 requestId = t.financing.openRequest(leaf, IFinancingMarket.FinancingKind.Pledge, amount, amount);
        vm.prank(funder);
        t.financing.fund(requestId, amount, amount, claim);
    }

    function repay(uint256 seed) external {
        ++calls;
        if (receivableIds.length == 0) return;
        bytes32 id = receivableIds[seed % receivableIds.length];
        IReceivableRegistry.Receivable memory r = t.registry.receivableOf(id);
        if (r.status == IReceivableRegistry.ReceivableStatus.Repaid) return;
        uint256 outstanding = r.faceValue - t.registry.creditedOf(id) - r.repaidAmount;
        if (outstanding == 0) return;
        uint256 amount = (seed >> 8) % 3 == 0 ? outstanding : (seed >> 16).bound(1, outstanding);
        vm.prank(debtor);
        t.escrow.repay(id, amount);
    }

    function settle(uint256 seed) external {
        ++calls;
        if (receivableIds.length == 0) return;
        bytes32 id = receivableIds[seed % receivableIds.length];
        uint256[] memory leaves = leavesOf(id);
        try t.escrow.settle(id, leaves) {
            ++settlements;
        } catch {} // nothing due is a refusal the rules demand
    }

    /* ------------------------------------------------------------------ */
    /*                                Helpers                             */
    /* ------------------------------------------------------------------ */

    /// Leaves (live, pledged or settled) of `id`, ascending, found by scanning every id issued.
    function leavesOf(bytes32 id) public view returns (uint256[] memory leaves) {
        uint256 last = t.certificates.nextCertificateId();
        uint256[] memory found = new uint256[](last);
        uint256 n;
        for (uint256 c = 1; c < last; ++c) {
            ICertificateToken.Certificate memory cert = t.certificates.certificateOf(c);
            if (cert.receivableId == id && cert.state != ICertificateToken.CertificateState.Retired) found[n++] = c;
        }
        leaves = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = found[i];
        }
    }

    /// Which of `leaves` the seller's company holds (any address under its legal id), and their claims.
    function _companyLeaves(uint256[] memory leaves) private view returns (bool[] memory company, uint256 claims) {
        bytes32 sellerLegalId = t.parties.legalIdOf(seller);
        company = new bool[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) {
            company[i] = t.parties.legalIdOf(t.certificates.ownerOf(leaves[i])) == sellerLegalId;
        }
        claims = _claimsOf(leaves, company);
    }

    function _claimsOf(uint256[] memory leaves, bool[] memory chosen) private view returns (uint256 claims) {
        for (uint256 i; i < leaves.length; ++i) {
            if (chosen[i]) claims += t.dilution.claimOf(leaves[i]);
        }
    }

    function _leaf(uint256 seed) private view returns (bytes32 id, uint256 leaf, bool found) {
        if (receivableIds.length == 0) return (bytes32(0), 0, false);
        id = receivableIds[seed % receivableIds.length];
        uint256[] memory leaves = leavesOf(id);
        return (id, leaves[(seed >> 4) % leaves.length], true);
    }

    /// Active, nothing repaid yet, before the due date: splits and new financing are possible.
    function _open(bytes32 id) private view returns (bool) {
        IReceivableRegistry.Receivable memory r = t.registry.receivableOf(id);
        return
            r.status == IReceivableRegistry.ReceivableStatus.Active &&
            r.repaidAmount == 0 &&
            block.timestamp < r.dueDate;
    }
}
