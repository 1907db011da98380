// How many transactions the journal holds per kind and state, kept by triggers on tx_journal
// in `tx_journal_counts` (migration 0028). GET /metrics reports them (tierline_transactions):
// it counted the whole journal at every scrape, and the journal gains a row per transaction
// the service ever sent (issue 12); it now reads a row per kind and state.
import type { QueryExecutorProvider } from "kysely";
import { type TriggerEngine, changedColumns, runTriggerStatements } from "./trigger-sql.js";

const TRACKED = ["kind", "state"];

/** Creates the triggers and counts the journal as it stands. */
export async function trackJournalCounts(db: QueryExecutorProvider, engine: TriggerEngine): Promise<void> {
  await runTriggerStatements(db, engine, { sqlite: sqliteStatements, postgres: postgresStatements });
}

// A kind and state no transaction is in any more leaves no row behind.
const prune = "delete from tx_journal_counts where kind = old.kind and state = old.state and count = 0;";

function sqliteStatements(): string[] {
  const add = (row: "old" | "new", sign: "" | "-") =>
    `insert into tx_journal_counts (kind, state, count) values (${row}.kind, ${row}.state, ${sign}1)
       on conflict (kind, state) do update set count = count + excluded.count;`;
  return [
    `create trigger tx_journal_counts_insert after insert on tx_journal begin ${add("new", "")} end`,
    `create trigger tx_journal_counts_update after update on tx_journal when ${changedColumns("sqlite", TRACKED)}
       begin ${add("old", "-")} ${prune} ${add("new", "")} end`,
    `create trigger tx_journal_counts_delete after delete on tx_journal begin ${add("old", "-")} ${prune} end`,
    "insert into tx_journal_counts (kind, state, count) select kind, state, count(*) from tx_journal group by kind, state",
  ];
}

function postgresStatements(): string[] {
  const add = (row: "old" | "new", sign: "" | "-") =>
    `insert into tx_journal_counts (kind, state, count) values (${row}.kind, ${row}.state, ${sign}1)
       on conflict (kind, state) do update set count = tx_journal_counts.count + excluded.count;`;
  return [
    `create function tx_journal_counts_track() returns trigger language plpgsql as $$
     begin
       if tg_op <> 'INSERT' then ${add("old", "-")} ${prune} end if;
       if tg_op <> 'DELETE' then ${add("new", "")} end if;
       return null;
     end $$`,
    `create trigger tx_journal_counts_insert_delete after insert or delete on tx_journal
       for each row execute function tx_journal_counts_track()`,
    `create trigger tx_journal_counts_update after update on tx_journal
       for each row when (${changedColumns("postgres", TRACKED)}) execute function tx_journal_counts_track()`,
    "insert into tx_journal_counts (kind, state, count) select kind, state, count(*) from tx_journal group by kind, state",
  ];
}
