// A fresh, migrated SQLite database in a temporary directory of its own for each test of the
// enclosing suite, destroyed and removed after it: the set-up the store and domain tests share.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase, type Db } from "../../server/store/database.js";

/** Registers the suite's beforeEach/afterEach; `opened` receives each test's database. */
export function useTempDatabase(prefix: string, opened: (db: Db) => void): void {
  let dir: string | undefined;
  let db: Db | undefined;
  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), `tierline-${prefix}-`));
    db = await openDatabase(path.join(dir, "tierline.db"));
    opened(db);
  });
  afterEach(async function () {
    await db?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}
