// How many transactions the journal holds per kind and state, kept by triggers on tx_journal
// in `tx_journal_counts` (migration 0028). GET /metrics reports them (tierline_transactions):
// it counted the whole journal at every scrape, and the journal gains a row per transaction
// the service ever sent (issue 12); it now reads a row per kind and state.
import type { QueryExecutorProvider } from "kysely";
import { type TriggerEngine, rowTriggers, runTriggerStatements } from "./trigger-sql.js";

const TRIGGERS = { name: "tx_journal_counts", table: "tx_journal", tracked: ["kind", "state"] };

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
    ...rowTriggers("sqlite", { ...TRIGGERS, takeOut: `${add("old", "-")} ${prune}`, putIn: add("new", "") }),
    "insert into tx_journal_counts (kind, state, count) select kind, state, count(*) from tx_journal group by kind, state",
  ];
}

function postgresStatements(): string[] {
  const add = (row: "old" | "new", sign: "" | "-") =>
    `insert into tx_journal_counts (kind, state, count) values (${row}.kind, ${row}.state, ${sign}1)
       on conflict (kind, state) do update set count = tx_journal_counts.count + excluded.count;`;
  return [
    ...rowTriggers("postgres", { ...TRIGGERS, takeOut: `${add("old", "-")} ${prune}`, putIn: add("new", "") }),
    "insert into tx_journal_counts (kind, state, count) select kind, state, count(*) from tx_journal group by kind, state",
  ];
}
