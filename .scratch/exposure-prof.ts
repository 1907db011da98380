import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "../server/store/database.js";
import { partyExposure } from "../server/domain/audit/exposure.js";
import { partyRow } from "../scripts/lib/sample-rows.js";

const size = Number(process.env.SIZE ?? 25000);
const dir = mkdtempSync(path.join(tmpdir(), "exp-"));
const db = await openDatabase(path.join(dir, "t.db"));
const sellers = Array.from({ length: 20 }, (_, i) => partyRow(`pty_seller${i}`));
const debtor = partyRow("pty_debtor");
await db.insertInto("parties").values([debtor, ...sellers]).execute();
for (let i = 0; i < size; i += 500) {
  const owed = [];
  for (let k = i; k < Math.min(size, i + 500); k++)
    owed.push({ id: `rcv_${k}`, seller: sellers[k % 20]!.address, debtor: debtor.address, registrar: "0x", face_value: "10000000", repaid_amount: "0", due_date: 1_775_347_200 + k * 100, document_hash: "0x", root_certificate_id: String(k + 1), status: "active", register_tx_hash: "0x", registered_block: k });
  await db.insertInto("onchain_receivables").values(owed).execute();
}
const ctx = { db, now: () => new Date(), indexer: { indexedBlock: async () => 1 }, chain: { provider: { getBlock: async () => ({ timestamp: 1_770_000_000 }) } } } as any;
const actor = { kind: "operator", roles: ["operator"] } as any;
for (let r = 0; r < 7; r++) {
  const t = performance.now();
  const e = await partyExposure(ctx, actor, "pty_debtor");
  const t2 = performance.now();
  const json = JSON.stringify(e);
  console.log(`exposure ${(t2 - t).toFixed(1)} ms, stringify ${(performance.now() - t2).toFixed(1)} ms, ${json.length} bytes`);
}
await db.destroy();
