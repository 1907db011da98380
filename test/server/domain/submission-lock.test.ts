// Submissions take one lock in every replica, so that each is checked against what the ones
// before it stored. The shared registry's "already registered?" answer is not ours to order, and
// asked under that lock it made every submission wait for a chain round trip in turn: a remote
// node's latency capped the whole platform's submissions (issue 12). The registry is now asked
// before the lock: a second submission's question is in flight while the first one's is.
import { expect } from "chai";
import { useTempDatabase } from "../../helpers/temp-database.js";
import type { Kysely } from "kysely";

import type { Database } from "../../../server/store/schema.js";
import type { ServiceContext } from "../../../server/context.js";
import { findPartyById } from "../../../server/store/parties-store.js";
import { submitReceivable } from "../../../server/domain/submit-receivable.js";
import { DEFAULT_VERIFICATION_CONFIG } from "../../../server/verification/verify.js";
import { offChainContext } from "../../helpers/off-chain-context.js";
import { partyRow, tradeDocuments } from "../../helpers/party-row.js";

/** A registry whose statusOf answers only when the test says so. */
function heldRegistry() {
  const asked: string[] = [];
  const waiting: Array<() => void> = [];
  let askedListeners: Array<() => void> = [];
  let failWith: Error | undefined;
  return {
    asked,
    statusOf: (receivableId: string) => {
      asked.push(receivableId);
      for (const listener of askedListeners) listener();
      askedListeners = [];
      return new Promise<bigint>((resolve, reject) => waiting.push(() => (failWith ? reject(failWith) : resolve(0n))));
    },
    /** Resolves once `count` questions were asked, or false after `ms`. */
    async askedWithin(count: number, ms: number): Promise<boolean> {
      const deadline = Date.now() + ms;
      while (asked.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          askedListeners.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return true;
    },
    answerAll(error?: Error) {
      failWith = error;
      for (const answer of waiting.splice(0)) answer();
    },
  };
}

describe("submissions and the shared registry's duplicate check", function () {
  let db: Kysely<Database>;

  useTempDatabase("submission-lock", (opened) => (db = opened));
  beforeEach(async function () {
    await db
      .insertInto("parties")
      .values([
        { ...partyRow("pty_s"), roles: '["supplier"]', legal_id_hash: `0x${"51".repeat(32)}` },
        { ...partyRow("pty_d"), roles: '["debtor"]', legal_id_hash: `0x${"d1".repeat(32)}` },
      ])
      .execute();
  });

  function contextWith(registry: ReturnType<typeof heldRegistry>): ServiceContext {
    return {
      ...offChainContext(db),
      now: () => new Date("2026-03-01T00:00:00.000Z"),
      verification: DEFAULT_VERIFICATION_CONFIG,
      chain: { contracts: { registry: { statusOf: registry.statusOf } } },
    } as unknown as ServiceContext;
  }

  it("asks the registry about a second submission while the first one's answer is still awaited", async function () {
    const registry = heldRegistry();
    const ctx = contextWith(registry);
    const seller = (await findPartyById(db, "pty_s"))!;
    const first = submitReceivable(ctx, seller, tradeDocuments(1, 10, "2026-01-04T00:00:00.000Z"));
    expect(await registry.askedWithin(1, 5_000), "the first submission asks the registry").to.equal(true);
    const second = submitReceivable(ctx, seller, tradeDocuments(2, 10, "2026-01-04T00:00:00.000Z"));
    // Under the lock, the second question waited for the first answer: never, here.
    expect(await registry.askedWithin(2, 2_000), "the second question, with the first still unanswered").to.equal(true);
    registry.answerAll();
    const outcomes = await Promise.all([first, second]);
    expect(outcomes.map((o) => o.created)).to.deep.equal([true, true]);
    expect(outcomes.map((o) => o.receivable.status)).to.deep.equal(["awaiting_confirmation", "awaiting_confirmation"]);
  });

  it("answers a retry from its own books when the registry cannot be reached, leaving no rejection unhandled", async function () {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const registry = heldRegistry();
      const ctx = contextWith(registry);
      const seller = (await findPartyById(db, "pty_s"))!;
      const documents = tradeDocuments(3, 10, "2026-01-04T00:00:00.000Z");
      const created = submitReceivable(ctx, seller, documents);
      await registry.askedWithin(1, 5_000);
      registry.answerAll();
      expect((await created).created).to.equal(true);

      // The chain goes away; the same documents again are a retry, answered from the books.
      const retry = submitReceivable(ctx, seller, documents);
      await registry.askedWithin(2, 5_000);
      registry.answerAll(new Error("ECONNREFUSED: the chain is not answering"));
      const outcome = await retry;
      expect(outcome.created).to.equal(false);
      expect(outcome.receivable.id).to.equal((await created).receivable.id);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("still fails a new submission when the registry cannot be reached", async function () {
    const registry = heldRegistry();
    const ctx = contextWith(registry);
    const seller = (await findPartyById(db, "pty_s"))!;
    const submission = submitReceivable(ctx, seller, tradeDocuments(4, 10, "2026-01-04T00:00:00.000Z"));
    await registry.askedWithin(1, 5_000);
    registry.answerAll(new Error("ECONNREFUSED: the chain is not answering"));
    const error = await submission.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String((error as Error)?.message)).to.contain("ECONNREFUSED");
    expect(await db.selectFrom("receivables").select("id").execute()).to.deep.equal([]);
  });
});
