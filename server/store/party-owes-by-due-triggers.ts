// What each debtor still owes, by due date, kept by triggers on onchain_receivables in
// `party_owes_by_due` (migration 0027), so the exposure report's "owes" totals (the sum, the
// count and the maturity buckets) read one row per distinct due date instead of every
// receivable the debtor owes (issue 12: 66 ms for the debtor of 25,000, 314 ms at 100,000). A
// receivable counts face - credited - repaid, and 1 in `count`, while it is not repaid and that
// is above zero, as domain/audit/exposure-lists.ts counts it.
import type { QueryExecutorProvider } from "kysely";
import { type TriggerEngine, rowTriggers, runTriggerStatements } from "./trigger-sql.js";

const TRIGGERS = {
  name: "party_owes_by_due",
  table: "onchain_receivables",
  tracked: ["debtor", "due_date", "face_value", "credited", "repaid_amount", "status"],
};

/** Creates the triggers and sums the receivables already indexed. */
export async function trackOwesByDue(db: QueryExecutorProvider, engine: TriggerEngine): Promise<void> {
  await runTriggerStatements(db, engine, { sqlite: sqliteStatements, postgres: postgresStatements });
}

/** PostgreSQL: numeric is exact at any size, so `wide` stays 0. */
function postgresStatements(): string[] {
  const outstanding = (row: string) =>
    `(${row}.face_value::numeric - ${row}.credited::numeric - ${row}.repaid_amount::numeric)`;
  const apply = (row: "old" | "new", sign: "" | "-") =>
    `if ${row}.status <> 'repaid' and ${outstanding(row)} > 0 then
       insert into party_owes_by_due values (${row}.debtor, ${row}.due_date, ${sign}${outstanding(row)}, ${sign}1, 0)
         on conflict (address, due_date) do update set amount = party_owes_by_due.amount + excluded.amount,
                                                      count = party_owes_by_due.count + excluded.count;
     end if;`;
  const prune = "delete from party_owes_by_due where address = old.debtor and due_date = old.due_date and count = 0;";
  return [
    ...rowTriggers("postgres", { ...TRIGGERS, takeOut: `${apply("old", "-")} ${prune}`, putIn: apply("new", "") }),
    `insert into party_owes_by_due
       select r.debtor, r.due_date, sum(${outstanding("r")}), count(*), 0 from onchain_receivables r
       where r.status <> 'repaid' and ${outstanding("r")} > 0 group by r.debtor, r.due_date`,
  ];
}

/**
 * SQLite sums in 64-bit integers. A receivable with an amount of more than 18 digits is not
 * summed but counted in `wide` (whether it owes anything is not known without its exact sum),
 * and a sum that overflows becomes a real: in either case the report sums the rows itself.
 */
function sqliteStatements(): string[] {
  const wide = (row: string) =>
    `(length(${row}.face_value) > 18 or length(${row}.credited) > 18 or length(${row}.repaid_amount) > 18)`;
  const outstanding = (row: string) =>
    `(cast(${row}.face_value as integer) - cast(${row}.credited as integer) - cast(${row}.repaid_amount as integer))`;
  const upsert =
    "on conflict (address, due_date) do update set amount = amount + excluded.amount, count = count + excluded.count, wide = wide + excluded.wide";
  /** One receivable's part: summed when it fits and owes something, counted in `wide` when it does not fit. */
  const part = (row: string, sign: "" | "-") =>
    `select ${row}.debtor, ${row}.due_date,
            ${sign}(case when ${wide(row)} then 0 else ${outstanding(row)} end),
            ${sign}(case when ${wide(row)} then 0 else 1 end),
            ${sign}${wide(row)}
     where ${row}.status <> 'repaid' and (${wide(row)} or ${outstanding(row)} > 0)`;
  const apply = (row: "old" | "new", sign: "" | "-") =>
    `insert into party_owes_by_due (address, due_date, amount, count, wide) ${part(row, sign)} ${upsert};`;
  // A due date nothing is owed on any more leaves no row behind: the report reads them all.
  const prune = `delete from party_owes_by_due where address = old.debtor and due_date = old.due_date and count = 0 and wide = 0;`;
  return [
    ...rowTriggers("sqlite", { ...TRIGGERS, takeOut: `${apply("old", "-")} ${prune}`, putIn: apply("new", "") }),
    // Row by row through the same arithmetic, so an overflow turns the sum into a real here too.
    `insert into party_owes_by_due (address, due_date, amount, count, wide)
       select r.debtor, r.due_date,
              (case when ${wide("r")} then 0 else ${outstanding("r")} end),
              (case when ${wide("r")} then 0 else 1 end), ${wide("r")}
       from onchain_receivables r where r.status <> 'repaid' and (${wide("r")} or ${outstanding("r")} > 0) ${upsert}`,
  ];
}
