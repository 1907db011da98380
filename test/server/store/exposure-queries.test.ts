// The limit checks run on every confirmation and every financing opening, and the risk score
// on every submission: each reads one party's side of the book. Every statement they run
// must be answered by an index, never a scan of the whole table, or each registration gets
// slower as the book grows (issue 12). The statements are captured as the functions run
// them, so a new query is checked too.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { type CompiledQuery } from "kysely";
import { openDatabase } from "../../../server/store/database.js";
import { capturingDatabase, tableScansIn } from "./captured-plans.js";
import { toParty } from "../../../server/store/parties-store.js";
import { debtorExposure, financingExposure, supplierExposure } from "../../../server/risk/exposure.js";
import { loadPartyHistory } from "../../../server/risk/history.js";
import type { ServiceContext } from "../../../server/context.js";

const row = {
  id: "pty_a",
  name: "a",
  registry_id: "a",
  legal_id_hash: "0xa",
  industry: "retail",
  roles: "[]",
  address: "0x00000000000000000000000000000000000000a1",
  custodial: 0,
  encrypted_key: null,
  api_key_hash: "h_a",
  related_party_ids: "[]",
  status: "active" as const,
  created_at: "2026-01-01T00:00:00.000Z",
};

describe("store: the limit and score reads use indexes", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-exposure-plans-"));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers every statement of the exposure and history reads from an index", async function () {
    const file = path.join(dir, "tierline.db");
    await (await openDatabase(file)).destroy(); // migrated to the latest schema
    const ran: CompiledQuery[] = [];
    const db = capturingDatabase(file, ran);
    try {
      await db.insertInto("parties").values(row).execute();
      ran.length = 0;
      const party = toParty(row);
      await debtorExposure({ db }, party);
      await supplierExposure({ db }, party);
      await financingExposure({ db }, party);
      await loadPartyHistory({ db, now: () => new Date() } as unknown as ServiceContext, party);
      expect(ran.length).to.be.at.least(6);

      const scans = tableScansIn(file, ran);
      expect(scans, scans.join("\n")).to.deep.equal([]);
    } finally {
      await db.destroy();
    }
  });
});
