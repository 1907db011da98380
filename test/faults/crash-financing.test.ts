// Financing under a crash: the service (a real child process) dies by SIGKILL after the
// holder's openRequest, after the financier's approval, after the financier's fund
// transaction, or while the indexer writes the funding, and is started again. Each request
// exists once, the money moved once (the holder got the price exactly once), a retry with
// the same Idempotency-Key answers with the same request or funding, and the index equals
// the chain.
import { expect } from "chai";
import { FaultWorld } from "./child-service.js";
import { idempotencyKey, ownerOnChain, registerReceivable } from "./flows.js";

const PRICE = 95_000_000n; // a discount sale of the whole 100,000,000 certificate

describe("Faults: a crash while financing a certificate", function () {
  this.timeout(240_000);
  let world: FaultWorld;

  const openBody = (certificateId: string) => ({ certificateId, kind: "discount", price: PRICE.toString() });
  const requestsOnChain = async (certificateId: string) =>
    (await world.chainEvents(world.contracts.financing, "FinancingRequested", null, certificateId)).length;
  const fundingsOnChain = async (requestId: string) =>
    await world.chainEvents(world.contracts.financing, "FinancingFunded", requestId);
  const balances = async () => ({
    holder: await world.balanceOf(world.party("tier1").address),
    financier: await world.balanceOf(world.party("financier").address),
  });

  before(async function () {
    world = await FaultWorld.create();
  });
  after(async function () {
    await world?.close();
  });

  describe("when the service is killed at tx-sent:openFinancing as the holder opens a request", function () {
    let receivableId: string;
    let rootId: string;
    let key: Record<string, string>;

    before(async function () {
      ({ id: receivableId, rootId } = await registerReceivable(world, "tier1", "debtor"));
      key = idempotencyKey("open");
      await world.crashDuring("tx-sent:openFinancing", () =>
        world.as("tier1").post("/v1/financing-requests", openBody(rootId), key),
      );
      await world.start();
    });

    it("finds exactly one request on the chain, the certificate locked in it", async function () {
      expect(await requestsOnChain(rootId)).to.equal(1);
      const requestId = await world.contracts.financing.getFunction("activeRequestOf")(rootId);
      expect(requestId).to.not.equal(0n);
      const served = await world.as("tier1").get(`/v1/financing-requests/${requestId}`);
      expect(served.status).to.equal(200);
      expect({
        status: served.body.status,
        certificateId: served.body.certificateId,
        price: served.body.price,
      }).to.deep.equal({
        status: "open",
        certificateId: rootId,
        price: PRICE.toString(),
      });
      expect((await world.as("tier1").get(`/v1/certificates/${rootId}`)).body.state).to.equal("locked");
    });

    it("answers a retry with the same Idempotency-Key with the same request, and opens no second one", async function () {
      const requestId = String(await world.contracts.financing.getFunction("activeRequestOf")(rootId));
      const retried = await world.as("tier1").post("/v1/financing-requests", openBody(rootId), key);
      expect(retried.status, JSON.stringify(retried.body)).to.equal(201);
      expect(retried.body.id).to.equal(requestId);
      const fresh = await world
        .as("tier1")
        .post("/v1/financing-requests", openBody(rootId), idempotencyKey("open-again"));
      expect(fresh.status).to.equal(409);
      expect(fresh.body.error.code).to.equal("CERTIFICATE_LOCKED");
      expect(await requestsOnChain(rootId)).to.equal(1);
    });

    it("keeps an index that equals the chain (the auditor's verification)", async function () {
      await world.auditMatches(receivableId);
    });
  });

  for (const point of ["tx-sent:approveFinancing", "tx-sent:fundFinancing", "indexer:before-commit"]) {
    describe(`when the service is killed at ${point} as a financier funds a request`, function () {
      let receivableId: string;
      let rootId: string;
      let requestId: string;
      let key: Record<string, string>;
      let start: { holder: bigint; financier: bigint };
      // The indexer's crash point fires at the first block it indexes: the approval's or the
      // funding's, whichever it reads first. The other two points are exact.
      const outcomes: Record<string, boolean[]> = {
        "tx-sent:approveFinancing": [false],
        "tx-sent:fundFinancing": [true],
        "indexer:before-commit": [false, true],
      };
      const fundedAtTheCrash = outcomes[point]!;

      before(async function () {
        ({ id: receivableId, rootId } = await registerReceivable(world, "tier1", "debtor"));
        const opened = await world.as("tier1").post("/v1/financing-requests", openBody(rootId));
        expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
        requestId = opened.body.id;
        key = idempotencyKey("fund");
        start = await balances();
        await world.crashDuring(point, () =>
          world.as("financier").post(`/v1/financing-requests/${requestId}/fund`, {}, key),
        );
        await world.start();
      });

      it("finds the request funded at most once, and the price paid exactly as often as it was funded", async function () {
        const fundings = await fundingsOnChain(requestId);
        const funded = fundings.length === 1;
        expect(fundings.length).to.be.at.most(1);
        expect(fundedAtTheCrash).to.include(funded);
        const after = await balances();
        const moved = funded ? PRICE : 0n;
        expect({ holder: after.holder - start.holder, financier: after.financier - start.financier }).to.deep.equal({
          holder: moved,
          financier: -moved,
        });
        const served = await world.as("financier").get(`/v1/financing-requests/${requestId}`);
        expect(served.body.status).to.equal(funded ? "sold" : "open");
      });

      it("completes the funding once on a retry with the same Idempotency-Key", async function () {
        const retried = await world.as("financier").post(`/v1/financing-requests/${requestId}/fund`, {}, key);
        expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
        expect(retried.body.request.status).to.equal("sold");
        const fundings = await fundingsOnChain(requestId);
        expect(fundings).to.have.length(1);
        expect(retried.body.txHashes.fund).to.equal(fundings[0]!.transactionHash);
        const after = await balances();
        expect({ holder: after.holder - start.holder, financier: after.financier - start.financier }).to.deep.equal({
          holder: PRICE,
          financier: -PRICE,
        });
        expect(await ownerOnChain(world, rootId)).to.equal(world.party("financier").address);
      });

      it("refuses a second funding by another financier: the request is sold", async function () {
        const second = await world
          .as("financier2")
          .post(`/v1/financing-requests/${requestId}/fund`, {}, idempotencyKey("fund-again"));
        expect(second.status).to.equal(409);
        expect(second.body.error.code).to.equal("FINANCING_WRONG_STATUS");
        expect(await fundingsOnChain(requestId)).to.have.length(1);
      });

      it("keeps an index that equals the chain (the auditor's verification)", async function () {
        await world.auditMatches(receivableId);
      });
    });
  }
});
