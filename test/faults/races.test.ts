// Concurrent requests on the same certificate or financing request, against the service
// as a real child process: two splits, a split and a financing request, two financiers
// funding one request. Each race ends with exactly one winner on the chain and in the
// answers, and the loser gets a 409 with a code that says why; the index equals the chain.
import { expect } from "chai";
import { FaultWorld, type CastRole } from "./child-service.js";
import { registerReceivable, splitBody, splitsOnChain, type Part } from "./flows.js";
import type { ApiResponse } from "../server/client.js";

const ROUNDS = 3;
const PRICE = 90_000_000n;

/** The two answers, the winner first: one 2xx and one 409. */
function winnerAndLoser(answers: ApiResponse[]): { winner: ApiResponse; loser: ApiResponse; winnerIndex: number } {
  const statuses = answers.map((a) => a.status);
  const winnerIndex = statuses.findIndex((s) => s >= 200 && s < 300);
  expect(winnerIndex, `answers: ${JSON.stringify(answers.map((a) => a.body))}`).to.not.equal(-1);
  const loser = answers[1 - winnerIndex]!;
  expect(loser.status, `answers: ${JSON.stringify(answers.map((a) => a.body))}`).to.equal(409);
  return { winner: answers[winnerIndex]!, loser, winnerIndex };
}

describe("Faults: concurrent requests on one certificate", function () {
  this.timeout(240_000);
  let world: FaultWorld;

  before(async function () {
    world = await FaultWorld.create();
  });
  after(async function () {
    await world?.close();
  });

  describe("when the holder sends two different splits of one certificate at once", function () {
    for (let round = 1; round <= ROUNDS; round++) {
      it(`splits it exactly once and refuses the other with 409 CERTIFICATE_WRONG_STATE or CERTIFICATE_RETIRED (round ${round})`, async function () {
        const { id, rootId } = await registerReceivable(world, "tier1", "debtor");
        const splits: Part[][] = [
          [
            { to: "tier2", amount: 50_000_000n },
            { to: "tier1", amount: 50_000_000n },
          ],
          [
            { to: "tier3", amount: 20_000_000n },
            { to: "tier1", amount: 80_000_000n },
          ],
        ];
        const answers = await Promise.all(
          splits.map((parts) => world.as("tier1").post(`/v1/certificates/${rootId}/split`, splitBody(world, parts))),
        );
        const { winner, loser, winnerIndex } = winnerAndLoser(answers);
        expect(["CERTIFICATE_WRONG_STATE", "CERTIFICATE_RETIRED"]).to.include(loser.body.error.code);
        const onChain = await splitsOnChain(world, rootId);
        expect(onChain).to.have.length(1);
        expect(winner.body.children.map((c: { id: string }) => c.id)).to.deep.equal(onChain[0]);
        expect(winner.body.children.map((c: { faceValue: string }) => c.faceValue)).to.deep.equal(
          splits[winnerIndex]!.map((p) => p.amount.toString()),
        );
        await world.auditMatches(id);
      });
    }
  });

  describe("when the holder splits a certificate and offers it for financing at once", function () {
    for (let round = 1; round <= ROUNDS; round++) {
      it(`does one of the two and refuses the other with 409 (round ${round})`, async function () {
        const { id, rootId } = await registerReceivable(world, "tier2", "tier1");
        const parts: Part[] = [
          { to: "tier3", amount: 30_000_000n },
          { to: "tier2", amount: 70_000_000n },
        ];
        const answers = await Promise.all([
          world.as("tier2").post(`/v1/certificates/${rootId}/split`, splitBody(world, parts)),
          world
            .as("tier2")
            .post("/v1/financing-requests", { certificateId: rootId, kind: "discount", price: PRICE.toString() }),
        ]);
        const { loser, winnerIndex } = winnerAndLoser(answers);
        const splitCount = (await splitsOnChain(world, rootId)).length;
        const requestCount = (await world.chainEvents(world.contracts.financing, "FinancingRequested", null, rootId))
          .length;
        if (winnerIndex === 0) {
          expect({ splitCount, requestCount }).to.deep.equal({ splitCount: 1, requestCount: 0 });
          expect(["CERTIFICATE_WRONG_STATE", "CERTIFICATE_RETIRED"]).to.include(loser.body.error.code);
        } else {
          expect({ splitCount, requestCount }).to.deep.equal({ splitCount: 0, requestCount: 1 });
          expect(loser.body.error.code).to.equal("CERTIFICATE_LOCKED");
        }
        await world.auditMatches(id);
      });
    }
  });

  describe("when two financiers fund one request at once", function () {
    for (let round = 1; round <= ROUNDS; round++) {
      it(`lets exactly one of them buy it, takes the price from that one only, and refuses the other with 409 FINANCING_WRONG_STATUS (round ${round})`, async function () {
        const { id, rootId } = await registerReceivable(world, "tier3", "tier2");
        const opened = await world
          .as("tier3")
          .post("/v1/financing-requests", { certificateId: rootId, kind: "discount", price: PRICE.toString() });
        expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
        const requestId: string = opened.body.id;
        const financiers: CastRole[] = ["financier", "financier2"];
        const addresses = [...financiers.map((f) => world.party(f).address), world.party("tier3").address];
        const start = await Promise.all(addresses.map((a) => world.balanceOf(a)));

        const answers = await Promise.all(
          financiers.map((f) => world.as(f).post(`/v1/financing-requests/${requestId}/fund`)),
        );
        const { winner, loser, winnerIndex } = winnerAndLoser(answers);
        // Both fund transactions may pass their simulation and reach the chain; the loser's then
        // reverts there, and the service still names the contract's reason.
        expect(loser.body.error.code).to.equal("FINANCING_WRONG_STATUS");
        expect(winner.body.request.financierPartyId).to.equal(world.party(financiers[winnerIndex]!).id);

        const fundings = await world.chainEvents(world.contracts.financing, "FinancingFunded", requestId);
        expect(fundings.map((e) => String(e.args.financier))).to.deep.equal([
          world.party(financiers[winnerIndex]!).address,
        ]);
        const end = await Promise.all(addresses.map((a) => world.balanceOf(a)));
        const expected = [0n, 0n, PRICE];
        expected[winnerIndex] = -PRICE;
        expect(end.map((b, i) => b - start[i]!)).to.deep.equal(expected);
        // The loser's approval was withdrawn: it left no allowance on the market behind.
        const market = await world.contracts.financing.getAddress();
        const loserAddress = world.party(financiers[1 - winnerIndex]!).address;
        expect(await world.contracts.token.getFunction("allowance")(loserAddress, market)).to.equal(0n);
        await world.auditMatches(id);
      });
    }
  });
});
