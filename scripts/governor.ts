// `npm run governor -- arbitrate <creditNoteId>`: the governor carries out the operator's
// recommendation on a credit note the seller did not answer (issue 16); `dismiss <receivableId>`
// its recommendation to dismiss the receivable's open dispute. Each reads the recorded timelock
// proposal (POST /v1/credit-notes/{id}/arbitration, POST /v1/receivables/{id}/disputes/dismissal
// wrote it), and:
//   - on the local chain (31337), with the governor key generated for this data directory:
//     decrypts that key, schedules the proposal on TierlineTimelock and executes it once
//     ready (the delay is 0 there), and prints what it did. Run it again after a delay.
//   - anywhere else (or with TIERLINE_GOVERNOR set, or --print): signs nothing and prints
//     the schedule and execute calls for the governor's multisig.
// Same settings as `npm start` (TIERLINE_DATA_DIR, TIERLINE_RPC_URL or TIERLINE_CHAIN_PORT).
import "./lib/node-version.js";
import { Command } from "commander";
import { Wallet, type JsonRpcProvider } from "ethers";
import { createProvider } from "../server/chain/chain-client.js";
import { KeyVault } from "../server/chain/keys.js";
import { LOCAL_CHAIN_ID, readStoredGovernorKey } from "../server/chain/operator-keys.js";
import { loadConfig } from "../server/config.js";
import type { TimelockProposal } from "../server/chain/arbitration-proposal.js";
import { arbitrationOf } from "../server/domain/credit-note-arbitration.js";
import { dismissalOf } from "../server/domain/dispute-dismissal.js";
import { openDatabase, type Db } from "../server/store/database.js";
import { exitOnConfigError } from "./lib/config-error.js";
import { scheduleAndExecute } from "./lib/governor-arbitration.js";

const program = new Command("governor").description("the governor's actions through TierlineTimelock");

type Config = ReturnType<typeof loadConfig>;

/** Opens the service's database and the chain for one command, and closes both after it. */
async function withService(run: (config: Config, db: Db, provider: JsonRpcProvider) => Promise<void>) {
  const config = exitOnConfigError(() => loadConfig());
  const db = await openDatabase({ url: config.TIERLINE_DATABASE_URL, file: config.databaseFile });
  const provider = createProvider(config.rpcUrl);
  try {
    await run(config, db, provider);
  } finally {
    provider.destroy();
    await db.destroy();
  }
}

/**
 * Prints the proposal for a multisig (off the local chain, with TIERLINE_GOVERNOR, or --print),
 * or signs it with the governor key generated for this data directory: schedule, then execute
 * once ready. `outcome` says where the result shows.
 */
async function carryOut(
  config: Config,
  provider: JsonRpcProvider,
  p: TimelockProposal,
  options: { print?: boolean },
  outcome: string,
): Promise<void> {
  const chainId = (await provider.getNetwork()).chainId;
  if (options.print || chainId !== LOCAL_CHAIN_ID || config.TIERLINE_GOVERNOR) {
    console.log("for the governor's multisig (nothing was signed here):");
    console.log(
      JSON.stringify(
        {
          chainId: chainId.toString(),
          to: p.timelock,
          schedule: [p.target, p.value, p.data, p.predecessor, p.salt, p.delay],
          execute: [p.target, p.value, p.data, p.predecessor, p.salt],
          operationId: p.operationId,
        },
        null,
        2,
      ),
    );
    return;
  }
  const governor = new Wallet(
    readStoredGovernorKey(config.dataDir, KeyVault.open(config.dataDir, config.TIERLINE_MASTER_KEY)),
    provider,
  );
  const run = await scheduleAndExecute(governor, p);
  console.log(`governor ${governor.address}, timelock ${p.timelock}, operation ${run.operationId}`);
  if (run.scheduledTx) console.log(`scheduled (delay ${p.delay} s): ${run.scheduledTx}`);
  if (run.executedTx) console.log(`executed: ${run.executedTx}`);
  if (run.state === "waiting")
    console.log(`waiting: ready at ${new Date(run.readyAt! * 1000).toISOString()}; run this again then`);
  else if (run.state === "done" && !run.executedTx) console.log("already done: nothing to send");
  else if (run.state === "done") console.log(`done: ${outcome} shows the outcome once indexed`);
}

/** A command that carries out the operator's recorded recommendation on `<subject>`. */
function recommendationCommand<R extends { proposal: TimelockProposal }>(spec: {
  name: string;
  argument: [string, string];
  lookup: (db: Db, subject: string) => Promise<R | undefined>;
  /** Why there is nothing to carry out: where the operator records the recommendation. */
  missing: (subject: string) => string;
  describe: (subject: string, recorded: R) => string;
  /** The read that shows the outcome. */
  outcome: (subject: string, recorded: R) => string;
}) {
  program
    .command(spec.name)
    .argument(...spec.argument)
    .option("--print", "print the timelock calls for a multisig instead of signing")
    .action((subject: string, options: { print?: boolean }) =>
      withService(async (config, db, provider) => {
        const recorded = await spec.lookup(db, subject);
        if (!recorded) {
          console.error(spec.missing(subject));
          process.exitCode = 1;
          return;
        }
        console.log(spec.describe(subject, recorded));
        await carryOut(config, provider, recorded.proposal, options, spec.outcome(subject, recorded));
      }),
    );
}

recommendationCommand({
  name: "arbitrate",
  argument: ["<creditNoteId>", "the credit note the operator recommended a decision on"],
  lookup: (db, creditNoteId) => arbitrationOf({ db }, creditNoteId),
  missing: (id) =>
    `no recommendation on credit note ${id}: the operator records one first (POST /v1/credit-notes/${id}/arbitration)`,
  describe: (id, { recommendation: r }) =>
    `credit note ${id} (receivable ${r.receivableId}): the operator recommends to ${r.decision}: ${r.reason}`,
  outcome: (_, { recommendation: r }) => `GET /v1/receivables/${r.receivableId}/credit-notes`,
});

recommendationCommand({
  name: "dismiss",
  argument: ["<receivableId>", "the receivable whose open dispute the operator recommended dismissing"],
  lookup: (db, receivableId) => dismissalOf({ db }, receivableId),
  missing: (id) =>
    `no dismissal recommended on the latest dispute of receivable ${id}: the operator records one first ` +
    `(POST /v1/receivables/${id}/disputes/dismissal)`,
  describe: (id, { recommendation: r, disputeStatus }) =>
    `dispute ${r.disputeId} of receivable ${id} (${disputeStatus}), number ${r.disputeNumber} on the ledger: ` +
    `the operator recommends dismissing it: ${r.reason}`,
  outcome: (id) => `GET /v1/receivables/${id}/credit-notes`,
});

await program.parseAsync();
