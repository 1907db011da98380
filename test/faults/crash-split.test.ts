// Splitting under a crash: the service (a real child process) dies by SIGKILL after the
// split transaction is broadcast, or while the indexer writes the new certificates, and is
// started again. The certificate is split exactly once, the children are where the chain
// says, a retry with the same Idempotency-Key answers with the same children and splits
// nothing again, and the index equals the chain.
import { expect } from "chai";
import { FaultWorld } from "./child-service.js";
import { idempotencyKey, ownerOnChain, registerReceivable, splitBody, splitsOnChain, type Part } from "./flows.js";

describe("Faults: a crash while splitting a certificate", function () {
  this.timeout(180_000);
  let world: FaultWorld;

  before(async function () {
    world = await FaultWorld.create();
  });
  after(async function () {
    await world?.close();
  });

  for (const point of ["tx-sent:split", "indexer:before-commit"]) {
    describe(`when the service is killed at ${point} during a split`, function () {
      let receivableId: string;
      let rootId: string;
      let key: Record<string, string>;
      const parts: Part[] = [
        { to: "tier2", amount: 60_000_000n },
        { to: "tier1", amount: 40_000_000n },
      ];

      before(async function () {
        ({ id: receivableId, rootId } = await registerReceivable(world, "tier1", "debtor"));
        key = idempotencyKey("split");
        await world.crashDuring(point, () =>
          world.as("tier1").post(`/v1/certificates/${rootId}/split`, splitBody(world, parts), key),
        );
        await world.start();
      });

      it("finds the certificate split exactly once on the chain, each child with its holder", async function () {
        const splits = await splitsOnChain(world, rootId);
        expect(splits).to.have.length(1);
        expect(await ownerOnChain(world, rootId)).to.equal(undefined);
        const children = splits[0]!;
        expect(await Promise.all(children.map((id) => ownerOnChain(world, id)))).to.deep.equal(
          parts.map((p) => world.party(p.to).address),
        );
        expect(await world.contracts.certificates.getFunction("leafCountOf")(receivableId)).to.equal(2n);
      });

      it("serves the parent as retired and the children with their holders and amounts", async function () {
        const [children] = await splitsOnChain(world, rootId);
        expect((await world.as("tier1").get(`/v1/certificates/${rootId}`)).body.state).to.equal("retired");
        for (const [i, id] of children!.entries()) {
          const child = await world.as("tier1").get(`/v1/certificates/${id}`);
          expect(child.status).to.equal(200);
          expect({
            holder: child.body.holderPartyId,
            faceValue: child.body.faceValue,
            parentId: child.body.parentId,
            state: child.body.state,
          }).to.deep.equal({
            holder: world.party(parts[i]!.to).id,
            faceValue: parts[i]!.amount.toString(),
            parentId: rootId,
            state: "live",
          });
        }
      });

      it("answers a retry with the same Idempotency-Key with the same children, and splits nothing again", async function () {
        const [children] = await splitsOnChain(world, rootId);
        const splitEvent = (await world.chainEvents(world.contracts.certificates, "CertificateSplit", rootId))[0]!;
        const retried = await world.as("tier1").post(`/v1/certificates/${rootId}/split`, splitBody(world, parts), key);
        expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
        expect(retried.body.children.map((c: { id: string }) => c.id)).to.deep.equal(children);
        expect(retried.body.txHash).to.equal(splitEvent.transactionHash);
        expect(await splitsOnChain(world, rootId)).to.have.length(1);
      });

      it("refuses the same split without the key: the certificate is retired", async function () {
        const again = await world.as("tier1").post(`/v1/certificates/${rootId}/split`, splitBody(world, parts));
        expect(again.status).to.equal(409);
        expect(again.body.error.code).to.equal("CERTIFICATE_RETIRED");
        expect(await splitsOnChain(world, rootId)).to.have.length(1);
      });

      it("keeps an index that equals the chain (the auditor's verification)", async function () {
        await world.auditMatches(receivableId);
      });
    });
  }
});
