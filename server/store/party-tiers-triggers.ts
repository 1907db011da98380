// What each party is still owed on the pieces it holds deeper down the chain (tier 2 and
// below), kept by triggers in `party_sums` as kind `through_tiers` (migration 0026), so a
// confirmation's supplier limit check reads one row instead of every certificate the supplier
// ever held (settled and split ones included: the holder index reads them all), inside the
// transaction that holds the write lock (issue 12). A live or locked piece at tier 2 or deeper
// counts max(0, face - reduction - paid out) until its receivable's row says repaid. Every
// insert, update and delete of a certificate, and every receivable moving into or out of
// `repaid` (or indexed, or emptied by a reindex, while repaid), moves the sum by the difference.
import type { QueryExecutorProvider } from "kysely";
import { type TriggerEngine, changedColumns, runTriggerStatements } from "./trigger-sql.js";

const TRACKED = ["holder", "tier", "state", "face_value", "reduction", "paid_out", "receivable_id"];

/** Creates the triggers and sums the certificates already indexed. */
export async function trackPartyTiers(db: QueryExecutorProvider, engine: TriggerEngine): Promise<void> {
  await runTriggerStatements(db, engine, { sqlite: sqliteStatements, postgres: postgresStatements });
}

const repaid = (receivable: string) =>
  `exists (select 1 from onchain_receivables r where r.id = ${receivable} and r.status = 'repaid')`;
/** Whether a certificate row counts at all. */
const counts = (row: string) =>
  `(${row}.tier >= 2 and ${row}.state in ('live', 'locked') and not ${repaid(`${row}.receivable_id`)})`;

/** PostgreSQL: numeric is exact at any size, so `wide` stays 0. */
function postgresStatements(): string[] {
  const upsert = "on conflict (address, kind) do update set amount = party_sums.amount + excluded.amount";
  const owed = (row: string) =>
    `greatest(0, ${row}.face_value::numeric - ${row}.reduction::numeric - ${row}.paid_out::numeric)`;
  const apply = (row: "old" | "new", sign: "" | "-") =>
    `if ${counts(row)} then
       insert into party_sums values (${row}.holder, 'through_tiers', ${sign}${owed(row)}, 0) ${upsert};
     end if;`;
  const changed = changedColumns("postgres", TRACKED);
  return [
    `create function party_tiers_track_certificate() returns trigger language plpgsql as $$
     begin
       if tg_op <> 'INSERT' then ${apply("old", "-")} end if;
       if tg_op <> 'DELETE' then ${apply("new", "")} end if;
       return null;
     end $$`,
    `create trigger party_tiers_certificate_insert_delete after insert or delete on onchain_certificates
       for each row execute function party_tiers_track_certificate()`,
    `create trigger party_tiers_certificate_update after update on onchain_certificates
       for each row when (${changed}) execute function party_tiers_track_certificate()`,
    // A receivable repaid stops counting its deeper pieces; one no longer repaid (or its row
    // gone) counts them again. Grouped by holder: one upsert may not touch a row twice.
    `create function party_tiers_track_receivable() returns trigger language plpgsql as $$
     declare
       was_repaid boolean := tg_op <> 'INSERT' and old.status = 'repaid';
       is_repaid boolean := tg_op <> 'DELETE' and new.status = 'repaid';
       receivable text := case when tg_op = 'DELETE' then old.id else new.id end;
     begin
       if was_repaid <> is_repaid then
         insert into party_sums
           select c.holder, 'through_tiers', sum(${owed("c")}) * (case when is_repaid then -1 else 1 end), 0
           from onchain_certificates c
           where c.receivable_id = receivable and c.tier >= 2 and c.state in ('live', 'locked')
           group by c.holder ${upsert};
       end if;
       return null;
     end $$`,
    `create trigger party_tiers_receivable_insert_delete after insert or delete on onchain_receivables
       for each row execute function party_tiers_track_receivable()`,
    `create trigger party_tiers_receivable_update after update on onchain_receivables
       for each row when (old.status is distinct from new.status) execute function party_tiers_track_receivable()`,
    `insert into party_sums
       select c.holder, 'through_tiers', sum(${owed("c")}), 0 from onchain_certificates c
       where ${counts("c")} group by c.holder`,
  ];
}

/**
 * SQLite sums in 64-bit integers. A piece with an amount of more than 18 digits is not summed
 * but counted in `wide`, and a sum that overflows becomes a real: in either case the reader
 * sums the holder's pieces itself, as party-owed-triggers.ts does.
 */
function sqliteStatements(): string[] {
  const upsert =
    "on conflict (address, kind) do update set amount = amount + excluded.amount, wide = wide + excluded.wide";
  const wide = (row: string) =>
    `(length(${row}.face_value) > 18 or length(${row}.reduction) > 18 or length(${row}.paid_out) > 18)`;
  const owed = (row: string) =>
    `(case when ${wide(row)} then 0 else max(0, cast(${row}.face_value as integer) - cast(${row}.reduction as integer) - cast(${row}.paid_out as integer)) end)`;
  const apply = (row: "old" | "new", sign: "" | "-") =>
    `insert into party_sums (address, kind, amount, wide)
       select ${row}.holder, 'through_tiers', ${sign}${owed(row)}, ${sign}${wide(row)} where ${counts(row)} ${upsert};`;
  const changed = changedColumns("sqlite", TRACKED);
  /** The deeper pieces of receivable `id`, added (sign "") or taken away ("-"). */
  const piecesOf = (id: string, sign: "" | "-") =>
    `insert into party_sums (address, kind, amount, wide)
       select c.holder, 'through_tiers', ${sign}${owed("c")}, ${sign}${wide("c")} from onchain_certificates c
       where c.receivable_id = ${id} and c.tier >= 2 and c.state in ('live', 'locked') ${upsert};`;
  return [
    `create trigger party_tiers_certificate_insert after insert on onchain_certificates begin ${apply("new", "")} end`,
    `create trigger party_tiers_certificate_update after update on onchain_certificates when ${changed}
       begin ${apply("old", "-")} ${apply("new", "")} end`,
    `create trigger party_tiers_certificate_delete after delete on onchain_certificates begin ${apply("old", "-")} end`,
    `create trigger party_tiers_receivable_repaid after update of status on onchain_receivables
       when new.status = 'repaid' and old.status <> 'repaid' begin ${piecesOf("new.id", "-")} end`,
    `create trigger party_tiers_receivable_unrepaid after update of status on onchain_receivables
       when old.status = 'repaid' and new.status <> 'repaid' begin ${piecesOf("new.id", "")} end`,
    `create trigger party_tiers_receivable_insert after insert on onchain_receivables
       when new.status = 'repaid' begin ${piecesOf("new.id", "-")} end`,
    `create trigger party_tiers_receivable_delete after delete on onchain_receivables
       when old.status = 'repaid' begin ${piecesOf("old.id", "")} end`,
    // Row by row through the same arithmetic, so an overflow turns the sum into a real here too.
    `insert into party_sums (address, kind, amount, wide)
       select c.holder, 'through_tiers', ${owed("c")}, ${wide("c")} from onchain_certificates c where ${counts("c")} ${upsert}`,
  ];
}
