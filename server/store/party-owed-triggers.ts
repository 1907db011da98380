// What each party still owes (as debtor) and has sold that is still owed (as seller), kept by
// triggers on onchain_receivables in `party_owed` (migration 0022), so a limit check reads one
// row instead of summing the party's book. A receivable counts max(0, face - credited - repaid)
// until it is repaid; every insert, update and delete of the index (a reindex empties it row
// by row) moves the sums by the difference, whichever code path wrote it.
import type { QueryExecutorProvider } from "kysely";
import { type TriggerEngine, changedColumns, runTriggerStatements } from "./trigger-sql.js";

const TRACKED = ["debtor", "seller", "face_value", "credited", "repaid_amount", "status"];
const SIDES = ["debtor", "seller"] as const;

/** Creates the triggers and sums the rows already indexed. */
export async function trackPartyOwed(db: QueryExecutorProvider, engine: TriggerEngine): Promise<void> {
  await runTriggerStatements(db, engine, { sqlite: sqliteStatements, postgres: postgresStatements });
}

/** PostgreSQL: numeric is exact at any size, so `wide` stays 0. */
function postgresStatements(): string[] {
  const owed = (row: string) =>
    `greatest(0, ${row}.face_value::numeric - ${row}.credited::numeric - ${row}.repaid_amount::numeric)`;
  const apply = (row: "old" | "new", sign: "" | "-") =>
    `insert into party_owed (address, side, owed, wide)
       values (${row}.debtor, 'debtor', ${sign}${owed(row)}, 0), (${row}.seller, 'seller', ${sign}${owed(row)}, 0)
       on conflict (address, side) do update set owed = party_owed.owed + excluded.owed;`;
  const changed = changedColumns("postgres", TRACKED);
  return [
    `create function party_owed_track() returns trigger language plpgsql as $$
     begin
       if tg_op <> 'INSERT' and old.status <> 'repaid' then ${apply("old", "-")} end if;
       if tg_op <> 'DELETE' and new.status <> 'repaid' then ${apply("new", "")} end if;
       return null;
     end $$`,
    `create trigger party_owed_insert_delete after insert or delete on onchain_receivables
       for each row execute function party_owed_track()`,
    `create trigger party_owed_update after update on onchain_receivables
       for each row when (${changed}) execute function party_owed_track()`,
    `insert into party_owed (address, side, owed, wide)
       select address, side, sum(owed), 0 from (
         ${SIDES.map((side) => `select r.${side} as address, '${side}' as side, ${owed("r")} as owed from onchain_receivables r where r.status <> 'repaid'`).join(" union all ")}
       ) as book group by address, side`,
  ];
}

/**
 * SQLite sums in 64-bit integers. An amount of more than 18 digits is not summed but counted in
 * `wide`, and a sum that overflows becomes a real (SQLite's arithmetic does that): in either
 * case the reader sums that party's rows itself. Neither happens with a 6-decimal token below
 * 10^12 units a receivable.
 */
function sqliteStatements(): string[] {
  const wide = (row: string) =>
    `(length(${row}.face_value) > 18 or length(${row}.credited) > 18 or length(${row}.repaid_amount) > 18)`;
  const owed = (row: string) =>
    `(case when ${row}.status = 'repaid' or ${wide(row)} then 0 ` +
    `else max(0, cast(${row}.face_value as integer) - cast(${row}.credited as integer) - cast(${row}.repaid_amount as integer)) end)`;
  const wideCount = (row: string) => `(${row}.status != 'repaid' and ${wide(row)})`;
  const upsert = "on conflict (address, side) do update set owed = owed + excluded.owed, wide = wide + excluded.wide;";
  const apply = (row: "old" | "new", sign: "" | "-") =>
    SIDES.map(
      (side) =>
        `insert into party_owed (address, side, owed, wide) values (${row}.${side}, '${side}', ${sign}${owed(row)}, ${sign}${wideCount(row)}) ${upsert}`,
    ).join(" ");
  const changed = changedColumns("sqlite", TRACKED);
  return [
    `create trigger party_owed_insert after insert on onchain_receivables begin ${apply("new", "")} end`,
    `create trigger party_owed_update after update on onchain_receivables when ${changed} begin ${apply("old", "-")} ${apply("new", "")} end`,
    `create trigger party_owed_delete after delete on onchain_receivables begin ${apply("old", "-")} end`,
    // Row by row through the same arithmetic, so an overflow turns the sum into a real here too
    // (sum() would raise an error instead). `where true` lets SQLite parse the upsert after a select.
    ...SIDES.map(
      (side) =>
        `insert into party_owed (address, side, owed, wide) select r.${side}, '${side}', ${owed("r")}, ${wideCount("r")} from onchain_receivables r where true ${upsert}`,
    ),
  ];
}
