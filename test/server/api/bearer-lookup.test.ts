// A request's API key is hashed and read once: the rate limiter looks it up first (to count per
// party) and authenticate answers from that lookup (issue 12: a statement and a hash fewer per
// authenticated request). The answers are those of a fresh read: no key, a malformed header, an
// unknown key and a suspended party are refused as before, and a lookup of another header is
// never used.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { CompiledQuery } from "kysely";
import { authenticate, lookUpBearer } from "../../../server/api/auth.js";
import { hashApiKey } from "../../../server/domain/api-keys.js";
import { openDatabase, type Db } from "../../../server/store/database.js";
import { AppError } from "../../../server/model/errors.js";
import { offChainContext } from "../../helpers/off-chain-context.js";
import { partyRow } from "../../helpers/party-row.js";
import { capturingDatabase } from "../store/captured-plans.js";

const KEY = "tl_live_key_of_the_supplier";
const SUSPENDED_KEY = "tl_live_key_of_a_suspended_party";

describe("API keys: one lookup a request", function () {
  let dir: string;
  let db: Db;
  const ran: CompiledQuery[] = [];
  const keyReads = () => ran.filter((q) => q.sql.includes('"api_key_hash" = ?')).length;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-bearer-"));
    const file = path.join(dir, "t.sqlite");
    const setup = await openDatabase(file);
    await setup
      .insertInto("parties")
      .values([
        { ...partyRow("pty_supplier"), api_key_hash: hashApiKey(KEY) },
        { ...partyRow("pty_suspended"), api_key_hash: hashApiKey(SUSPENDED_KEY), status: "suspended" },
      ])
      .execute();
    await setup.destroy();
    db = capturingDatabase(file, ran) as unknown as Db;
  });
  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    ran.length = 0;
  });

  it("authenticates from the rate limiter's lookup of the same header, without reading the key again", async function () {
    const ctx = offChainContext(db);
    const header = `Bearer ${KEY}`;
    const lookup = await lookUpBearer(ctx, header);
    expect(lookup.party?.id).to.equal("pty_supplier");
    expect(keyReads()).to.equal(1);
    const actor = await authenticate(ctx, header, lookup);
    expect(actor.id).to.equal("pty_supplier");
    expect(keyReads()).to.equal(1);
  });

  it("reads the key itself without a lookup, or when the lookup was of another header", async function () {
    const ctx = offChainContext(db);
    expect((await authenticate(ctx, `Bearer ${KEY}`)).id).to.equal("pty_supplier");
    expect(keyReads()).to.equal(1);
    const other = await lookUpBearer(ctx, `Bearer ${SUSPENDED_KEY}`);
    expect((await authenticate(ctx, `Bearer ${KEY}`, other)).id).to.equal("pty_supplier");
    expect(keyReads()).to.equal(3);
  });

  it("refuses as before: no key, a malformed header, an unknown key, a suspended party", async function () {
    const ctx = offChainContext(db);
    const refusal = async (header: string | undefined) => {
      const lookup = await lookUpBearer(ctx, header);
      return authenticate(ctx, header, lookup).then(
        () => undefined,
        (error: unknown) => error as AppError,
      );
    };
    for (const [header, status, code] of [
      [undefined, 401, "UNAUTHENTICATED"],
      ["Basic abc", 401, "UNAUTHENTICATED"],
      ["Bearer tl_live_nobody_has_this", 401, "UNAUTHENTICATED"],
      [`Bearer ${SUSPENDED_KEY}`, 403, "PARTY_SUSPENDED"],
    ] as const) {
      const error = await refusal(header);
      expect(error, String(header)).to.be.instanceOf(AppError);
      expect([error!.status, error!.code], String(header)).to.deep.equal([status, code]);
    }
    // A header that is no Bearer key is never looked up.
    expect((await lookUpBearer(ctx, "Basic abc")).party).to.equal(undefined);
  });
});
