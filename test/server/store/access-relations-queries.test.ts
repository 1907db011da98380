// A list page asks the access policy once per row, and each answer needs the row's receivable
// tree. Read one tree per row and a page of 200 costs 800 statements; the trees of a page are
// read together instead, in the same few statements whatever the page's size, each answered
// from an index.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { type Kysely, type CompiledQuery } from "kysely";
import { openDatabase } from "../../../server/store/database.js";
import { capturingDatabase, tableScansIn } from "./captured-plans.js";
import type { Database } from "../../../server/store/schema.js";
import { ReceivableRelations } from "../../../server/store/access-relations.js";
import type { Actor } from "../../../server/model/actor.js";

const HOLDER = "0x00000000000000000000000000000000000000a1";
const FINANCIER = "0x00000000000000000000000000000000000000f1";
const receivableId = (n: number) => "0x" + n.toString(16).padStart(64, "0");

const financier = { id: "pty_f", address: FINANCIER, roles: ["financier"] } as unknown as Actor;

describe("store: a page's receivable trees are read together, from indexes", function () {
  let dir: string;
  let file: string;
  let ran: CompiledQuery[];
  let db: Kysely<Database>;

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-relations-"));
    file = path.join(dir, "tierline.db");
    await (await openDatabase(file)).destroy(); // migrated to the latest schema
    ran = [];
    db = capturingDatabase(file, ran);
    // 30 receivables, each a root split in two; the second piece of each is offered for sale.
    for (let n = 1; n <= 30; n++) {
      const root = String(n * 10);
      for (const [id, parent, state] of [
        [root, null, "retired"],
        [String(n * 10 + 1), root, "live"],
        [String(n * 10 + 2), root, "locked"],
      ] as const) {
        await db
          .insertInto("onchain_certificates")
          .values({
            id,
            receivable_id: receivableId(n),
            parent_id: parent,
            holder: HOLDER,
            face_value: "100",
            tier: 1,
            state,
            issued_tx_hash: "0x1",
            issued_block: n,
          })
          .execute();
      }
      await db
        .insertInto("onchain_financing_requests")
        .values({
          id: `req_${n}`,
          certificate_id: String(n * 10 + 2),
          holder: HOLDER,
          kind: "discount",
          price: "90",
          repay_amount: "100",
          outstanding: "0",
          status: "open",
          financier: null,
          shortfall: null,
          opened_tx_hash: "0x2",
          opened_block: n,
        })
        .execute();
    }
  });
  afterEach(async function () {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the same four statements for one tree and for thirty", async function () {
    ran.length = 0;
    await ReceivableRelations.loadMany(db, financier, [receivableId(1)]);
    const forOne = ran.length;
    ran.length = 0;
    const ids = Array.from({ length: 30 }, (_, i) => receivableId(i + 1));
    const trees = await ReceivableRelations.loadMany(db, financier, ids);
    expect(forOne).to.equal(4);
    expect(ran.length).to.equal(forOne);
    expect(trees.size).to.equal(30);
  });

  it("gives each receivable exactly the tree a read of that receivable alone gives", async function () {
    const ids = Array.from({ length: 30 }, (_, i) => receivableId(i + 1));
    const together = await ReceivableRelations.loadMany(db, financier, ids);
    for (const id of ids) {
      const alone = await ReceivableRelations.load(db, financier, id);
      const tree = together.get(id)!;
      expect(tree.pieces).to.deep.equal(alone.pieces);
      expect(tree.financing).to.deep.equal(alone.financing);
      expect([...tree.toReceivable()]).to.deep.equal([...alone.toReceivable()]);
      expect(tree.pieces.map((p) => p.id).sort()).to.have.length(3);
      expect(tree.financing).to.have.length(1);
    }
  });

  it("answers every statement of a page's read from an index", async function () {
    ran.length = 0;
    await ReceivableRelations.loadMany(
      db,
      financier,
      Array.from({ length: 30 }, (_, i) => receivableId(i + 1)),
    );
    const scans = tableScansIn(file, ran);
    expect(scans, scans.join("\n")).to.deep.equal([]);
  });
});
