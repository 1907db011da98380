// What each pledgor owes its pledgees beyond the claims of the leaves it pledged (issue 16),
// kept by triggers in `party_sums` as kind `pledge_shortfall` (migration 0026), so a
// confirmation's supplier limit check reads one row instead of every live pledge of the
// supplier, inside the transaction that holds the write lock (issue 12). A live pledge counts
// max(0, outstanding - (face - reduction)) of its certificate's row (nothing while that row is
// missing, as the join it replaces). Every insert, update and delete of a request, and every
// certificate's face value or credit-note cut changing (or indexed, or emptied), moves the sum
// by the difference.
import type { QueryExecutorProvider } from "kysely";
import { type TriggerEngine, changedColumns, runTriggerStatements } from "./trigger-sql.js";

const TRACKED = ["holder", "kind", "status", "outstanding", "certificate_id"];
const live = (f: string) => `${f}.kind = 'pledge' and ${f}.status = 'pledged'`;

/** Creates the triggers and sums the pledges already indexed. */
export async function trackPartyShortfall(db: QueryExecutorProvider, engine: TriggerEngine): Promise<void> {
  await runTriggerStatements(db, engine, { sqlite: sqliteStatements, postgres: postgresStatements });
}

/** PostgreSQL: numeric is exact at any size, so `wide` stays 0. */
function postgresStatements(): string[] {
  const upsert = "on conflict (address, kind) do update set amount = party_sums.amount + excluded.amount";
  const gap = (f: string, c: string) =>
    `greatest(0, ${f}.outstanding::numeric - (${c}.face_value::numeric - ${c}.reduction::numeric))`;
  const apply = (f: "old" | "new", sign: "" | "-") =>
    `if ${live(f)} then
       insert into party_sums
         select ${f}.holder, 'pledge_shortfall', ${sign}${gap(f, "c")}, 0
         from onchain_certificates c where c.id = ${f}.certificate_id ${upsert};
     end if;`;
  /** The live pledges on certificate row `c`, added or taken away, grouped by pledgor. */
  const pledgesOn = (c: "old" | "new", sign: "" | "-") =>
    `insert into party_sums
       select f.holder, 'pledge_shortfall', ${sign}sum(${gap("f", c)}), 0
       from onchain_financing_requests f where f.certificate_id = ${c}.id and ${live("f")}
       group by f.holder ${upsert};`;
  const changed = changedColumns("postgres", TRACKED);
  return [
    `create function party_shortfall_track_request() returns trigger language plpgsql as $$
     begin
       if tg_op <> 'INSERT' then ${apply("old", "-")} end if;
       if tg_op <> 'DELETE' then ${apply("new", "")} end if;
       return null;
     end $$`,
    `create trigger party_shortfall_request_insert_delete after insert or delete on onchain_financing_requests
       for each row execute function party_shortfall_track_request()`,
    `create trigger party_shortfall_request_update after update on onchain_financing_requests
       for each row when (${changed}) execute function party_shortfall_track_request()`,
    `create function party_shortfall_track_certificate() returns trigger language plpgsql as $$
     begin
       if tg_op <> 'INSERT' then ${pledgesOn("old", "-")} end if;
       if tg_op <> 'DELETE' then ${pledgesOn("new", "")} end if;
       return null;
     end $$`,
    `create trigger party_shortfall_certificate_insert_delete after insert or delete on onchain_certificates
       for each row execute function party_shortfall_track_certificate()`,
    `create trigger party_shortfall_certificate_update after update on onchain_certificates
       for each row when (old.face_value is distinct from new.face_value or old.reduction is distinct from new.reduction
                          or old.id is distinct from new.id)
       execute function party_shortfall_track_certificate()`,
    `insert into party_sums
       select f.holder, 'pledge_shortfall', sum(${gap("f", "c")}), 0
       from onchain_financing_requests f join onchain_certificates c on c.id = f.certificate_id
       where ${live("f")} group by f.holder`,
  ];
}

/**
 * SQLite sums in 64-bit integers. A pledge with an amount of more than 18 digits (its own or its
 * certificate's) is not summed but counted in `wide`, and a sum that overflows becomes a real:
 * in either case the reader sums the pledges itself, as party-owed-triggers.ts does.
 */
function sqliteStatements(): string[] {
  const upsert =
    "on conflict (address, kind) do update set amount = amount + excluded.amount, wide = wide + excluded.wide";
  const wide = (f: string, c: string) =>
    `(length(${f}.outstanding) > 18 or length(${c}.face_value) > 18 or length(${c}.reduction) > 18)`;
  const gap = (f: string, c: string) =>
    `(case when ${wide(f, c)} then 0 else max(0, cast(${f}.outstanding as integer) - (cast(${c}.face_value as integer) - cast(${c}.reduction as integer))) end)`;
  const apply = (f: "old" | "new", sign: "" | "-") =>
    `insert into party_sums (address, kind, amount, wide)
       select ${f}.holder, 'pledge_shortfall', ${sign}${gap(f, "c")}, ${sign}${wide(f, "c")}
       from onchain_certificates c where c.id = ${f}.certificate_id and ${live(f)} ${upsert};`;
  const pledgesOn = (c: "old" | "new", sign: "" | "-") =>
    `insert into party_sums (address, kind, amount, wide)
       select f.holder, 'pledge_shortfall', ${sign}${gap("f", c)}, ${sign}${wide("f", c)}
       from onchain_financing_requests f where f.certificate_id = ${c}.id and ${live("f")} ${upsert};`;
  const changed = changedColumns("sqlite", TRACKED);
  return [
    `create trigger party_shortfall_request_insert after insert on onchain_financing_requests begin ${apply("new", "")} end`,
    `create trigger party_shortfall_request_update after update on onchain_financing_requests when ${changed}
       begin ${apply("old", "-")} ${apply("new", "")} end`,
    `create trigger party_shortfall_request_delete after delete on onchain_financing_requests begin ${apply("old", "-")} end`,
    `create trigger party_shortfall_certificate_insert after insert on onchain_certificates begin ${pledgesOn("new", "")} end`,
    `create trigger party_shortfall_certificate_update after update on onchain_certificates
       when old.face_value is not new.face_value or old.reduction is not new.reduction or old.id is not new.id
       begin ${pledgesOn("old", "-")} ${pledgesOn("new", "")} end`,
    `create trigger party_shortfall_certificate_delete after delete on onchain_certificates begin ${pledgesOn("old", "-")} end`,
    `insert into party_sums (address, kind, amount, wide)
       select f.holder, 'pledge_shortfall', ${gap("f", "c")}, ${wide("f", "c")}
       from onchain_financing_requests f join onchain_certificates c on c.id = f.certificate_id
       where ${live("f")} ${upsert}`,
  ];
}
