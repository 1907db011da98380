// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Property tests of splitting: conservation of face value through a random split tree, and
// refusal of any split vector that does not add up; plus the double-pledge defence (a
// certificate in an open request or a funded pledge cannot be financed again, split or moved).
//
// Run counts (hardhat.config.ts, fixed seed "tier1ine"):
//   default profile: fuzz.runs = 1,000 per test   (`npx hardhat test solidity`)
//   deep profile:    fuzz.runs = 10,000 per test  (`npx hardhat test solidity --test-profile deep`)

import {vm} from "./utils/Vm.sol";
import {TierlineDeployer, TierlineRandom} from "./utils/TierlineDeployer.sol";
import {ICertificateToken} from "../../contracts/interfaces/ICertificateToken.sol";
import {IFinancingMarket} from "../../contracts/interfaces/IFinancingMarket.sol";

contract SplitFuzz is TierlineDeployer {
    using TierlineRandom for uint256;

    uint256 private constant MAX_FACE = 1_000_000_000 * ONE;
    uint256 private constant MAX_PARTS = 10;

    function setUp() public {
        deployTierline();
    }

    /* ------------------------------------------------------------------ */
    /*                      Conservation through a tree                   */
    /* ------------------------------------------------------------------ */

    /// For random vectors (1..10 parts, random amounts adding up to the face) at a random
    /// depth (2..4 levels), the live leaves always add up to the root's face value.
    function testFuzz_splitTreeConservesRootFace(uint256 faceSeed, uint256 seed) public {
        uint256 face = faceSeed.bound(1, MAX_FACE);
        (bytes32 receivableId, uint256 rootId) = registerReceivable(tier1, face, 90 days);
        uint256 levels = seed.bound(2, 4);

        uint256[] memory frontier = new uint256[](1);
        frontier[0] = rootId;
        for (uint256 level = 2; level <= levels; ++level) {
            seed = seed.next();
            frontier = _splitLevel(receivableId, rootId, frontier, seed);
        }

        uint256[] memory leaves = leavesOf(receivableId);
        require(faceSum(leaves) == face, "leaves do not add up to the root face");
        require(certificates.leafCountOf(receivableId) == leaves.length, "leaf count disagrees with the tree");
    }

    /// Splits one to three certificates of `frontier` and returns all their children.
    function _splitLevel(
        bytes32 receivableId,
        uint256 rootId,
        uint256[] memory frontier,
        uint256 seed
    ) private returns (uint256[] memory nextFrontier) {
        uint256 splits = seed.bound(1, 3);
        if (splits > frontier.length) splits = frontier.length;
        nextFrontier = new uint256[](splits * MAX_PARTS);
        uint256 n;
        for (uint256 s; s < splits; ++s) {
            seed = seed.next();
            uint256 parentId = frontier[(seed + s) % frontier.length];
            // The same parent may be drawn twice; it is retired after the first split.
            if (certificates.certificateOf(parentId).state != ICertificateToken.CertificateState.Live) continue;
            uint256[] memory children = _randomSplitChecked(receivableId, rootId, parentId, seed);
            for (uint256 c; c < children.length; ++c) {
                nextFrontier[n++] = children[c];
            }
        }
        assembly ("memory-safe") {
            mstore(nextFrontier, n)
        }
    }

    /// Splits `parentId` (held by whoever holds it) into a random vector and checks the step.
    function _randomSplitChecked(
        bytes32 receivableId,
        uint256 rootId,
        uint256 parentId,
        uint256 seed
    ) private returns (uint256[] memory childIds) {
        ICertificateToken.Certificate memory parent = certificates.certificateOf(parentId);
        uint256 parts = seed.bound(1, parent.faceValue < MAX_PARTS ? parent.faceValue : MAX_PARTS);
        uint256[] memory amounts = parent.faceValue.partition(parts, seed.next());
        address[] memory recipients = _recipients(parts, seed.next().next());
        uint256 leavesBefore = certificates.leafCountOf(receivableId);
        address holder = certificates.ownerOf(parentId);
        uint256 firstId = certificates.nextCertificateId();

        childIds = splitAs(parentId, recipients, amounts);

        require(
            certificates.certificateOf(parentId).state == ICertificateToken.CertificateState.Retired,
            "parent not retired"
        );
        _checkChildren(parentId, parent, holder, firstId, childIds, recipients, amounts);
        _checkConservation(receivableId, rootId, leavesBefore + parts - 1);
    }

    /// The live leaves of the receivable add up to its root's face, and there are `leaves` of them.
    function _checkConservation(bytes32 receivableId, uint256 rootId, uint256 leaves) private view {
        uint256[] memory found = leavesOf(receivableId);
        require(found.length == leaves && certificates.leafCountOf(receivableId) == leaves, "leaf count off");
        require(
            faceSum(found) == certificates.certificateOf(rootId).faceValue,
            "live leaves do not add up to the root"
        );
    }

    function _checkChildren(
        uint256 parentId,
        ICertificateToken.Certificate memory parent,
        address holder,
        uint256 firstId,
        uint256[] memory childIds,
        address[] memory recipients,
        uint256[] memory amounts
    ) private view {
        require(childIds.length == amounts.length, "wrong number of children");
        uint256 childSum;
        for (uint256 i; i < childIds.length; ++i) {
            ICertificateToken.Certificate memory child = certificates.certificateOf(childIds[i]);
            require(childIds[i] == firstId + i, "child ids not sequential");
            require(child.faceValue == amounts[i], "child face differs from its part");
            require(child.parentId == parentId && child.receivableId == parent.receivableId, "lineage broken");
            require(child.state == ICertificateToken.CertificateState.Live, "child not live");
            require(child.tier == (recipients[i] == holder ? parent.tier : parent.tier + 1), "wrong tier");
            require(certificates.ownerOf(childIds[i]) == recipients[i], "child went to the wrong holder");
            childSum += child.faceValue;
        }
        require(childSum == parent.faceValue, "children do not add up to the parent");
    }

    /* ------------------------------------------------------------------ */
    /*                     Vectors that do not add up                     */
    /* ------------------------------------------------------------------ */

    /// A vector off by any amount, over or under, at any depth, reverts with
    /// SplitAmountMismatch(id, face, sum) and changes nothing.
    function testFuzz_splitVectorOffByAnyAmountReverts(
        uint256 faceSeed,
        uint256 seed,
        uint256 delta,
        bool over
    ) public {
        uint256 face = faceSeed.bound(1, MAX_FACE);
        (bytes32 receivableId, uint256 rootId) = registerReceivable(tier1, face, 90 days);
        // Walk down 0..2 valid splits first (so the refused split sits at depth 1..3).
        uint256 target = _walkDown(rootId, seed.bound(0, 2), seed);
        uint256 targetFace = certificates.certificateOf(target).faceValue;
        (uint256[] memory amounts, uint256 sum) = _vectorOffBy(targetFace, seed.next().next(), delta, over);
        require(sum != targetFace, "test bug: the vector adds up");

        _expectSplitMismatch(target, amounts, targetFace, sum, seed);
        require(faceSum(leavesOf(receivableId)) == face, "a refused split changed the leaves");
    }

    /// Splits `depth` times from `certificateId`, always following the largest child.
    function _walkDown(uint256 certificateId, uint256 depth, uint256 seed) private returns (uint256) {
        for (uint256 d; d < depth; ++d) {
            seed = seed.next();
            uint256 parentFace = certificates.certificateOf(certificateId).faceValue;
            uint256 parts = seed.bound(1, parentFace < MAX_PARTS ? parentFace : MAX_PARTS);
            uint256[] memory amounts = parentFace.partition(parts, seed.next());
            certificateId = _largest(splitAs(certificateId, _recipients(parts, seed), amounts));
        }
        return certificateId;
    }

    /// A random partition of `face` with one part moved up or down by a bounded `delta`
    /// (never down to zero, which is another error); returns it and its true sum.
    function _vectorOffBy(
        uint256 face,
        uint256 seed,
        uint256 delta,
        bool over
    ) private pure returns (uint256[] memory amounts, uint256 sum) {
        uint256 count = seed.bound(1, face < MAX_PARTS ? face : MAX_PARTS);
        amounts = face.partition(count, seed.next());
        uint256 j = (seed >> 128) % count;
        if (!over && amounts[j] == 1) {
            for (uint256 i; i < count; ++i) {
                if (amounts[i] > 1) j = i;
            }
            if (amounts[j] == 1) over = true; // every part is one unit: only "over" is possible
        }
        if (over) amounts[j] += delta.bound(1, MAX_FACE);
        else amounts[j] -= delta.bound(1, amounts[j] - 1);
        for (uint256 i; i < count; ++i) {
            sum += amounts[i];
        }
    }

    /// Any vector of 1..10 positive parts (each below 2^92, so the sum stays within the 96 bits a
    /// registered face value may take) splits if and only if it adds up to the face; otherwise
    /// SplitAmountMismatch.
    function testFuzz_arbitraryVectorSplitsOnlyWhenExact(
        uint256 faceSeed,
        uint128[10] memory raw,
        uint256 countSeed
    ) public {
        uint256 count = countSeed.bound(1, MAX_PARTS);
        uint256[] memory amounts = new uint256[](count);
        uint256 sum;
        for (uint256 i; i < count; ++i) {
            uint256 part = uint256(raw[i]) >> 36;
            amounts[i] = part == 0 ? 1 : part;
            sum += amounts[i];
        }
        // Half the time make the face equal to the sum, so the accepting side is exercised too.
        uint256 face = faceSeed % 2 == 0 ? sum : (faceSeed >> 1).bound(1, type(uint96).max);
        (bytes32 receivableId, uint256 rootId) = registerReceivable(tier1, face, 90 days);

        if (sum == face) {
            uint256[] memory children = splitAs(rootId, _recipients(count, faceSeed), amounts);
            require(children.length == count, "exact vector did not split");
            require(faceSum(leavesOf(receivableId)) == face, "leaves do not add up");
        } else {
            _expectSplitMismatch(rootId, amounts, face, sum, faceSeed);
            require(faceSum(leavesOf(receivableId)) == face, "a refused split changed the leaves");
        }
    }

    /// A vector whose true sum overflows 256 bits (even one that wraps around to exactly the
    /// face value) is refused and changes nothing. It reverts with the checked-arithmetic panic
    /// rather than SplitAmountMismatch: the true sum has no uint256 to report.
    function testFuzz_overflowingVectorIsRefused(uint256 faceSeed, uint256 big, bool wrapToFace) public {
        uint256 face = faceSeed.bound(2, MAX_FACE);
        (bytes32 receivableId, uint256 rootId) = registerReceivable(tier1, face, 90 days);
        uint256[] memory amounts = new uint256[](2);
        amounts[0] = big.bound(face + 1, type(uint256).max);
        // 2^256 - amounts[0] + face wraps to face; anything at least that large overflows.
        uint256 rest = type(uint256).max - amounts[0] + 1;
        amounts[1] = wrapToFace ? rest + face : rest + (big >> 128).bound(0, face - 1);
        ICertificateToken.SplitPart[] memory parts = new ICertificateToken.SplitPart[](2);
        parts[0] = ICertificateToken.SplitPart({to: tier2, amount: amounts[0]});
        parts[1] = ICertificateToken.SplitPart({to: tier3, amount: amounts[1]});
        uint256 nextIdBefore = certificates.nextCertificateId();

        vm.prank(tier1);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", uint256(0x11)));
        certificates.split(rootId, parts);

        require(certificates.nextCertificateId() == nextIdBefore, "ids consumed by a refused split");
        require(certificates.ownerOf(rootId) == tier1, "root moved");
        require(faceSum(leavesOf(receivableId)) == face, "a refused split changed the leaves");
    }

    function _expectSplitMismatch(
        uint256 target,
        uint256[] memory amounts,
        uint256 face,
        uint256 sum,
        uint256 seed
    ) private {
        address holder = certificates.ownerOf(target);
        address[] memory recipients = _recipients(amounts.length, seed);
        passOnALoneKeptPiece(holder, recipients);
        ICertificateToken.SplitPart[] memory parts = new ICertificateToken.SplitPart[](amounts.length);
        for (uint256 i; i < amounts.length; ++i) {
            parts[i] = ICertificateToken.SplitPart({to: recipients[i], amount: amounts[i]});
        }
        uint256 nextIdBefore = certificates.nextCertificateId();

        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(ICertificateToken.SplitAmountMismatch.selector, target, face, sum));
        certificates.split(target, parts);

        require(certificates.nextCertificateId() == nextIdBefore, "ids consumed by a refused split");
        require(certificates.ownerOf(target) == holder, "target moved");
        require(certificates.certificateOf(target).state == ICertificateToken.CertificateState.Live, "target not live");
    }

    /* ------------------------------------------------------------------ */
    /*                          No double pledge                          */
    /* ------------------------------------------------------------------ */

    /// A certificate in an open request, or in a funded pledge, can never be put into a second
    /// request, split, or transferred (by its holder or by an approved operator).
    function testFuzz_lockedCertificateCannotBeFinancedSplitOrMoved(
        uint256 faceSeed,
        uint256 seed,
        bool funded
    ) public {
        uint256 face = faceSeed.bound(2, MAX_FACE);
        (, uint256 rootId) = registerReceivable(tier1, face, 90 days);
        uint256 parts = seed.bound(1, face < 4 ? face : 4);
        uint256[] memory children = splitAs(rootId, _recipients(parts, seed), face.partition(parts, seed.next()));
        uint256 certificateId = children[seed.next().bound(0, parts - 1)];
        ICertificateToken.Certificate memory cert = certificates.certificateOf(certificateId);
        address holder = certificates.ownerOf(certificateId);

        // A funded pledge keeps the lock; a funded discount delivers the certificate, so it is
        // a pledge whenever funding is part of the case.
        IFinancingMarket.FinancingKind kind =
            funded || seed % 2 == 0 ? IFinancingMarket.FinancingKind.Pledge : IFinancingMarket.FinancingKind.Discount;
        uint256 price = seed.next().next().bound(1, cert.faceValue);
        uint256 repayAmount =
            kind == IFinancingMarket.FinancingKind.Pledge ? (seed >> 7).bound(price, cert.faceValue) : 0;
        vm.prank(holder);
        uint256 requestId = financing.openRequest(certificateId, kind, price, repayAmount);
        address funder = holder == financier ? financier2 : financier;
        if (funded) {
            vm.prank(funder);
            financing.fund(requestId, price, repayAmount, cert.faceValue);
            (uint256 pledgeId, address pledgee, uint256 outstanding) = financing.pledgeOf(certificateId);
            require(pledgeId == requestId && pledgee == funder && outstanding == repayAmount, "pledge not recorded");
        }

        // A second request, of either kind.
        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(ICertificateToken.CertificateLocked.selector, certificateId));
        financing.openRequest(certificateId, IFinancingMarket.FinancingKind.Discount, 1, 0);
        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(ICertificateToken.CertificateLocked.selector, certificateId));
        financing.openRequest(certificateId, IFinancingMarket.FinancingKind.Pledge, 1, 1);

        // A split, even into one piece.
        ICertificateToken.SplitPart[] memory whole = new ICertificateToken.SplitPart[](1);
        whole[0] = ICertificateToken.SplitPart({to: holder, amount: cert.faceValue});
        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(ICertificateToken.CertificateLocked.selector, certificateId));
        certificates.split(certificateId, whole);

        // A transfer by the holder, plain or safe, and by an approved operator.
        address to = holder == tier3 ? tier2 : tier3;
        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(ICertificateToken.CertificateLocked.selector, certificateId));
        certificates.transferFrom(holder, to, certificateId);
        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(ICertificateToken.CertificateLocked.selector, certificateId));
        certificates.safeTransferFrom(holder, to, certificateId);
        vm.prank(holder);
        certificates.approve(to, certificateId);
        vm.prank(to);
        vm.expectRevert(abi.encodeWithSelector(ICertificateToken.CertificateLocked.selector, certificateId));
        certificates.transferFrom(holder, to, certificateId);

        // Funding the same request twice.
        if (funded) {
            vm.prank(funder == financier ? financier2 : financier);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IFinancingMarket.FinancingWrongStatus.selector,
                    requestId,
                    IFinancingMarket.RequestStatus.Pledged
                )
            );
            financing.fund(requestId, price, repayAmount, cert.faceValue);
        }

        require(certificates.ownerOf(certificateId) == holder, "locked certificate moved");
        require(certificates.lockerOf(certificateId) == address(financing), "lock lost");
        require(financing.activeRequestOf(certificateId) == requestId, "active request changed");
        require(financing.requestCount() == requestId, "a second request was opened");
    }

    /* ------------------------------------------------------------------ */
    /*                               Helpers                              */
    /* ------------------------------------------------------------------ */

    function _recipients(uint256 count, uint256 seed) private view returns (address[] memory list) {
        address[] memory cast = holders();
        list = new address[](count);
        for (uint256 i; i < count; ++i) {
            seed = seed.next();
            list[i] = cast[seed % cast.length];
        }
    }

    function _largest(uint256[] memory ids) private view returns (uint256 best) {
        uint256 bestFace;
        for (uint256 i; i < ids.length; ++i) {
            uint256 f = certificates.certificateOf(ids[i]).faceValue;
            if (f > bestFace) (best, bestFace) = (ids[i], f);
        }
    }
}
