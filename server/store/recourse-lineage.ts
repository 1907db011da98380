// Who stands behind a certificate (issue 16): the recourse endorsements on the piece and on
// every ancestor, nearest first. Recourse is a term fixed when a piece is passed on, so it is
// shown wherever the piece is: on the certificate and in the market. One recursive walk up
// parent_id by primary key (a lineage is as deep as the tier policy allows), then the
// endorsements of the certificates on it by theirs: no scan.
import { sql } from "kysely";
import type { Db } from "./database.js";

export interface LineageEndorsement {
  /** The piece the endorsement was granted on: this certificate or an ancestor. */
  certificateId: string;
  endorsementIndex: number;
  endorser: string;
  /** 0 on the certificate itself, 1 on its parent, … */
  depth: number;
}

/** Bounds the walk whatever the data: deeper than any tier policy allows. */
const MAX_DEPTH = 64;

export async function endorsementsOnLineage(db: Db, certificateId: string): Promise<LineageEndorsement[]> {
  const { rows } = await sql<{ certificate_id: string; endorsement_index: number; endorser: string; depth: number }>`
    with recursive lineage(id, depth) as (
      select cast(${certificateId} as text), 0
      union all
      select c.parent_id, lineage.depth + 1
        from lineage join onchain_certificates c on c.id = lineage.id
       where c.parent_id is not null and lineage.depth < ${MAX_DEPTH}
    )
    select e.certificate_id, e.endorsement_index, e.endorser, lineage.depth
      from lineage join onchain_recourse_endorsements e on e.certificate_id = lineage.id
     order by lineage.depth, e.endorsement_index desc`.execute(db);
  return rows.map((row) => ({
    certificateId: row.certificate_id,
    endorsementIndex: Number(row.endorsement_index),
    endorser: row.endorser,
    depth: Number(row.depth),
  }));
}
