// The chain is the source of truth: a restart serves the same parties, receivables and
// certificates; the index rebuilt from chain events alone is identical to the one built
// live; lost index rows come back; and a crash between "transaction sent" and "recorded"
// neither loses the registration nor registers twice.
import { expect } from "chai";
import { JsonRpcProvider, Wallet } from "ethers";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { createHash } from "node:crypto";
import { canonicalJson, hashText, normaliseInvoiceNumber } from "../../../server/model/receivable-schema.js";
import { INDEX_TABLES } from "../../../server/store/schema.js";
import { signAliasConsent } from "../../../server/chain/alias-consent-typed-data.js";

describe("API: restart, reindex and crash recovery", function () {
  this.timeout(60_000);
  let t: TestService;
  let api: ApiClient;
  let supplier: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;
  let receivableId: string;
  let rootId: string;
  let childIds: string[];

  const db = () => t.service.ctx.db;
  /** Every index table, rows in a stable order. */
  const indexTables = async () => ({
    chain_events: await db()
      .selectFrom("chain_events")
      .selectAll()
      .orderBy("block_number")
      .orderBy("log_index")
      .execute(),
    onchain_receivables: await db().selectFrom("onchain_receivables").selectAll().orderBy("id").execute(),
    onchain_certificates: await db().selectFrom("onchain_certificates").selectAll().orderBy("id").execute(),
    onchain_parties: await db().selectFrom("onchain_parties").selectAll().orderBy("address").execute(),
  });
  const registrationsOf = async (id: string) => {
    const events = await db()
      .selectFrom("chain_events")
      .select("args")
      .where("contract", "=", "registry")
      .where("name", "=", "ReceivableRegistered")
      .execute();
    return events.filter((e) => JSON.parse(e.args).receivableId === id).length;
  };
  /** What the API serves about the world built in before(), read by each party concerned. */
  const servedState = async () => ({
    parties: await Promise.all(
      [supplier, debtor, tier2].map(async (p) => (await api.as(p.apiKey).get(`/v1/parties/${p.id}`)).body),
    ),
    receivable: (await api.as(supplier.apiKey).get(`/v1/receivables/${receivableId}`)).body,
    certificates: await Promise.all(
      [rootId, ...childIds].map(async (id) => (await api.as(supplier.apiKey).get(`/v1/certificates/${id}`)).body),
    ),
    holdings: {
      supplier: (await api.as(supplier.apiKey).get(`/v1/parties/${supplier.id}/certificates`)).body,
      tier2: (await api.as(tier2.apiKey).get(`/v1/parties/${tier2.id}/certificates`)).body,
    },
  });
  const restart = async () => {
    await t.stopService();
    await t.restartService();
  };

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    receivableId = (await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id))).body.id;
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    rootId = confirmed.body.certificateId;
    const split = await api.as(supplier.apiKey).post(`/v1/certificates/${rootId}/split`, {
      parts: [
        { toPartyId: tier2.id, amount: "25000000" },
        { toPartyId: supplier.id, amount: "75000000" },
      ],
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    childIds = split.body.children.map((c: { id: string }) => c.id);
  });
  after(async function () {
    await t?.close();
  });

  describe("when the service is stopped and started again", function () {
    it("serves the same parties, receivable, certificates and holdings, to the same API keys", async function () {
      const before = await servedState();
      expect(before.receivable.status).to.equal("active");
      expect(before.certificates.map((c: { state: string }) => c.state)).to.deep.equal(["retired", "live", "live"]);
      const tablesBefore = await indexTables();
      await restart();
      expect(await servedState()).to.deep.equal(before);
      expect(await indexTables()).to.deep.equal(tablesBefore);
      // And it keeps working: the restarted service sends from the same keys with the right nonces.
      const moved = await api
        .as(tier2.apiKey)
        .post(`/v1/certificates/${childIds[0]}/transfer`, { toPartyId: supplier.id });
      expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
      expect(moved.body.certificate.holderPartyId).to.equal(supplier.id);
    });
  });

  describe("when the index is rebuilt from the chain", function () {
    it("produces exactly the tables the live indexer built", async function () {
      await t.service.ctx.indexer.sync();
      const live = await indexTables();
      expect(live.chain_events.length).to.be.greaterThan(10);
      expect(live.onchain_certificates.length).to.equal(3);
      const applied = await t.service.ctx.indexer.rebuild();
      expect(applied).to.equal(live.chain_events.length);
      expect(await indexTables()).to.deep.equal(live);
    });

    it("records who let an alias join a legal id, and rebuilds it from the events alone", async function () {
      const { parties } = t.service.ctx.chain.contracts;
      const chain = t.service.ctx.chain;
      const first = Wallet.createRandom();
      const alias = Wallet.createRandom().address;
      const legalIdHash = hashText(`ALIASCO${Date.now()}`);
      await chain.partyManager.send(await parties.registerParty.populateTransaction(first.address, legalIdHash, true), {
        kind: "registerParty",
        ref: "alias test",
      });
      const chainId = (await chain.provider.getNetwork()).chainId;
      const deadline = BigInt((await chain.provider.getBlock("latest"))!.timestamp) + 3_600n;
      const consent = await signAliasConsent(first, chainId, await parties.getAddress(), {
        account: alias,
        legalIdHash,
        nonce: 1n,
        deadline,
      });
      await chain.partyManager.send(await parties.registerAlias.populateTransaction(alias, legalIdHash, consent), {
        kind: "registerAlias",
        ref: "alias test",
      });
      await t.service.ctx.indexer.sync();
      const rows = await db()
        .selectFrom("onchain_parties")
        .selectAll()
        .where("legal_id_hash", "=", legalIdHash)
        .orderBy("alias_approved_by")
        .execute();
      // The alias holds as the address that consented to it does (PartyHoldingChanged, indexed).
      expect(rows.map((r) => [r.address, r.alias_approved_by, r.active, r.may_hold])).to.have.deep.members([
        [first.address, null, 1, 1],
        [alias, first.address, 1, 1],
      ]);
      const journaled = await db()
        .selectFrom("chain_events")
        .select("args")
        .where("contract", "=", "parties")
        .where("name", "=", "PartyAliasAdded")
        .execute();
      expect(journaled.map((e) => JSON.parse(e.args))).to.deep.include({
        account: alias,
        legalIdHash,
        approvedBy: first.address,
      });

      const live = await indexTables();
      await t.service.ctx.indexer.rebuild();
      expect(await indexTables()).to.deep.equal(live);
    });

    it("restores index rows that were lost, and the API serves them again", async function () {
      await t.service.ctx.indexer.sync();
      const live = await indexTables();
      const served = await servedState();
      await db().deleteFrom("onchain_certificates").execute();
      await db().deleteFrom("onchain_receivables").where("id", "=", receivableId).execute();
      const gone = await api.as(supplier.apiKey).get(`/v1/certificates/${rootId}`);
      expect(gone.status).to.equal(404);
      await t.service.ctx.indexer.rebuild();
      expect(await indexTables()).to.deep.equal(live);
      expect(await servedState()).to.deep.equal(served);
    });

    it("is rebuilt at start-up when the index was not built from this chain", async function () {
      await t.service.ctx.indexer.sync();
      const live = await indexTables();
      // Lose the projections and make the cursor point at a block hash this chain never had.
      for (const table of INDEX_TABLES) await db().deleteFrom(table).execute();
      await db()
        .updateTable("meta")
        .set({ value: `0x${"ab".repeat(32)}` })
        .where("key", "=", "indexer.blockHash")
        .execute();
      const consistency = await t.service.ctx.indexer.checkConsistency();
      expect(consistency.ok).to.equal(false);
      expect((consistency as { reason: string }).reason).to.match(/is not the block the index was built from/);
      await restart();
      expect(await t.service.ctx.indexer.checkConsistency()).to.deep.equal({ ok: true });
      expect(await indexTables()).to.deep.equal(live);
    });
  });

  describe("when the service stopped between sending a registration and recording it", function () {
    it("recognises the registration on the chain after a restart: the same certificate, registered once", async function () {
      const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
      const id: string = submitted.body.id;
      // What the service signs for a custodial debtor, signed with the debtor's key.
      const typed = (await api.as(debtor.apiKey).get(`/v1/receivables/${id}/confirmation`)).body;
      const debtorRow = await db()
        .selectFrom("parties")
        .select("encrypted_key")
        .where("id", "=", debtor.id)
        .executeTakeFirstOrThrow();
      const signature = await new Wallet(t.service.ctx.vault.decrypt(debtorRow.encrypted_key!)).signTypedData(
        typed.domain,
        typed.types,
        typed.message,
      );
      const row = await db().selectFrom("receivables").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      const confirmation = { nonce: typed.message.nonce, deadline: Number(typed.message.deadline), signature };
      // The service marked it "confirming", then stopped...
      await db()
        .updateTable("receivables")
        .set({ status: "confirming", confirmation: JSON.stringify(confirmation) })
        .where("id", "=", id)
        .execute();
      await t.stopService();

      // ...while its transaction still reached the chain.
      const provider = new JsonRpcProvider(t.chain.url, undefined, { staticNetwork: true });
      try {
        // The registrar's own key (generated for this data directory), as the stopped service held it.
        const registrar = t.service.ctx.chain.registrar.wallet.connect(provider);
        const registry = t.service.ctx.chain.contracts.registry.connect(registrar);
        const terms = {
          seller: supplier.address,
          debtor: debtor.address,
          invoiceNumberHash: hashText(row.invoice_number_normalized),
          documentHash: row.document_hash,
          faceValue: BigInt(row.face_value),
          dueDate: BigInt(row.due_date),
        };
        expect(row.invoice_number_normalized).to.equal(normaliseInvoiceNumber(row.invoice_number));
        const tx = await registry.getFunction("register")(terms, {
          nonce: BigInt(confirmation.nonce),
          deadline: confirmation.deadline,
          signature,
        });
        await tx.wait();
      } finally {
        provider.destroy();
      }

      await t.restartService();
      // Start-up saw the registration on the chain and left the receivable for the index to answer.
      expect(await registrationsOf(id)).to.equal(1);
      const onChain = await db()
        .selectFrom("onchain_receivables")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      const read = await api.as(supplier.apiKey).get(`/v1/receivables/${id}`);
      expect(read.body.status).to.equal("active");

      const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      expect(confirmed.body.certificateId).to.equal(onChain.root_certificate_id);
      expect(confirmed.body.txHash).to.equal(onChain.register_tx_hash);
      expect(
        await t.service.ctx.chain.contracts.certificates.getFunction("ownerOf")(confirmed.body.certificateId),
      ).to.equal(supplier.address);
      expect(await registrationsOf(id)).to.equal(1);
    });

    it("lets the debtor confirm again when the transaction never left: registered once", async function () {
      const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
      const id: string = submitted.body.id;
      await db().updateTable("receivables").set({ status: "confirming" }).where("id", "=", id).execute();
      await restart();
      const row = await db().selectFrom("receivables").select("status").where("id", "=", id).executeTakeFirstOrThrow();
      expect(row.status).to.equal("awaiting_confirmation");
      const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      const again = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`);
      expect(again.body.certificateId).to.equal(confirmed.body.certificateId);
      expect(await registrationsOf(id)).to.equal(1);
    });

    it("answers a confirmation retried with its Idempotency-Key after a restart from the stored response", async function () {
      const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
      const id: string = submitted.body.id;
      const key = `confirm-${id.slice(2, 18)}`;
      const first = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`, {}, { "idempotency-key": key });
      expect(first.status).to.equal(200);
      await restart();
      const retry = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/confirm`, {}, { "idempotency-key": key });
      expect(retry.status).to.equal(200);
      expect(retry.headers.get("idempotent-replayed")).to.equal("true");
      expect(retry.body).to.deep.equal(first.body);
      expect(await registrationsOf(id)).to.equal(1);
    });

    it("takes over an Idempotency-Key a stop left in progress, and refuses one still in progress or from before the upgrade", async function () {
      const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
      const id: string = submitted.body.id;
      const path = `/v1/receivables/${id}/confirm`;
      const requestHash = createHash("sha256")
        .update(`POST ${path} ${canonicalJson({})}`)
        .digest("hex");
      // The owner is the process working on the key: this one (its instance id), or one long gone.
      const row = (key: string, createdAt: string, owner: string) => ({
        party_id: debtor.id,
        key,
        method: "POST",
        path,
        request_hash: requestHash,
        state: "in_progress" as const,
        status_code: null,
        response: null,
        created_at: createdAt,
        first_started_at: createdAt,
        owner,
      });
      // A key taken by this very process and not finished: another request is working on it.
      await db()
        .insertInto("idempotency")
        .values(row("busy-key", new Date().toISOString(), t.service.cluster.instanceId))
        .execute();
      const busy = await api.as(debtor.apiKey).post(path, {}, { "idempotency-key": "busy-key" });
      expect(busy.status).to.equal(409);
      expect(busy.body.error.code).to.equal("IDEMPOTENCY_IN_PROGRESS");
      expect(Number(await t.service.ctx.chain.contracts.registry.getFunction("statusOf")(id))).to.equal(0);

      // A key a version before migration 0030 left unfinished: when its first attempt began is
      // unknown (a takeover may have moved created_at), so it is refused, not run again blind.
      await db()
        .insertInto("idempotency")
        .values({
          ...row("pre-upgrade-key", "2000-01-01T00:00:00.000Z", "a-process-that-stopped"),
          first_started_at: null,
        })
        .execute();
      const refused = await api.as(debtor.apiKey).post(path, {}, { "idempotency-key": "pre-upgrade-key" });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
      expect(refused.body.error.code).to.equal("IDEMPOTENCY_KEY_PREDATES_UPGRADE");
      expect(Number(await t.service.ctx.chain.contracts.registry.getFunction("statusOf")(id))).to.equal(0);

      // A key left in progress by an earlier process: the retry runs the request.
      await db()
        .insertInto("idempotency")
        .values(row("orphan-key", "2000-01-01T00:00:00.000Z", "a-process-that-stopped"))
        .execute();
      const taken = await api.as(debtor.apiKey).post(path, {}, { "idempotency-key": "orphan-key" });
      expect(taken.status, JSON.stringify(taken.body)).to.equal(200);
      expect(taken.headers.get("idempotent-replayed")).to.equal(null);
      const replay = await api.as(debtor.apiKey).post(path, {}, { "idempotency-key": "orphan-key" });
      expect(replay.headers.get("idempotent-replayed")).to.equal("true");
      expect(replay.body).to.deep.equal(taken.body);
      expect(await registrationsOf(id)).to.equal(1);
    });
  });
});
