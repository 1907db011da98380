import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { Migrator } from "kysely/migration";
import { migrations } from "../server/store/migrations.js";
import { partyRow } from "../scripts/lib/sample-rows.js";

const size = Number(process.env.SIZE ?? 100000);
const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(path.join(mkdtempSync(path.join(tmpdir(), "mig-")), "t.db")) }) });
const m = new Migrator({ db, provider: { getMigrations: async () => migrations } });
console.log((await m.migrateTo("0021_receivables_by_pair_created")).error);
const sellers = Array.from({ length: 20 }, (_, i) => partyRow(`pty_seller${i}`));
const debtor = partyRow("pty_debtor");
await db.insertInto("parties").values([debtor, ...sellers]).execute();
for (let i = 0; i < size; i += 500) {
  const owed = [];
  for (let k = i; k < Math.min(size, i + 500); k++)
    owed.push({ id: `rcv_${k}`, seller: sellers[k % 20]!.address, debtor: debtor.address, registrar: "0x", face_value: "10000000", repaid_amount: "0", due_date: 1_775_347_200 + k * 100, document_hash: "0x", root_certificate_id: String(k + 1), status: "active", register_tx_hash: "0x", registered_block: k });
  await db.insertInto("onchain_receivables").values(owed).execute();
}
const t = performance.now();
console.log((await m.migrateToLatest()).error, `${(performance.now() - t).toFixed(0)} ms`);
console.log(await db.selectFrom("party_owed").selectAll().where("side", "=", "debtor").execute());
await db.destroy();
