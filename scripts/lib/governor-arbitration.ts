// What the governor does with an arbitration proposal on the timelock: schedule it (once),
// and execute it once ready. Used by `npm run governor -- arbitrate` and by the tests; the
// service itself never holds the governor's key.
import { ZeroHash, type Wallet } from "ethers";
import { timelockAt, timelockOperationStatus, type TimelockProposal } from "../../server/chain/arbitration-proposal.js";
import { decodeRevert } from "../../server/chain/revert-errors.js";

export interface GovernorRun {
  operationId: string;
  scheduledTx: string | null;
  executedTx: string | null;
  state: "unset" | "waiting" | "ready" | "done";
  /** unix seconds when execute may run, while it waits. */
  readyAt: number | null;
}

/** Schedules the proposal if it is not yet, and executes it if it is ready now. Safe to run again. */
export async function scheduleAndExecute(governor: Wallet, proposal: TimelockProposal): Promise<GovernorRun> {
  const provider = governor.provider!;
  const timelock = timelockAt(proposal.timelock, governor);
  const args = [proposal.target, BigInt(proposal.value), proposal.data, proposal.predecessor, proposal.salt] as const;
  const onChainId = (await timelock.getFunction("hashOperation")(...args)) as string;
  if (onChainId !== proposal.operationId)
    throw new Error(`the proposal's operation id ${proposal.operationId} is not the timelock's ${onChainId}`);
  if (proposal.predecessor !== ZeroHash) throw new Error("an arbitration proposal has no predecessor");

  let scheduledTx: string | null = null;
  let executedTx: string | null = null;
  let status = await timelockOperationStatus(proposal.timelock, proposal.operationId, provider);
  if (status.state === "unset") {
    const tx = await send(() => timelock.getFunction("schedule")(...args, BigInt(proposal.delay)));
    scheduledTx = tx;
    status = await timelockOperationStatus(proposal.timelock, proposal.operationId, provider);
  }
  if (status.state === "waiting") {
    // A Waiting operation may already be past its time on a chain with no new block yet.
    const latest = await provider.getBlock("latest");
    if (latest && status.readyAt !== null && Number(latest.timestamp) >= status.readyAt) status.state = "ready";
  }
  if (status.state === "ready") {
    executedTx = await send(() => timelock.getFunction("execute")(...args));
    status = await timelockOperationStatus(proposal.timelock, proposal.operationId, provider);
  }
  return { operationId: proposal.operationId, scheduledTx, executedTx, ...status };
}

async function send(call: () => Promise<{ wait(): Promise<{ hash: string } | null> }>): Promise<string> {
  try {
    const receipt = await (await call()).wait();
    return receipt!.hash;
  } catch (error) {
    const decoded = decodeRevert(error);
    if (!decoded) throw error;
    throw new Error(`the timelock call reverted: ${decoded.code} ${JSON.stringify(decoded.details)}`, { cause: error });
  }
}
