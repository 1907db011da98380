// Each party's related parties (parties.related_party_ids, a JSON array) kept as rows of
// party_relations by triggers (migration 0024), whichever code path writes the party: the
// parties that name one party as related are then one indexed read, not a parse of every
// counterparty's list.
import type { QueryExecutorProvider } from "kysely";
import { type TriggerEngine, runTriggerStatements } from "./trigger-sql.js";

export async function keepPartyRelations(db: QueryExecutorProvider, engine: TriggerEngine): Promise<void> {
  await runTriggerStatements(db, engine, { sqlite: sqliteStatements, postgres: postgresStatements });
}

function sqliteStatements(): string[] {
  const insert = (row: string) =>
    `insert or ignore into party_relations (party_id, related_id) select ${row}.id, value from json_each(${row}.related_party_ids);`;
  return [
    `create trigger party_relations_insert after insert on parties begin ${insert("new")} end`,
    `create trigger party_relations_update after update of id, related_party_ids on parties
       when old.id is not new.id or old.related_party_ids is not new.related_party_ids
       begin delete from party_relations where party_id = old.id; ${insert("new")} end`,
    `create trigger party_relations_delete after delete on parties begin delete from party_relations where party_id = old.id; end`,
    `insert or ignore into party_relations (party_id, related_id) select p.id, j.value from parties p, json_each(p.related_party_ids) j`,
  ];
}

function postgresStatements(): string[] {
  const insert = (row: string) =>
    `insert into party_relations (party_id, related_id)
       select ${row}.id, related from jsonb_array_elements_text(${row}.related_party_ids::jsonb) as related
       on conflict do nothing;`;
  return [
    `create function party_relations_keep() returns trigger language plpgsql as $$
     begin
       if tg_op <> 'INSERT' then delete from party_relations where party_id = old.id; end if;
       if tg_op <> 'DELETE' then ${insert("new")} end if;
       return null;
     end $$`,
    `create trigger party_relations_insert_delete after insert or delete on parties
       for each row execute function party_relations_keep()`,
    `create trigger party_relations_update after update on parties
       for each row when (old.id is distinct from new.id or old.related_party_ids is distinct from new.related_party_ids)
       execute function party_relations_keep()`,
    `insert into party_relations (party_id, related_id)
       select p.id, related from parties p, jsonb_array_elements_text(p.related_party_ids::jsonb) as related
       on conflict do nothing`,
  ];
}
