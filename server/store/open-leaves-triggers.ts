// Which receivables still have leaves to close, kept by triggers in `receivable_open_leaves`
// (migration 0029): per receivable, how many of its certificates are live or locked, and
// whether it is repaid. Every keeper pass (each 2 s) looks for receivables repaid with leaves
// not yet settled; it read every repaid receivable and every certificate to find them (47 ms
// at 100,000 receivables, blocking the event loop), and now reads the rows marked repaid here,
// which are only those still to close (issue 12).
// A certificate's row may be projected before its receivable's (the registry issues the root
// before it emits ReceivableRegistered), so both tables' triggers write `repaid`.
import type { QueryExecutorProvider } from "kysely";
import { type TriggerEngine, changedColumns, rowTriggers, runTriggerStatements } from "./trigger-sql.js";

const OPEN = "('live', 'locked')";
const CERTIFICATES = { name: "open_leaves", table: "onchain_certificates", tracked: ["receivable_id", "state"] };

/** Creates the triggers and counts the open leaves already indexed. */
export async function trackOpenLeaves(db: QueryExecutorProvider, engine: TriggerEngine): Promise<void> {
  await runTriggerStatements(db, engine, { sqlite: sqliteStatements, postgres: postgresStatements });
}

const repaidOf = (receivableId: string) =>
  `coalesce((select case when r.status = 'repaid' then 1 else 0 end from onchain_receivables r where r.id = ${receivableId}), 0)`;
const prune = "delete from receivable_open_leaves where receivable_id = old.receivable_id and open_leaves = 0;";
const markRepaid = (row: "old" | "new", repaid: string) =>
  `update receivable_open_leaves set repaid = ${repaid} where receivable_id = ${row}.id;`;
const backfill = `insert into receivable_open_leaves (receivable_id, open_leaves, repaid)
  select c.receivable_id, count(*), ${repaidOf("c.receivable_id")} from onchain_certificates c
  where c.state in ${OPEN} group by c.receivable_id`;

function sqliteStatements(): string[] {
  const count = (row: "old" | "new", sign: "" | "-") =>
    `insert into receivable_open_leaves (receivable_id, open_leaves, repaid)
       select ${row}.receivable_id, ${sign}1, ${repaidOf(`${row}.receivable_id`)} where ${row}.state in ${OPEN}
       on conflict (receivable_id) do update set open_leaves = open_leaves + excluded.open_leaves;`;
  const isRepaid = "(case when new.status = 'repaid' then 1 else 0 end)";
  return [
    ...rowTriggers("sqlite", { ...CERTIFICATES, takeOut: `${count("old", "-")} ${prune}`, putIn: count("new", "") }),
    `create trigger open_leaves_receivable_insert after insert on onchain_receivables begin ${markRepaid("new", isRepaid)} end`,
    `create trigger open_leaves_receivable_update after update on onchain_receivables
       when ${changedColumns("sqlite", ["status"])} begin ${markRepaid("new", isRepaid)} end`,
    `create trigger open_leaves_receivable_delete after delete on onchain_receivables begin ${markRepaid("old", "0")} end`,
    backfill,
  ];
}

function postgresStatements(): string[] {
  const count = (row: "old" | "new", sign: "" | "-") =>
    `if ${row}.state in ${OPEN} then
       insert into receivable_open_leaves (receivable_id, open_leaves, repaid)
         values (${row}.receivable_id, ${sign}1, ${repaidOf(`${row}.receivable_id`)})
         on conflict (receivable_id) do update
           set open_leaves = receivable_open_leaves.open_leaves + excluded.open_leaves;
     end if;`;
  return [
    ...rowTriggers("postgres", { ...CERTIFICATES, takeOut: `${count("old", "-")} ${prune}`, putIn: count("new", "") }),
    `create function open_leaves_repaid() returns trigger language plpgsql as $$
     begin
       if tg_op = 'DELETE' then ${markRepaid("old", "0")}
       else ${markRepaid("new", "(case when new.status = 'repaid' then 1 else 0 end)")} end if;
       return null;
     end $$`,
    `create trigger open_leaves_receivable_insert_delete after insert or delete on onchain_receivables
       for each row execute function open_leaves_repaid()`,
    `create trigger open_leaves_receivable_update after update on onchain_receivables
       for each row when (${changedColumns("postgres", ["status"])}) execute function open_leaves_repaid()`,
    backfill,
  ];
}
