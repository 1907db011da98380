// PostgreSQL's triggers for party_history_changes (migration 0023; SQLite's are in 0019): which
// receivables changed a column the risk history reads, for which party, and in which
// transaction. PostgreSQL numbers rows in the order they are written, not committed, so the
// reader does not follow `seq`: it takes every transaction below its snapshot's xmin as
// settled and reads the changes of later ones again at its next look (risk/history-rows.ts).
import { sql, type QueryExecutorProvider } from "kysely";
import { changedColumns } from "./trigger-sql.js";

// The columns risk/history-rows.ts reads: a change to anything else, or an update that writes
// the same value again (a lock, a replayed event), leaves the history as it was.
const SUBMITTED_COLUMNS = ["seller_id", "debtor_id", "face_value", "status", "document_hash"];
const OWED_COLUMNS = ["debtor", "face_value", "repaid_amount", "due_date", "status"];

const changed = (columns: string[]) => changedColumns("postgres", columns);

interface Logged {
  table: string;
  columns: string[];
  /** The (party, receivable) pairs a row names. */
  pairs: (row: "old" | "new") => string;
  /** How a pair's party becomes a party id: as it is, or through a join. */
  party: string;
  join?: string;
}

/** The function that logs the pairs of the old and the new row, and its two triggers. */
function logged({ table, columns, pairs, party, join = "" }: Logged): string[] {
  const rows = (ops: ("old" | "new")[]) =>
    `insert into party_history_changes (party_id, receivable_id, xid)
       select distinct ${party}, v.receivable, pg_current_xact_id()::text::bigint
       from (values ${ops.map(pairs).join(", ")}) as v(party, receivable) ${join}
       where v.party is not null;`;
  const fn = `${table}_history_log`;
  return [
    `create function ${fn}() returns trigger language plpgsql as $$
     begin
       if tg_op = 'INSERT' then ${rows(["new"])}
       elsif tg_op = 'DELETE' then ${rows(["old"])}
       else ${rows(["old", "new"])}
       end if;
       return null;
     end $$`,
    `create trigger ${table}_history_insert_delete after insert or delete on ${table}
       for each row execute function ${fn}()`,
    `create trigger ${table}_history_update after update on ${table}
       for each row when (${changed(columns)}) execute function ${fn}()`,
  ];
}

export async function logPartyHistoryChangesOnPostgres(db: QueryExecutorProvider): Promise<void> {
  const statements = [
    ...logged({
      table: "receivables",
      columns: SUBMITTED_COLUMNS,
      pairs: (row) => `(${row}.seller_id, ${row}.id), (${row}.debtor_id, ${row}.id)`,
      party: "v.party",
    }),
    // The index names the debtor by address: its party is found by it (a debtor of another
    // platform, with no party here, has no history to change).
    ...logged({
      table: "onchain_receivables",
      columns: OWED_COLUMNS,
      pairs: (row) => `(${row}.debtor, ${row}.id)`,
      party: "p.id",
      join: "join parties p on p.address = v.party",
    }),
  ];
  for (const statement of statements) await sql.raw(statement).execute(db);
}
