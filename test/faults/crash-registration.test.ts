// Registration under a crash: the service (a real child process) dies by SIGKILL after the
// register transaction is broadcast but before it is recorded, or while the indexer is
// writing the registration, and is started again on the same data directory and chain.
// The receivable is registered exactly once, the API serves it, a retry with the same
// Idempotency-Key answers with the same certificate, and the index equals the chain.
import { expect } from "chai";
import { FaultWorld } from "./child-service.js";
import { idempotencyKey, ownerOnChain, registrationsOnChain, statusOnChain, submitReceivable } from "./flows.js";

describe("Faults: a crash while registering a receivable", function () {
  this.timeout(180_000);
  let world: FaultWorld;

  before(async function () {
    world = await FaultWorld.create();
  });
  after(async function () {
    await world?.close();
  });

  for (const point of ["tx-sent:register", "indexer:before-commit"]) {
    describe(`when the service is killed at ${point} during the debtor's confirmation`, function () {
      let receivableId: string;
      let key: Record<string, string>;

      before(async function () {
        receivableId = await submitReceivable(world, "tier1", "debtor");
        key = idempotencyKey("confirm");
        await world.crashDuring(point, () =>
          world.as("debtor").post(`/v1/receivables/${receivableId}/confirm`, {}, key),
        );
        await world.start();
      });

      it("finds the receivable registered on the chain exactly once, its root certificate with the seller", async function () {
        expect(await statusOnChain(world, receivableId)).to.equal(1);
        expect(await registrationsOnChain(world, receivableId)).to.equal(1);
        const onChain = await world.contracts.registry.getFunction("receivableOf")(receivableId);
        expect(await ownerOnChain(world, String(onChain.rootCertificateId))).to.equal(world.party("tier1").address);
      });

      it("serves the receivable as active with the chain's root certificate after the restart", async function () {
        const onChain = await world.contracts.registry.getFunction("receivableOf")(receivableId);
        const served = await world.as("tier1").get(`/v1/receivables/${receivableId}`);
        expect(served.status).to.equal(200);
        expect(served.body.status).to.equal("active");
        expect(served.body.rootCertificateId).to.equal(String(onChain.rootCertificateId));
        const certificate = await world.as("tier1").get(`/v1/certificates/${onChain.rootCertificateId}`);
        expect(certificate.body.holderPartyId).to.equal(world.party("tier1").id);
      });

      it("answers a retry with the same Idempotency-Key with the same certificate, and registers nothing again", async function () {
        const onChain = await world.contracts.registry.getFunction("receivableOf")(receivableId);
        const registeredEvent = (
          await world.chainEvents(world.contracts.registry, "ReceivableRegistered", receivableId)
        )[0]!;
        const retried = await world.as("debtor").post(`/v1/receivables/${receivableId}/confirm`, {}, key);
        expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
        expect(retried.body.certificateId).to.equal(String(onChain.rootCertificateId));
        expect(retried.body.txHash).to.equal(registeredEvent.transactionHash);
        const replayed = await world.as("debtor").post(`/v1/receivables/${receivableId}/confirm`, {}, key);
        expect(replayed.headers.get("idempotent-replayed")).to.equal("true");
        expect(replayed.body).to.deep.equal(retried.body);
        expect(await registrationsOnChain(world, receivableId)).to.equal(1);
      });

      it("keeps an index that equals the chain (the auditor's verification)", async function () {
        await world.auditMatches(receivableId);
      });
    });
  }
});
