// The exposure reads run as several statements; on PostgreSQL (READ COMMITTED) the indexer can
// commit between them. A registration or an opening moving from "under way" to "indexed"
// between two reads must be counted at least once, never missed: otherwise concurrent
// confirmations slip past the debtor's limit (seen on PostgreSQL: 17 x 60 tUSD against 1,000).
// Each case here commits that move after the exposure function's first statement, through a
// Kysely plugin, so the interleaving is forced rather than hoped for.
import { expect } from "chai";
import { useTempDatabase } from "../../helpers/temp-database.js";
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult } from "kysely";
import type { Db } from "../../../server/store/database.js";
import { debtorExposure, financingExposure, supplierExposure } from "../../../server/risk/exposure.js";
import { toParty } from "../../../server/store/parties-store.js";
import { partyRow } from "../../helpers/party-row.js";

/** Runs `move` once, right after the first statement the wrapped database answers. */
function afterFirstStatement(move: () => Promise<void>): KyselyPlugin {
  let done = false;
  return {
    transformQuery: (args: PluginTransformQueryArgs) => args.node,
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<any>> {
      if (!done) {
        done = true;
        await move();
      }
      return args.result;
    },
  };
}

const FACE = "60000000";
const now = () => new Date().toISOString();

async function party(db: Db, id: string, address: string) {
  const row = { ...partyRow(id), address, custodial: 1, api_key_hash: `h_${id}`, created_at: now() };
  await db.insertInto("parties").values(row).execute();
  return toParty(row);
}

describe("risk: exposure reads against the indexer committing between them", function () {
  let db: Db;
  const seller = { id: "pty_seller", address: "0x00000000000000000000000000000000000000a1" };
  const debtor = { id: "pty_debtor", address: "0x00000000000000000000000000000000000000d1" };

  useTempDatabase("exposure", (opened) => (db = opened));

  /** A receivable whose confirmation is under way: reserved (confirming), not yet indexed. */
  async function confirming(id: string) {
    await db
      .insertInto("receivables")
      .values({
        id,
        seller_id: seller.id,
        debtor_id: debtor.id,
        invoice_number: id,
        invoice_number_normalized: id,
        po_number: "PO-1",
        currency: "USD",
        face_value: FACE,
        net_value: FACE,
        due_date: 1,
        document_hash: "0x",
        documents: "{}",
        verification: "{}",
        status: "confirming",
        confirmation: null,
        created_at: now(),
        updated_at: now(),
      })
      .execute();
  }

  /** What the indexer commits once the registration is mined, then what confirm does next. */
  async function indexRegistration(id: string) {
    await db
      .insertInto("onchain_receivables")
      .values({
        id,
        seller: seller.address,
        debtor: debtor.address,
        registrar: seller.address,
        face_value: FACE,
        repaid_amount: "0",
        due_date: 1,
        document_hash: "0x",
        root_certificate_id: "1",
        status: "active",
        register_tx_hash: "0x",
        registered_block: 1,
      })
      .execute();
    await db.updateTable("receivables").set({ status: "registered" }).where("id", "=", id).execute();
  }

  it("counts a confirmation indexed between the debtor exposure's reads", async function () {
    const owes = await party(db, debtor.id, debtor.address);
    await party(db, seller.id, seller.address);
    await confirming("0xr1");
    const racing = db.withPlugin(afterFirstStatement(() => indexRegistration("0xr1")));
    const exposure = await debtorExposure({ db: racing }, owes);
    expect(exposure.total >= BigInt(FACE), `total ${exposure.total}`).to.equal(true);
    // Once settled, the same receivable counts exactly once.
    expect((await debtorExposure({ db }, owes)).total).to.equal(BigInt(FACE));
  });

  it("counts a confirmation indexed between the supplier exposure's reads", async function () {
    await party(db, debtor.id, debtor.address);
    const sells = await party(db, seller.id, seller.address);
    await confirming("0xr2");
    const racing = db.withPlugin(afterFirstStatement(() => indexRegistration("0xr2")));
    const exposure = await supplierExposure({ db: racing }, sells);
    expect(exposure.total >= BigInt(FACE), `total ${exposure.total}`).to.equal(true);
    expect((await supplierExposure({ db }, sells)).total).to.equal(BigInt(FACE));
  });

  it("counts a financing opening indexed and released between the financing exposure's reads", async function () {
    await party(db, debtor.id, debtor.address);
    const holder = await party(db, seller.id, seller.address);
    await indexRegistration("0xr3");
    await db
      .insertInto("onchain_certificates")
      .values({
        id: "1",
        receivable_id: "0xr3",
        parent_id: null,
        holder: seller.address,
        face_value: FACE,
        tier: 1,
        state: "live",
        issued_tx_hash: "0x",
        issued_block: 1,
      })
      .execute();
    const reservation = await db
      .insertInto("limit_reservations")
      .values({
        party_id: seller.id,
        kind: "financing",
        ref: "1",
        amount: "50000000",
        expires_at: new Date(Date.now() + 60_000).toISOString(),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    // The opening is mined and indexed, then its reservation released (financing.ts).
    const indexAndRelease = async () => {
      await db
        .insertInto("onchain_financing_requests")
        .values({
          id: "1",
          certificate_id: "1",
          holder: seller.address,
          kind: "discount",
          price: "50000000",
          repay_amount: "0",
          outstanding: "0",
          status: "open",
          financier: null,
          shortfall: null,
          opened_tx_hash: "0x",
          opened_block: 2,
          funded_tx_hash: null,
          attested_until: null,
          advance_rate_bps: null,
        })
        .execute();
      await db.deleteFrom("limit_reservations").where("id", "=", reservation.id).execute();
    };
    const racing = db.withPlugin(afterFirstStatement(indexAndRelease));
    const exposure = await financingExposure({ db: racing }, holder);
    expect(exposure.total >= 50_000_000n, `total ${exposure.total}`).to.equal(true);
    expect((await financingExposure({ db }, holder)).total).to.equal(50_000_000n);
  });
});
