// The keeper's search for receivables to settle as it was before migration 0029: one read of
// every repaid receivable and every certificate. Kept as the reference the new search is
// measured against (`npm run bench:keeper`) and checked against
// (test/server/keeper/settlement-candidates.test.ts); the service runs keeper/work.ts.
import type { Db } from "../../server/store/database.js";

export async function candidatesByFullRead(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom("onchain_receivables")
    .select("id")
    .where((eb) =>
      eb.or([
        eb("repaid_amount", "!=", eb.ref("distributed")),
        eb.and([
          eb("status", "=", "repaid"),
          eb(
            "id",
            "in",
            eb.selectFrom("onchain_certificates").select("receivable_id").where("state", "in", ["live", "locked"]),
          ),
        ]),
      ]),
    )
    .orderBy("registered_block")
    .execute();
  return rows.map((row) => row.id);
}
