// Counts the transactions a piece of code opens through a database handle: on SQLite each is
// an fsync at commit, so the number per operation is a figure worth keeping down.
import type { Db } from "../../server/store/database.js";

/** From now on, counts every `db.transaction()` opened through `db`; returns the reader of the count. */
export function countTransactions(db: Db): () => number {
  let opened = 0;
  const open = db.transaction.bind(db);
  Object.assign(db, {
    transaction: () => {
      opened++;
      return open();
    },
  });
  return () => opened;
}
