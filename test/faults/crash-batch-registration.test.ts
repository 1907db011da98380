// Registration in batches under a crash: confirmations accepted with 202 (Prefer:
// respond-async) are in the batcher's window when the service (a real child process) dies
// by SIGKILL, either before their batch is sent or right after it is broadcast and before
// anything is recorded. The service is started again on the same data directory and chain.
// Each receivable is then registered exactly once, from the consent stored at acceptance
// (nobody confirms again), and a batch that was on the chain is never sent a second time.
import { expect } from "chai";
import { eventually, FaultWorld } from "./child-service.js";
import { registrationsOnChain, statusOnChain, submitReceivable } from "./flows.js";

const ASYNC = { prefer: "respond-async" };

describe("Faults: a crash while a registration batch is under way", function () {
  this.timeout(180_000);
  let world: FaultWorld;

  before(async function () {
    // A window long enough for both confirmations to be answered 202 and share one batch.
    world = await FaultWorld.create({ TIERLINE_BATCH_WINDOW_MS: "300" });
  });
  after(async function () {
    await world?.close();
  });

  for (const point of ["registration:before-batch", "tx-sent:register"]) {
    describe(`when the service is killed at ${point} after answering 202`, function () {
      let ids: string[];
      let accepted: Array<{ status: number; location: string | null }>;

      before(async function () {
        ids = [await submitReceivable(world, "tier1", "debtor"), await submitReceivable(world, "tier2", "debtor")];
        await world.crashDuring(
          point,
          async () => {
            const answers = await Promise.all(
              ids.map((id) => world.as("debtor").post(`/v1/receivables/${id}/confirm`, {}, ASYNC)),
            );
            accepted = answers.map((a) => ({ status: a.status, location: a.headers.get("location") }));
          },
          { requestDropped: false },
        );
        await world.start();
      });

      it("had accepted both confirmations before the crash", function () {
        expect(accepted.map((a) => a.status)).to.deep.equal([202, 202]);
        expect(accepted.map((a) => a.location)).to.deep.equal(ids.map((id) => `/v1/receivables/${id}/registration`));
      });

      it("registers each exactly once after the restart, without the debtor confirming again", async function () {
        for (const id of ids) {
          const state = await eventually(`receivable ${id} registered`, async () => {
            const answer = await world.as("debtor").get(`/v1/receivables/${id}/registration`);
            return answer.body.state === "registered" ? answer.body : undefined;
          });
          const onChain = await world.contracts.registry.getFunction("receivableOf")(id);
          expect(state.certificateId).to.equal(String(onChain.rootCertificateId));
          expect(await statusOnChain(world, id)).to.equal(1);
          expect(await registrationsOnChain(world, id)).to.equal(1);
        }
      });

      it("never sends a registration the chain already has (no refusal of a duplicate in the logs)", async function () {
        for (const id of ids) {
          const refused = await world.chainEvents(world.contracts.registry, "RegistrationRefused", null, id);
          expect(refused, `receivable ${id}`).to.have.length(0);
        }
      });

      it("keeps an index that equals the chain (the auditor's verification)", async function () {
        for (const id of ids) await world.auditMatches(id);
      });
    });
  }
});
