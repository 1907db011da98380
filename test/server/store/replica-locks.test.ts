// The store's tools for several replicas, on a real PostgreSQL (test/helpers/postgres.ts):
// two database handles stand for two processes. A named lock taken through one makes the
// other wait; a lock whose connection PostgreSQL drops fails its holder's unlock, not the
// process; one of two cluster members leads, the other takes over when it leaves, and each
// can tell whether the other is alive.
import { expect } from "chai";
import pg from "pg";
import { Cluster } from "../../../server/store/cluster.js";
import { openDatabase, type Db } from "../../../server/store/database.js";
import { withLock } from "../../../server/store/locks.js";
import { createLogger } from "../../../server/logging.js";
import { freshDatabaseUrl } from "../../helpers/postgres.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Store: locks and leadership across replicas (PostgreSQL)", function () {
  this.timeout(60_000);
  let url: string;
  let one: Db;
  let two: Db;
  const log = createLogger("silent");

  before(async function () {
    url = await freshDatabaseUrl();
    one = await openDatabase({ url, file: "unused" });
    two = await openDatabase({ url, file: "unused" });
  });
  after(async function () {
    await one?.destroy();
    await two?.destroy();
  });

  describe("when two processes take the same named lock", function () {
    it("runs their critical sections one after the other, never overlapping", async function () {
      const spans: Array<{ who: string; from: number; to: number }> = [];
      const section = (db: Db, who: string) =>
        withLock(db, "the-same-name", async () => {
          const from = performance.now();
          await sleep(150);
          spans.push({ who, from, to: performance.now() });
        });
      await Promise.all([section(one, "one"), section(two, "two"), section(one, "one again")]);
      spans.sort((a, b) => a.from - b.from);
      expect(spans.map((s) => s.who).sort()).to.deep.equal(["one", "one again", "two"]);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.from).to.be.at.least(spans[i - 1]!.to);
    });

    it("lets different names run at the same time", async function () {
      let inside = 0;
      let most = 0;
      const section = (db: Db, name: string) =>
        withLock(db, name, async () => {
          most = Math.max(most, ++inside);
          await sleep(150);
          inside--;
        });
      await Promise.all([section(one, "name-a"), section(two, "name-b")]);
      expect(most).to.equal(2);
    });
  });

  describe("when PostgreSQL drops the connection that holds a lock", function () {
    it("lets the holder finish, keeps the process alive, and the lock is free for the next holder", async function () {
      const answer = await withLock(one, "dropped", async () => {
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        try {
          const { rows } = await admin.query(
            "select pg_terminate_backend(pid) as done from pg_locks where locktype = 'advisory' and granted and classid = $1",
            [0x7431],
          );
          expect(rows.length).to.equal(1);
        } finally {
          await admin.end();
        }
        await sleep(200); // the dropped connection's "error" arrives while the lock is held
        return "finished";
      });
      expect(answer).to.equal("finished");
      expect(await withLock(two, "dropped", async () => "taken again")).to.equal("taken again");
    });
  });

  describe("when two processes join one cluster", function () {
    it("makes one leader, tells each that the other is alive, and hands the lead over when the leader leaves", async function () {
      const first = await Cluster.join(one, log, 50);
      const second = await Cluster.join(two, log, 50);
      const changes: string[] = [];
      first.onLeadership((leader) => void changes.push(`first ${leader ? "leads" : "stepped down"}`));
      second.onLeadership((leader) => void changes.push(`second ${leader ? "leads" : "stepped down"}`));
      await first.start();
      await second.start();
      await sleep(200);
      expect([first.isLeader, second.isLeader]).to.deep.equal([true, false]);
      expect(await second.isAlive(first.instanceId)).to.equal(true);
      expect(await first.isAlive(second.instanceId)).to.equal(true);

      await first.stop();
      for (let i = 0; i < 100 && !second.isLeader; i++) await sleep(20);
      expect(second.isLeader).to.equal(true);
      expect(await second.isAlive(first.instanceId)).to.equal(false);
      expect(changes).to.deep.equal(["first leads", "first stepped down", "second leads"]);
      await second.stop();
    });
  });
});
