// The named locks' in-process queues (store/locks.ts): one per name while someone holds or waits
// for it, dropped once idle, since many names are a party's or an address's own (party creation
// takes one per legal identity). Dropping a queue must never let two holders of one name overlap.
import { expect } from "chai";
import { useTempDatabase } from "../../helpers/temp-database.js";
import type { Db } from "../../../server/store/database.js";
import { lockLanes, lockWaiters, withLock } from "../../../server/store/locks.js";

describe("Store: the named locks' queues in this process", function () {
  let db: Db;

  useTempDatabase("lock-lanes", (opened) => (db = opened));

  it("keeps no queue for a name once nobody holds or waits for it", async function () {
    await Promise.all(Array.from({ length: 100 }, (_, i) => withLock(db, `party:${i}`, async () => i)));
    await withLock(db, "fails", async () => {
      throw new Error("refused");
    }).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lockLanes(db)).to.equal(0);
  });

  it("never lets two holders of one name overlap, whenever they arrive", async function () {
    const order: string[] = [];
    let inside = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const section = (who: string) =>
      withLock(db, "one-name", async () => {
        most = Math.max(most, ++inside);
        order.push(`${who} in`);
        await new Promise<void>((resolve) => releases.push(resolve));
        order.push(`${who} out`);
        inside--;
      });
    const a = section("a");
    const b = section("b");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lockWaiters(db, "one-name")).to.equal(1);
    releases.shift()!();
    await a;
    // b holds it now; c arrives just after a's queue entry settled.
    const c = section("c");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lockWaiters(db, "one-name")).to.equal(1);
    releases.shift()!();
    await b;
    await new Promise((resolve) => setImmediate(resolve));
    releases.shift()!();
    await c;
    expect(most).to.equal(1);
    expect(order).to.deep.equal(["a in", "a out", "b in", "b out", "c in", "c out"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lockLanes(db)).to.equal(0);
  });
});
