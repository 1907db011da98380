// Party creation checks identities one at a time in every replica, but the registration on-chain
// waits for a block: under the global lock every party of a network onboarded at once waited
// for the one before it to be mined (issue 12: ~0.5 s a party on the embedded chain). It now
// waits under a lock of the legal identity's own, at most 8 at once in a process (each holds a
// lock connection on PostgreSQL). A retry of a registration still under way waits for it and
// finds the party existing, the first caller's key still valid; one that failed on-chain is
// finished with a fresh key. The chain is a stand-in whose receipts come when the test says.
import { expect } from "chai";
import { useTempDatabase } from "../../helpers/temp-database.js";
import type { Kysely } from "kysely";

import type { Database } from "../../../server/store/schema.js";
import type { ServiceContext } from "../../../server/context.js";
import { createParty, resumePartyRegistrations } from "../../../server/domain/create-party.js";
import { hashApiKey } from "../../../server/domain/api-keys.js";
import type { AppError } from "../../../server/model/errors.js";
import { offChainContext } from "../../helpers/off-chain-context.js";

/** A party registry whose registerParty receipts come (or fail) only when the test says so. */
function heldPartyRegistry() {
  const sent: string[] = [];
  const registered = new Set<string>();
  const waiting: Array<(error?: Error) => void> = [];
  return {
    sent,
    registered,
    contracts: {
      parties: {
        addressCountOf: async () => 0n,
        partyOf: async (address: string) => ({
          legalIdHash: registered.has(address) ? `0x${"11".repeat(32)}` : `0x${"0".repeat(64)}`,
        }),
        registerParty: { populateTransaction: async (address: string) => ({ to: "registry", data: address }) },
      },
    },
    partyManager: {
      send: (request: { data: string }) => {
        sent.push(request.data);
        return new Promise((resolve, reject) =>
          waiting.push((error) => {
            if (error) return reject(error);
            registered.add(request.data);
            resolve({ hash: `0x${"ab".repeat(32)}` });
          }),
        );
      },
    },
    deployment: { localToken: false },
    /** Resolves once `count` registrations were sent, or false after `ms`. */
    async sentWithin(count: number, ms: number): Promise<boolean> {
      const deadline = Date.now() + ms;
      while (sent.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      return sent.length >= count;
    },
    mine(error?: Error) {
      for (const answer of waiting.splice(0)) answer(error);
    },
  };
}

const input = (registryId: string) => ({
  name: `Supplier ${registryId}`,
  registryId,
  industry: "retail",
  roles: ["supplier" as const],
  relatedPartyIds: [],
});

describe("party creation and the chain's receipts", function () {
  let db: Kysely<Database>;

  useTempDatabase("party-creation", (opened) => (db = opened));

  const contextWith = (chain: ReturnType<typeof heldPartyRegistry>): ServiceContext =>
    ({
      ...offChainContext(db),
      chain,
      vault: { encrypt: (key: string) => `sealed:${key}` },
    }) as unknown as ServiceContext;

  it("sends a second party's registration while the first one's receipt is still awaited", async function () {
    const chain = heldPartyRegistry();
    const ctx = contextWith(chain);
    const first = createParty(ctx, input("LEI-A"));
    expect(await chain.sentWithin(1, 5_000), "the first registration is sent").to.equal(true);
    const second = createParty(ctx, input("LEI-B"));
    // Under the global lock, the second waited for the first receipt: never, here.
    expect(await chain.sentWithin(2, 2_000), "the second, with the first unmined").to.equal(true);
    chain.mine();
    const parties = await Promise.all([first, second]);
    expect(parties.map((p) => p.status)).to.deep.equal(["active", "active"]);
  });

  it("answers a retry during the registration with PARTY_ALREADY_EXISTS, leaving the first caller's key valid", async function () {
    const chain = heldPartyRegistry();
    const ctx = contextWith(chain);
    const first = createParty(ctx, input("LEI-C"));
    await chain.sentWithin(1, 5_000);
    const retry = createParty(ctx, input("LEI-C")).then(
      () => undefined,
      (e: unknown) => e as AppError,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    chain.mine();
    const created = await first;
    const refused = await retry;
    expect(refused?.code).to.equal("PARTY_ALREADY_EXISTS");
    expect(chain.sent).to.have.length(1);
    const row = await db
      .selectFrom("parties")
      .select(["api_key_hash", "status"])
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(row).to.deep.equal({ api_key_hash: hashApiKey(created.apiKey), status: "active" });
  });

  it("finishes a registration that failed on-chain when it is asked again, with a fresh key", async function () {
    const chain = heldPartyRegistry();
    const ctx = contextWith(chain);
    const failed = createParty(ctx, input("LEI-D")).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await chain.sentWithin(1, 5_000);
    chain.mine(new Error("ECONNREFUSED: the chain is not answering"));
    expect(String((await failed)?.message)).to.contain("ECONNREFUSED");
    const stored = await db.selectFrom("parties").select(["id", "status"]).executeTakeFirstOrThrow();
    expect(stored.status).to.equal("registering");

    const again = createParty(ctx, input("LEI-D"));
    await chain.sentWithin(2, 5_000);
    chain.mine();
    const finished = await again;
    expect(finished.id).to.equal(stored.id);
    expect(finished.status).to.equal("active");
    const row = await db
      .selectFrom("parties")
      .select("api_key_hash")
      .where("id", "=", stored.id)
      .executeTakeFirstOrThrow();
    expect(row.api_key_hash).to.equal(hashApiKey(finished.apiKey));
  });

  it("resumes, at start-up, only the registrations no request is finishing", async function () {
    const chain = heldPartyRegistry();
    const ctx = contextWith(chain);
    const failed = createParty(ctx, input("LEI-E")).catch(() => undefined);
    await chain.sentWithin(1, 5_000);
    chain.mine(new Error("ECONNREFUSED: the chain is not answering"));
    await failed;
    const under = createParty(ctx, input("LEI-F"));
    await chain.sentWithin(2, 5_000);
    // LEI-F's request holds its identity's lock: the resume finishes LEI-E and finds LEI-F
    // finished once it may look.
    const resumed = resumePartyRegistrations(ctx);
    // Mine whatever is sent until the resume is done, in whichever order it meets the two.
    let done = false;
    void resumed.finally(() => (done = true));
    while (!done) {
      chain.mine();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await under;
    expect(await resumed).to.equal(1);
    expect(chain.sent).to.have.length(3);
    const statuses = await db.selectFrom("parties").select("status").execute();
    expect(statuses.map((s) => s.status)).to.deep.equal(["active", "active"]);
  });
  it("waits for at most 8 receipts at once in a process, and then onboards the rest", async function () {
    const chain = heldPartyRegistry();
    const ctx = contextWith(chain);
    const created = Array.from({ length: 12 }, (_, i) => createParty(ctx, input(`LEI-N${i}`)));
    expect(await chain.sentWithin(8, 5_000)).to.equal(true);
    expect(await chain.sentWithin(9, 300), "a ninth registration while 8 wait").to.equal(false);
    chain.mine();
    expect(await chain.sentWithin(12, 5_000)).to.equal(true);
    chain.mine();
    const parties = await Promise.all(created);
    expect(new Set(parties.map((p) => p.id)).size).to.equal(12);
  });
});
