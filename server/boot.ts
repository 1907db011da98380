// Brings the service up against a chain and a database: checks the chain is the one the
// data was built from, deploys once per chain when asked, reconciles what a crash may
// have left half-done, and starts the indexer. Used by `npm start` and by the tests.
// Several replicas may boot against one PostgreSQL database: the one-time steps (deploy,
// operator, index check) run under a shared lock, and the background work (indexer poll,
// keeper, risk monitor, webhook dispatcher) runs on the elected leader only (store/cluster.ts).
import { Wallet, type JsonRpcProvider } from "ethers";
import { deployTierline, artifactsFromDisk } from "./chain/deploy-tierline.js";
import {
  fundOperatorKeysLocally,
  LOCAL_CHAIN_ID,
  loadServiceKeys,
  type ServiceOperatorKeys,
} from "./chain/operator-keys.js";
import { contractsBuildId, projectRoot } from "./chain/artifacts.js";
import { ChainClient, createProvider } from "./chain/chain-client.js";
import type { Deployment } from "./chain/contracts.js";
import { Indexer } from "./chain/indexer.js";
import { Keeper } from "./keeper/keeper.js";
import { WebhookDispatcher } from "./keeper/webhook-dispatcher.js";
import { RiskMonitor } from "./risk/refresh.js";
import { KeyVault } from "./chain/keys.js";
import { reconcileTxJournal, waitForReceipt } from "./chain/tx-sender.js";
import { BATCH_GAS_BASE, GAS_PER_ITEM_BOUND } from "./chain/registration-batcher.js";
import { ConfigError, parseContractsVariable, type Config } from "./config.js";
import type { ServiceContext } from "./context.js";
import { resumePartyRegistrations } from "./domain/create-party.js";
import {
  markRegistered,
  registerInBackground,
  settleBackgroundRegistrations,
  storedRegistrationRequest,
} from "./domain/confirm-receivable.js";
import { hashApiKey, newApiKey } from "./domain/api-keys.js";
import { hashText } from "./model/receivable-schema.js";
import { industryKey } from "./model/industry-key.js";
import type { Logger } from "./logging.js";
import { nowIso, openDatabase, type Db } from "./store/database.js";
import { Cluster } from "./store/cluster.js";
import { withLock } from "./store/locks.js";
import { DEFAULT_VERIFICATION_CONFIG } from "./verification/verify.js";
import { Telemetry } from "./telemetry.js";

export const OPERATOR_ID = "pty_operator";

export class ChainMismatchError extends Error {}
/** The configured chain did not answer within the start-up wait. */
export class ChainUnreachableError extends Error {}

/** How long start-up waits for a chain: the embedded one is already up; another one answers now or not at all. */
export const EXTERNAL_CHAIN_WAIT_MS = 5_000;

export interface BootOptions {
  config: Config;
  log: Logger;
  /** Where the service talks to the chain, when not config.rpcUrl: the embedded chain's private channel. */
  rpcUrl?: string;
  /** Deploy the contracts if this data directory has none for this chain. */
  deployIfMissing: boolean;
  now?: () => Date;
}

export interface BootedService {
  ctx: ServiceContext;
  keeper: Keeper;
  /** This process among the replicas; its leader runs the indexer poll, keeper and risk monitor. */
  cluster: Cluster;
  /** The operator's API key, only on the start that created the operator. */
  newOperatorApiKey: string | undefined;
  deployedNow: boolean;
  close(): Promise<void>;
}

export async function waitForChain(provider: JsonRpcProvider, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await provider.getBlockNumber();
      return;
    } catch (error) {
      if (Date.now() > until) {
        const reason = (error as { code?: string; shortMessage?: string }).shortMessage ?? (error as Error).message;
        throw new ChainUnreachableError(
          `the chain at ${provider._getConnection().url} is not answering (${reason.slice(0, 120)}): check TIERLINE_RPC_URL, or unset it to run the embedded chain`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function readMeta(db: Db, key: string): Promise<string | undefined> {
  return (await db.selectFrom("meta").select("value").where("key", "=", key).executeTakeFirst())?.value;
}
async function writeMeta(db: Db, key: string, value: string): Promise<void> {
  await db
    .insertInto("meta")
    .values({ key, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
}

async function resolveDeployment(
  options: BootOptions,
  provider: JsonRpcProvider,
  db: Db,
  keys: ServiceOperatorKeys,
): Promise<{ deployment: Deployment; deployedNow: boolean }> {
  const { config, log } = options;
  const chainId = (await provider.getNetwork()).chainId.toString();
  const genesisHash = (await provider.getBlock(0))!.hash!;
  const stored = await readMeta(db, "deployment");

  if (config.TIERLINE_CONTRACTS) {
    const c = parseContractsVariable(config.TIERLINE_CONTRACTS);
    const { deploymentBlock, chainId: contractsChainId, ...addresses } = c;
    if (contractsChainId !== undefined && String(contractsChainId) !== chainId) {
      throw new ChainMismatchError(
        `the configured contracts are on chain ${contractsChainId}, but the chain at ${config.rpcUrl} is chain ${chainId}. ` +
          "Nothing was changed. Point TIERLINE_RPC_URL at the chain they were deployed to, or deploy to this one (npm run deploy:network).",
      );
    }
    const deployment: Deployment = { chainId, genesisHash, deploymentBlock, localToken: false, addresses };
    await assertCode(provider, deployment);
    await writeMeta(db, "deployment", JSON.stringify(deployment));
    return { deployment, deployedNow: false };
  }
  if (stored) {
    const deployment = JSON.parse(stored) as Deployment;
    if (deployment.chainId !== chainId || deployment.genesisHash !== genesisHash) {
      throw new ChainMismatchError(
        `the chain at ${config.rpcUrl} (chain id ${chainId}, genesis ${genesisHash.slice(0, 10)}…) is not the chain this data directory was built from (chain id ${deployment.chainId}, genesis ${deployment.genesisHash.slice(0, 10)}…). ` +
          "Nothing was changed or deleted. " +
          (config.embeddedChain
            ? `The embedded chain's state and genesis record are in ${config.dataDir}/chain: restore them from a backup of this data directory (state.json.gz, state.previous.json.gz, genesis.json) and start again.`
            : "Point TIERLINE_RPC_URL at the chain this data directory was built from and start again.") +
          " To begin a new platform instead, keep this directory and set TIERLINE_DATA_DIR to a new one.",
      );
    }
    await assertCode(provider, deployment);
    if (config.embeddedChain && deployment.contractsBuild !== contractsBuildId()) {
      throw new ChainMismatchError(
        `the contracts on this data directory's chain were deployed from another build of Tierline's contracts ` +
          "(an earlier version: their storage and functions differ from this version's), so this version cannot use them. " +
          "Nothing was changed or deleted. To keep this data, run the version of Tierline that built it; to begin afresh, " +
          `run \`npm run reset\` (it deletes ${config.dataDir}) or set TIERLINE_DATA_DIR to a new directory.`,
      );
    }
    return { deployment, deployedNow: false };
  }
  if (!options.deployIfMissing) throw new Error("no contracts are configured for this chain (set TIERLINE_CONTRACTS)");
  log.info({ rpcUrl: config.rpcUrl, chainId }, "no Tierline contracts on this chain yet: deploying");
  const local = BigInt(chainId) === LOCAL_CHAIN_ID;
  if (!local && (!config.TIERLINE_GOVERNOR || !config.TIERLINE_PAUSER)) {
    // Off the local chain the admin and the pauser must be keys the service does not hold.
    throw new ConfigError([
      `deploying Tierline on chain ${chainId} needs TIERLINE_GOVERNOR and TIERLINE_PAUSER: the addresses (a multisig, ` +
        "cold keys) that will propose admin actions to the timelock and pause; the service holds neither key. " +
        'See README, "Trust model", or deploy with `npm run deploy:network`.',
    ]);
  }
  const { held, addresses } = keys;
  const deployed = await deployTierline(new Wallet(held.deployer, provider), artifactsFromDisk(projectRoot()), {
    settlementToken: config.TIERLINE_SETTLEMENT_TOKEN,
    // The chain refuses the pieces the API refuses (default 1000000: 1.00 of the 6-decimal tUSD).
    minPieceSize: BigInt(config.TIERLINE_MIN_PIECE_SIZE),
    roles: {
      governor: config.TIERLINE_GOVERNOR ?? addresses.governor,
      timelockDelay: BigInt(config.TIERLINE_TIMELOCK_DELAY_SECONDS ?? (local ? 0 : 2 * 24 * 3600)),
      registrars: [addresses.registrar],
      pauser: config.TIERLINE_PAUSER ?? addresses.pauser,
      partyManager: addresses.partyManager,
      attester: addresses.attester,
      tokenOwner: addresses.registrar, // the local token's minter (chain 31337 only)
    },
    onStep: (message) => log.debug(message),
  });
  const deployment: Deployment = {
    chainId,
    genesisHash,
    deploymentBlock: Number(deployed.deploymentBlock),
    localToken: deployed.localToken,
    addresses: deployed.addresses,
    contractsBuild: contractsBuildId(),
  };
  await writeMeta(db, "deployment", JSON.stringify(deployment));
  log.info({ addresses: deployment.addresses, deploymentBlock: deployment.deploymentBlock }, "contracts deployed");
  return { deployment, deployedNow: true };
}

async function assertCode(provider: JsonRpcProvider, deployment: Deployment): Promise<void> {
  for (const [name, address] of Object.entries(deployment.addresses)) {
    if ((await provider.getCode(address)) === "0x") {
      throw new ChainMismatchError(
        `no contract at ${address} (${name}) on this chain: it is not the chain this data directory was built from. ` +
          "Nothing was changed or deleted. Point Tierline at the chain it was built from (or restore the embedded chain's " +
          "state from a backup of the data directory) and start again; to begin a new platform instead, set TIERLINE_DATA_DIR to a new directory.",
      );
    }
  }
}

/** The operator is a party too: the registrar's address, with the operator role. */
async function ensureOperator(db: Db, registrar: Wallet): Promise<string | undefined> {
  const existing = await db.selectFrom("parties").select("id").where("id", "=", OPERATOR_ID).executeTakeFirst();
  if (existing) return undefined;
  const apiKey = newApiKey();
  await db
    .insertInto("parties")
    .values({
      id: OPERATOR_ID,
      name: "Tierline operator",
      registry_id: "TIERLINE-OPERATOR",
      legal_id_hash: hashText("TIERLINE-OPERATOR"),
      industry: "platform",
      industry_key: industryKey("platform"),
      roles: JSON.stringify(["operator"]),
      address: registrar.address,
      custodial: 0,
      encrypted_key: null,
      api_key_hash: hashApiKey(apiKey),
      related_party_ids: "[]",
      status: "active",
      created_at: nowIso(),
    })
    .execute();
  return apiKey;
}

export async function bootService(options: BootOptions): Promise<BootedService> {
  const { config, log } = options;
  const provider = createProvider(options.rpcUrl ?? config.rpcUrl);
  await waitForChain(provider, config.embeddedChain ? 30_000 : EXTERNAL_CHAIN_WAIT_MS);
  const db = await openDatabase({ url: config.TIERLINE_DATABASE_URL, file: config.databaseFile });
  const cluster = await Cluster.join(db, log.child({ component: "cluster" }), config.TIERLINE_LEADER_INTERVAL_MS);
  try {
    const vault = KeyVault.open(config.dataDir, config.TIERLINE_MASTER_KEY);
    const local = (await provider.getNetwork()).chainId === LOCAL_CHAIN_ID;
    // One key per duty. On the local chain the ones not configured are generated for this data
    // directory (encrypted at rest) and given gas from a dev account; elsewhere they must be set.
    const keys = loadServiceKeys(
      config.dataDir,
      vault,
      {
        registrar: config.TIERLINE_REGISTRAR_KEY,
        keeper: config.TIERLINE_KEEPER_KEY,
        partyManager: config.TIERLINE_PARTY_MANAGER_KEY,
        attester: config.TIERLINE_ATTESTER_KEY,
      },
      { generateHot: local },
    );
    if (local) {
      const funded = await withLock(db, "boot", () => fundOperatorKeysLocally(provider, keys.addresses));
      if (funded > 0) log.info({ funded }, "local chain: gave the operator keys gas from a dev account");
    }
    const registrar = new Wallet(keys.held.registrar, provider);
    // Replicas starting together: one deploys (or checks) and the others find its answer.
    const { deployment, deployedNow } = await withLock(db, "boot", () =>
      resolveDeployment(options, provider, db, keys),
    );
    const chain = new ChainClient(
      provider,
      deployment,
      keys.held,
      db,
      log,
      config.TIERLINE_REGISTRATION === "batch"
        ? {
            maxItems: config.TIERLINE_BATCH_MAX_ITEMS,
            windowMs: config.TIERLINE_BATCH_WINDOW_MS,
            gasPerItem: config.TIERLINE_BATCH_GAS_PER_ITEM ?? GAS_PER_ITEM_BOUND,
            gasBase: BATCH_GAS_BASE,
          }
        : undefined,
    );
    const indexer = new Indexer(
      db,
      provider,
      chain.contracts,
      deployment.deploymentBlock,
      log.child({ component: "indexer" }),
    );

    await withLock(db, "boot", async () => {
      const consistency = await indexer.checkConsistency();
      if (!consistency.ok) {
        log.error(
          { reason: consistency.reason },
          "THE INDEX DOES NOT MATCH THE CHAIN: rebuilding it from chain events before serving",
        );
        await indexer.rebuild();
      }
    });
    await reconcileTxJournal(db, provider, log);

    const ctx: ServiceContext = {
      config,
      db,
      log,
      chain,
      indexer,
      vault,
      verification: {
        ...DEFAULT_VERIFICATION_CONFIG,
        currency: config.TIERLINE_CURRENCY,
        priceToleranceBps: config.TIERLINE_PRICE_TOLERANCE_BPS,
        quantityToleranceBps: config.TIERLINE_QUANTITY_TOLERANCE_BPS,
        minTenorDays: config.TIERLINE_MIN_TENOR_DAYS,
        maxTenorDays: config.TIERLINE_MAX_TENOR_DAYS,
        maxTaxBps: config.TIERLINE_MAX_TAX_BPS,
        brushingMaxCount: config.TIERLINE_BRUSHING_MAX_COUNT,
        brushingWindowHours: config.TIERLINE_BRUSHING_WINDOW_HOURS,
        volumeSpikeFactor: config.TIERLINE_VOLUME_SPIKE_FACTOR,
        volumeSpikeMinHistory: config.TIERLINE_VOLUME_SPIKE_MIN_HISTORY,
      },
      operatorId: OPERATOR_ID,
      telemetry: observeService(new Telemetry(), db, provider, indexer, registrar.address),
      now: options.now ?? (() => new Date()),
    };
    const newOperatorApiKey = await withLock(db, "boot", () => ensureOperator(db, registrar));
    await resumePartyRegistrations(ctx);
    await indexer.sync();
    await resumeConfirmations(ctx, cluster);
    const keeper = new Keeper({ ...ctx, log: log.child({ component: "keeper" }) });
    const webhooks = new WebhookDispatcher({ ...ctx, log: log.child({ component: "webhooks" }) });
    let riskMonitor: RiskMonitor | undefined;
    let firstLead = true;
    // One indexer poll, one keeper, one risk monitor and one webhook dispatcher at a time, on
    // the leader. Every replica still brings the index up to its own writes (indexer.sync after
    // each send) and writes its own outbox rows; only the leader delivers them.
    cluster.onLeadership(async (leader) => {
      ctx.telemetry.leader.set(leader ? 1 : 0);
      if (leader) {
        if (!firstLead) {
          // Taking over from a leader that died: finish what it (or any dead replica) left half
          // done. If the chain or database refuses now, lead anyway: the keeper retries each pass.
          try {
            await reconcileTxJournal(db, provider, log);
            await resumePartyRegistrations(ctx);
            await resumeConfirmations(ctx, cluster);
          } catch (error) {
            log.error({ err: error }, "could not finish a dead replica's work on taking the lead; leading anyway");
          }
        }
        firstLead = false;
        ctx.telemetry.keeper.enabled = config.TIERLINE_KEEPER === "true";
        indexer.start(config.TIERLINE_INDEXER_INTERVAL_MS);
        if (config.TIERLINE_KEEPER === "true") keeper.start(config.TIERLINE_KEEPER_INTERVAL_MS);
        riskMonitor = RiskMonitor.start({ ...ctx, log: log.child({ component: "risk" }) });
        if (config.TIERLINE_WEBHOOKS === "true") webhooks.start(config.TIERLINE_WEBHOOK_INTERVAL_MS);
      } else {
        ctx.telemetry.keeper.enabled = false;
        await webhooks.stop();
        await keeper.stop();
        await riskMonitor?.stop();
        riskMonitor = undefined;
        await indexer.stop();
      }
    });
    await cluster.start();

    return {
      ctx,
      keeper,
      cluster,
      newOperatorApiKey,
      deployedNow,
      async close() {
        // Accepted confirmations finish their batch first, for a while: what is still under way
        // after that (the chain away) is finished by the next start (resumeConfirmations).
        await Promise.race([
          (async () => {
            await chain.registrations?.drain();
            await settleBackgroundRegistrations();
          })(),
          new Promise((resolve) => setTimeout(resolve, CLOSE_REGISTRATIONS_WAIT_MS).unref()),
        ]);
        await cluster.stop();
        await keeper.stop();
        await webhooks.stop();
        await indexer.stop();
        await db.destroy();
        provider.destroy();
      },
    };
  } catch (error) {
    await cluster.stop();
    await db.destroy();
    provider.destroy();
    throw error;
  }
}

/** What /metrics reads when scraped: the chain head and the index cursor, the journal, the registrar's gas. */
function observeService(
  telemetry: Telemetry,
  db: Db,
  provider: JsonRpcProvider,
  indexer: Indexer,
  registrar: string,
): Telemetry {
  telemetry.observe({
    async blocks() {
      const latest = await provider.getBlockNumber().catch(() => null);
      return { latest, indexed: await indexer.indexedBlock() };
    },
    async transactions() {
      // Kept by triggers (store/tx-journal-count-triggers.ts): a row per kind and state, not the journal.
      const rows = await db.selectFrom("tx_journal_counts").select(["kind", "state", "count"]).execute();
      return rows.map((row) => ({ kind: row.kind, state: row.state, count: Number(row.count) }));
    },
    registrarBalance: () => provider.getBalance(registrar),
  });
  return telemetry;
}

/**
 * A confirmation a crash interrupted: registered after all, still in a transaction the node
 * holds (waited for), or not on the chain, in which case the consent stored with it is sent
 * again (the registry refuses a second registration, so this can never register twice; a
 * refusal of these very terms reads as done). Without a usable consent (none stored, or its
 * deadline passed) it goes back to waiting for the debtor. One that a live replica is still
 * sending is left alone.
 */
async function resumeConfirmations(ctx: ServiceContext, cluster: Cluster): Promise<void> {
  const rows = await ctx.db
    .selectFrom("receivables")
    .select(["id", "owner"])
    .where("status", "=", "confirming")
    .execute();
  if (rows.length === 0) return;
  const chainNow = Number((await ctx.chain.provider.getBlock("latest"))?.timestamp ?? 0);
  for (const { id, owner } of rows) {
    if (cluster.shared && (await cluster.isAlive(owner))) continue;
    if (await registeredSince(ctx, id)) {
      await markRegistered(ctx.db, id);
      continue;
    }
    const stored = await storedRegistrationRequest(ctx, id);
    if (stored && stored.confirmation.deadline > chainNow) {
      ctx.log.warn({ receivableId: id }, "a confirmation was interrupted: registering it from its stored consent");
      registerInBackground(ctx, stored);
      continue;
    }
    await ctx.db
      .updateTable("receivables")
      .set({ status: "awaiting_confirmation", updated_at: nowIso() })
      .where("id", "=", id)
      .execute();
    ctx.log.warn(
      { receivableId: id },
      "a confirmation was interrupted before it reached the chain; the debtor can confirm again",
    );
  }
}

/** On the chain (indexed now), counting a registration still in the node's pool, waited for. */
async function registeredSince(ctx: ServiceContext, receivableId: string): Promise<boolean> {
  const indexed = async () =>
    (await ctx.db.selectFrom("onchain_receivables").select("id").where("id", "=", receivableId).executeTakeFirst()) !==
    undefined;
  if (await indexed()) return true;
  const sent = await ctx.db
    .selectFrom("tx_journal")
    .select("tx_hash")
    .where("kind", "=", "register")
    .where("ref", "=", receivableId)
    .where("state", "in", ["sent", "unconfirmed"])
    .where("tx_hash", "is not", null)
    .execute();
  for (const { tx_hash: hash } of sent) {
    if (!(await ctx.chain.provider.getTransaction(hash!))) continue;
    const receipt = await waitForReceipt(ctx.chain.provider, hash!, RESUME_RECEIPT_WAIT_MS);
    if (receipt) await ctx.indexer.sync(receipt.blockNumber);
  }
  return indexed();
}

/** How long a stop waits for the registrations under way to finish. */
const CLOSE_REGISTRATIONS_WAIT_MS = 10_000;

/** How long start-up waits for an interrupted registration the node still holds. */
const RESUME_RECEIPT_WAIT_MS = 30_000;

export { createProvider };
