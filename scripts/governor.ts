// `npm run governor -- arbitrate <creditNoteId>`: the governor carries out the operator's
// recommendation on a credit note the seller did not answer (issue 16). It reads the
// recorded timelock proposal (POST /v1/credit-notes/{id}/arbitration wrote it), and:
//   - on the local chain (31337), with the governor key generated for this data directory:
//     decrypts that key, schedules the proposal on TierlineTimelock and executes it once
//     ready (the delay is 0 there), and prints what it did. Run it again after a delay.
//   - anywhere else (or with TIERLINE_GOVERNOR set, or --print): signs nothing and prints
//     the schedule and execute calls for the governor's multisig.
// Same settings as `npm start` (TIERLINE_DATA_DIR, TIERLINE_RPC_URL or TIERLINE_CHAIN_PORT).
import "./lib/node-version.js";
import { Command } from "commander";
import { Wallet } from "ethers";
import { createProvider } from "../server/chain/chain-client.js";
import { KeyVault } from "../server/chain/keys.js";
import { LOCAL_CHAIN_ID, readStoredGovernorKey } from "../server/chain/operator-keys.js";
import { loadConfig } from "../server/config.js";
import { arbitrationOf } from "../server/domain/credit-note-arbitration.js";
import { openDatabase } from "../server/store/database.js";
import { exitOnConfigError } from "./lib/config-error.js";
import { scheduleAndExecute } from "./lib/governor-arbitration.js";

const program = new Command("governor").description("the governor's actions through TierlineTimelock");

program
  .command("arbitrate")
  .argument("<creditNoteId>", "the credit note the operator recommended a decision on")
  .option("--print", "print the timelock calls for a multisig instead of signing")
  .action(async (creditNoteId: string, options: { print?: boolean }) => {
    const config = exitOnConfigError(() => loadConfig());
    const db = await openDatabase({ url: config.TIERLINE_DATABASE_URL, file: config.databaseFile });
    const provider = createProvider(config.rpcUrl);
    try {
      const recorded = await arbitrationOf({ db }, creditNoteId);
      if (!recorded) {
        console.error(
          `no recommendation on credit note ${creditNoteId}: the operator records one first ` +
            `(POST /v1/credit-notes/${creditNoteId}/arbitration)`,
        );
        process.exitCode = 1;
        return;
      }
      const { recommendation: r, proposal: p } = recorded;
      console.log(
        `credit note ${creditNoteId} (receivable ${r.receivableId}): the operator recommends to ${r.decision}: ${r.reason}`,
      );
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
      else if (run.state === "done")
        console.log(`done: GET /v1/receivables/${r.receivableId}/credit-notes shows the outcome once indexed`);
    } finally {
      provider.destroy();
      await db.destroy();
    }
  });

await program.parseAsync();
