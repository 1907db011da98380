// The stress test's recourse reads (issue 16) go through indexes: the open recourse claims by
// status, and the endorsements and lineage of only the receivables whose debtor defaults in the
// run, by receivable id. A scan of either table would grow every stress run with the whole book.
// The statements are captured as the functions run them and explained by SQLite.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { type CompiledQuery } from "kysely";
import { openDatabase } from "../../../server/store/database.js";
import { capturingDatabase, tableScansIn } from "./captured-plans.js";
import type { CreditExposure } from "../../../server/risk/network/build-graph.js";
import { readChains, withOpenRecourseClaims } from "../../../server/risk/network/network-risk.js";

const RECEIVABLE = `0x${"11".repeat(32)}`;
const [SELLER, TIER2, TIER3] = ["0xA1", "0xB2", "0xC3"].map((p) => p.padEnd(42, "0"));

describe("store: the stress test's recourse reads use indexes", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-stress-plans-"));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads open claims, endorsements and the lineage without scanning a table", async function () {
    const file = path.join(dir, "tierline.db");
    await (await openDatabase(file)).destroy(); // migrated to the latest schema
    const ran: CompiledQuery[] = [];
    const db = capturingDatabase(file, ran);
    try {
      // root #1 (seller, endorsed) -> #2 (tier 2, endorsed, retired) -> #3 held by tier 3.
      const cert = (id: string, parent: string | null, holder: string, tier: number, state: string) => ({
        id,
        receivable_id: RECEIVABLE,
        parent_id: parent,
        holder,
        face_value: "100",
        tier,
        state,
        issued_tx_hash: "0x",
        issued_block: 1,
      });
      await db
        .insertInto("onchain_certificates")
        .values([
          cert("1", null, SELLER!, 1, "retired"),
          cert("2", "1", TIER2!, 2, "retired"),
          cert("3", "2", TIER3!, 3, "live"),
        ])
        .execute();
      await db
        .insertInto("onchain_recourse_endorsements")
        .values([
          { certificate_id: "1", endorsement_index: 0, endorser: SELLER!, tx_hash: "0x", block_number: 1 },
          { certificate_id: "2", endorsement_index: 0, endorser: TIER2!, tx_hash: "0x", block_number: 2 },
        ])
        .execute();
      const exposure: CreditExposure = {
        certificateId: "3",
        receivableId: RECEIVABLE,
        tier: 3,
        holder: TIER3!,
        debtor: "0xD4".padEnd(42, "0"),
        outstanding: 100n,
      };
      ran.length = 0;
      const { takenOver } = await withOpenRecourseClaims(db, [exposure]);
      const chains = new Map<string, string[]>();
      await readChains(db, [RECEIVABLE], [exposure], takenOver, chains);
      expect(chains.get("3"), "nearest endorser first, then up to the seller").to.deep.equal([TIER2, SELLER]);
      expect(ran.length).to.equal(3);

      const scans = tableScansIn(file, ran);
      expect(scans, scans.join("\n")).to.deep.equal([]);
    } finally {
      await db.destroy();
    }
  });
});
