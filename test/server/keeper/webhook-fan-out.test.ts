// The dispatcher's fan-out turns new outbox events into delivery rows, one per event and
// endpoint that wants it. It ran one transaction and one read of the endpoints per event:
// three of each per registration (submitted, confirmed, registered), three fsyncs on SQLite.
// Now a batch of events is one transaction with one read, on both engines, and each endpoint
// still gets exactly the events it got before.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { ServiceContext } from "../../../server/context.js";
import { WebhookDispatcher } from "../../../server/keeper/webhook-dispatcher.js";
import type { WebhookEventType } from "../../../server/model/webhook-events.js";
import type { Db } from "../../../server/store/database.js";
import { enqueueWebhookEvent } from "../../../server/store/webhook-outbox.js";
import { countTransactions } from "../../helpers/count-transactions.js";
import { openEngineDatabase, type Engine } from "../../helpers/engine-database.js";
import { partyRow } from "../../helpers/party-row.js";

const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, "0")}:00.000Z`;

async function endpoint(
  db: Db,
  id: string,
  partyId: string,
  createdAt: string,
  options: { types?: string[]; status?: string } = {},
) {
  await db
    .insertInto("webhook_endpoints")
    .values({
      id,
      party_id: partyId,
      url: `https://hooks.example/${id}`,
      description: id,
      event_types: options.types ? JSON.stringify(options.types) : null,
      secret: "sealed",
      status: options.status ?? "active",
      created_at: createdAt,
      deleted_at: null,
    })
    .execute();
}

for (const engine of ["sqlite", "postgres"] as Engine[]) {
  describe(`keeper: webhook fan-out, a batch of events at a time (${engine})`, function () {
    this.timeout(60_000);
    let dir: string;
    let db: Db;

    beforeEach(async function () {
      dir = mkdtempSync(path.join(tmpdir(), "tierline-fan-out-"));
      db = await openEngineDatabase(engine, dir);
      await db
        .insertInto("parties")
        .values([
          { ...partyRow("pty_seller"), roles: JSON.stringify(["supplier"]) },
          { ...partyRow("pty_debtor"), roles: JSON.stringify(["debtor"]) },
          { ...partyRow("pty_audit"), roles: JSON.stringify(["auditor"]) },
          { ...partyRow("pty_other"), roles: JSON.stringify(["supplier"]) },
        ])
        .execute();
      await endpoint(db, "ep_seller", "pty_seller", at(0));
      await endpoint(db, "ep_debtor_registered", "pty_debtor", at(0), { types: ["receivable.registered"] });
      await endpoint(db, "ep_audit", "pty_audit", at(0));
      await endpoint(db, "ep_other", "pty_other", at(0)); // concerned by none of the events
      await endpoint(db, "ep_late", "pty_seller", at(30)); // hears only what happens after it exists
      await endpoint(db, "ep_deleted", "pty_seller", at(0), { status: "deleted" });
    });

    afterEach(async function () {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it("fans 60 events out in one transaction, to exactly the endpoints that want each", async function () {
      const types: WebhookEventType[] = ["receivable.submitted", "receivable.confirmed", "receivable.registered"];
      for (let n = 0; n < 20; n++)
        for (const [i, type] of types.entries()) {
          await enqueueWebhookEvent(db, {
            id: `evt_${n}_${i}`,
            type,
            data: { n },
            partyIds: ["pty_seller", "pty_debtor"],
            occurredAt: at(n * 2 + (i === 2 ? 1 : 0)), // minutes 0..39: the late endpoint exists from 30
          });
        }
      const transactions = countTransactions(db);
      const dispatcher = new WebhookDispatcher({ db } as unknown as ServiceContext);

      expect(await dispatcher.fanOut()).to.equal(60);
      expect(transactions()).to.equal(1); // one a batch (it was one an event: 60)

      const rows = await db
        .selectFrom("webhook_deliveries")
        .innerJoin("webhook_outbox", "webhook_outbox.id", "webhook_deliveries.event_id")
        .select(["webhook_deliveries.endpoint_id", "webhook_outbox.type", "webhook_outbox.created_at"])
        .execute();
      const heard = (id: string) => rows.filter((row) => row.endpoint_id === id);
      expect(heard("ep_seller")).to.have.length(60);
      expect(heard("ep_audit")).to.have.length(60); // an auditor's endpoint hears every event
      expect(heard("ep_debtor_registered").map((row) => row.type)).to.deep.equal(
        Array(20).fill("receivable.registered"),
      );
      expect(heard("ep_other")).to.have.length(0);
      expect(heard("ep_deleted")).to.have.length(0);
      const late = heard("ep_late");
      expect(late.every((row) => row.created_at >= at(30))).to.equal(true);
      expect(late).to.have.length(15); // events at minutes 30..39: five n, three types each
      expect(rows).to.have.length(60 + 60 + 20 + 15);
      expect(rows.every((row) => row.created_at >= at(0))).to.equal(true);
      for (const row of await db.selectFrom("webhook_deliveries").select(["state", "attempts"]).execute())
        expect(row).to.deep.equal({ state: "pending", attempts: 0 });

      const left = await db.selectFrom("webhook_outbox").select("id").where("fanned_out", "=", 0).execute();
      expect(left).to.deep.equal([]);
      // Nothing is fanned out twice.
      expect(await dispatcher.fanOut()).to.equal(0);
      expect(await db.selectFrom("webhook_deliveries").select("id").execute()).to.have.length(rows.length);
    });

    it("adds no delivery twice: one written before a crash, its event not yet marked, stays as it was", async function () {
      for (let n = 0; n < 3; n++)
        await enqueueWebhookEvent(db, {
          id: `evt_${n}`,
          type: "receivable.submitted",
          data: {},
          partyIds: ["pty_seller"],
          occurredAt: at(n),
        });
      // A delivery of the second event already there (fanned out before a crash, not yet marked).
      await db
        .insertInto("webhook_deliveries")
        .values({
          event_id: "evt_1",
          endpoint_id: "ep_seller",
          state: "delivered",
          attempts: 1,
          next_attempt_at: 0,
          last_status: 200,
          last_error: null,
          delivered_at: at(2),
          created_at: at(2),
        })
        .execute();
      const dispatcher = new WebhookDispatcher({ db } as unknown as ServiceContext);
      expect(await dispatcher.fanOut()).to.equal(3);
      const rows = await db
        .selectFrom("webhook_deliveries")
        .select(["event_id", "endpoint_id", "state"])
        .where("endpoint_id", "=", "ep_seller")
        .orderBy("event_id")
        .execute();
      expect(rows).to.deep.equal([
        { event_id: "evt_0", endpoint_id: "ep_seller", state: "pending" },
        { event_id: "evt_1", endpoint_id: "ep_seller", state: "delivered" },
        { event_id: "evt_2", endpoint_id: "ep_seller", state: "pending" },
      ]);
    });
  });
}
