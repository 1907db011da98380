// What counts against each holder's financing limit, kept by triggers in `party_sums`
// (migration 0026; store/party-tiers-triggers.ts keeps another sum there), so opening a financing request reads three rows instead of every request
// the holder ever opened: its sold requests stay `sold` forever, and the check read them all,
// inside the transaction that holds the write lock (issue 12). Per holder and kind:
//   financing_open     the price of each open request;
//   financing_pledged  what each live pledge still owes its pledgee;
//   financing_sold     the price of each certificate it sold, until the certificate is settled.
// Every insert, update and delete of a request, and every certificate moving into or out of
// `settled` (or indexed, or emptied by a reindex, while settled), moves the sums by the difference.
import type { QueryExecutorProvider } from "kysely";
import { type TriggerEngine, changedColumns, runTriggerStatements } from "./trigger-sql.js";

const TRACKED = ["holder", "status", "price", "outstanding", "certificate_id"];
export const FINANCED_KINDS = ["financing_open", "financing_pledged", "financing_sold"] as const;

/** Creates the triggers and sums the requests already indexed. */
export async function trackPartyFinanced(db: QueryExecutorProvider, engine: TriggerEngine): Promise<void> {
  await runTriggerStatements(db, engine, { sqlite: sqliteStatements, postgres: postgresStatements });
}

/** PostgreSQL: numeric is exact at any size, so `wide` stays 0. */
function postgresStatements(): string[] {
  const upsert = "on conflict (address, kind) do update set amount = party_sums.amount + excluded.amount";
  const changed = changedColumns("postgres", TRACKED);
  return [
    // One request's part, signed: a sold one counts until its certificate's row says settled.
    `create function party_financed_add(holder text, status text, price text, outstanding text,
                                        certificate text, sign integer) returns void language plpgsql as $$
     begin
       if status = 'open' then
         insert into party_sums values (holder, 'financing_open', sign * price::numeric, 0) ${upsert};
       elsif status = 'pledged' then
         insert into party_sums values (holder, 'financing_pledged', sign * outstanding::numeric, 0) ${upsert};
       elsif status = 'sold' and not exists
           (select 1 from onchain_certificates c where c.id = certificate and c.state = 'settled') then
         insert into party_sums values (holder, 'financing_sold', sign * price::numeric, 0) ${upsert};
       end if;
     end $$`,
    `create function party_financed_track_request() returns trigger language plpgsql as $$
     begin
       if tg_op <> 'INSERT' then
         perform party_financed_add(old.holder, old.status, old.price, old.outstanding, old.certificate_id, -1);
       end if;
       if tg_op <> 'DELETE' then
         perform party_financed_add(new.holder, new.status, new.price, new.outstanding, new.certificate_id, 1);
       end if;
       return null;
     end $$`,
    `create trigger party_financed_request_insert_delete after insert or delete on onchain_financing_requests
       for each row execute function party_financed_track_request()`,
    `create trigger party_financed_request_update after update on onchain_financing_requests
       for each row when (${changed}) execute function party_financed_track_request()`,
    // A certificate settled stops counting its sold requests; one no longer settled (or its row
    // gone) counts them again. Grouped by holder: one upsert may not touch a row twice.
    `create function party_financed_track_certificate() returns trigger language plpgsql as $$
     declare
       was_settled boolean := tg_op <> 'INSERT' and old.state = 'settled';
       is_settled boolean := tg_op <> 'DELETE' and new.state = 'settled';
       certificate text := case when tg_op = 'DELETE' then old.id else new.id end;
     begin
       if was_settled <> is_settled then
         insert into party_sums
           select f.holder, 'financing_sold', sum(f.price::numeric) * (case when is_settled then -1 else 1 end), 0
           from onchain_financing_requests f where f.certificate_id = certificate and f.status = 'sold'
           group by f.holder ${upsert};
       end if;
       return null;
     end $$`,
    `create trigger party_financed_certificate_insert_delete after insert or delete on onchain_certificates
       for each row execute function party_financed_track_certificate()`,
    `create trigger party_financed_certificate_update after update on onchain_certificates
       for each row when (old.state is distinct from new.state) execute function party_financed_track_certificate()`,
    `insert into party_sums
       select f.holder, 'financing_' || f.status,
              sum(case when f.status = 'pledged' then f.outstanding::numeric else f.price::numeric end), 0
       from onchain_financing_requests f
       where f.status in ('open', 'pledged')
          or (f.status = 'sold' and not exists
                (select 1 from onchain_certificates c where c.id = f.certificate_id and c.state = 'settled'))
       group by f.holder, f.status`,
  ];
}

/**
 * SQLite sums in 64-bit integers. An amount of more than 18 digits is not summed but counted in
 * `wide`, and a sum that overflows becomes a real (SQLite's arithmetic does that): in either
 * case the reader sums the holder's requests itself, as party-owed-triggers.ts does.
 */
function sqliteStatements(): string[] {
  const upsert =
    "on conflict (address, kind) do update set amount = amount + excluded.amount, wide = wide + excluded.wide";
  const settled = (certificate: string) =>
    `exists (select 1 from onchain_certificates c where c.id = ${certificate} and c.state = 'settled')`;
  /** The amount a request row counts with: price, or a pledge's outstanding. */
  const counted = (row: string) =>
    `(case when ${row}.status = 'pledged' then ${row}.outstanding else ${row}.price end)`;
  /** Whether the row counts at all: open, pledged, or sold with its certificate not settled. */
  const counts = (row: string) =>
    `(${row}.status in ('open', 'pledged') or (${row}.status = 'sold' and not ${settled(`${row}.certificate_id`)}))`;
  const part = (row: string, sign: "" | "-") =>
    `select ${row}.holder, 'financing_' || ${row}.status,
            ${sign}(case when length(${counted(row)}) > 18 then 0 else cast(${counted(row)} as integer) end),
            ${sign}(length(${counted(row)}) > 18)
     where ${counts(row)}`;
  const apply = (row: "old" | "new", sign: "" | "-") =>
    `insert into party_sums (address, kind, amount, wide) ${part(row, sign)} ${upsert};`;
  const changed = changedColumns("sqlite", TRACKED);
  /** The sold requests on certificate `id`, added (sign "") or taken away ("-"). */
  const soldOn = (id: string, sign: "" | "-") =>
    `insert into party_sums (address, kind, amount, wide)
       select f.holder, 'financing_sold',
              ${sign}(case when length(f.price) > 18 then 0 else cast(f.price as integer) end),
              ${sign}(length(f.price) > 18)
       from onchain_financing_requests f where f.certificate_id = ${id} and f.status = 'sold' ${upsert};`;
  return [
    `create trigger party_financed_request_insert after insert on onchain_financing_requests begin ${apply("new", "")} end`,
    `create trigger party_financed_request_update after update on onchain_financing_requests when ${changed}
       begin ${apply("old", "-")} ${apply("new", "")} end`,
    `create trigger party_financed_request_delete after delete on onchain_financing_requests begin ${apply("old", "-")} end`,
    `create trigger party_financed_certificate_settled after update of state on onchain_certificates
       when new.state = 'settled' and old.state <> 'settled' begin ${soldOn("new.id", "-")} end`,
    `create trigger party_financed_certificate_unsettled after update of state on onchain_certificates
       when old.state = 'settled' and new.state <> 'settled' begin ${soldOn("new.id", "")} end`,
    `create trigger party_financed_certificate_insert after insert on onchain_certificates
       when new.state = 'settled' begin ${soldOn("new.id", "-")} end`,
    `create trigger party_financed_certificate_delete after delete on onchain_certificates
       when old.state = 'settled' begin ${soldOn("old.id", "")} end`,
    // Row by row through the same arithmetic, so an overflow turns the sum into a real here too.
    `insert into party_sums (address, kind, amount, wide)
       select r.holder, 'financing_' || r.status,
              (case when length(${counted("r")}) > 18 then 0 else cast(${counted("r")} as integer) end),
              (length(${counted("r")}) > 18)
       from onchain_financing_requests r where ${counts("r")} ${upsert}`,
  ];
}
