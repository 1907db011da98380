// The arbiter's decision on a credit note as a TierlineTimelock operation (issue 16). Only the
// timelock holds ARBITER_ROLE on the DilutionLedger, so the operator can only recommend; the
// governor schedules exactly this call and executes it after the timelock's delay. The
// operation id is OpenZeppelin's TimelockController.hashOperation, computed here so the
// service can answer it without a transaction.
import { AbiCoder, Contract, id, keccak256, ZeroHash, type ContractRunner, type Interface } from "ethers";
import { bindContract, type DilutionLedger } from "./contracts.js";

/**
 * The timelock calls the arbiter path uses. TierlineTimelock is not among the contracts whose
 * bytecode identifies a build (server/chain/artifacts.ts), so its few calls are named here.
 */
export const TIMELOCK_ABI = [
  "function getMinDelay() view returns (uint256)",
  "function getOperationState(bytes32 id) view returns (uint8)",
  "function getTimestamp(bytes32 id) view returns (uint256)",
  "function hashOperation(address target, uint256 value, bytes data, bytes32 predecessor, bytes32 salt) pure returns (bytes32)",
  "function schedule(address target, uint256 value, bytes data, bytes32 predecessor, bytes32 salt, uint256 delay)",
  "function execute(address target, uint256 value, bytes payload, bytes32 predecessor, bytes32 salt) payable",
] as const;

export const timelockAt = (address: string, runner: ContractRunner): Contract =>
  new Contract(address, TIMELOCK_ABI, runner);

/** What `TierlineTimelock.schedule(target, value, data, predecessor, salt, delay)` and `execute` take. */
export interface TimelockProposal {
  timelock: string;
  target: string;
  value: string;
  data: string;
  predecessor: string;
  salt: string;
  delay: string;
  operationId: string;
}

/** TimelockController.OperationState, in order. */
export const OPERATION_STATES = ["unset", "waiting", "ready", "done"] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

/** keccak256(abi.encode(target, value, data, predecessor, salt)), as TimelockController.hashOperation. */
export function hashTimelockOperation(
  target: string,
  value: bigint,
  data: string,
  predecessor: string,
  salt: string,
): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["address", "uint256", "bytes", "bytes32", "bytes32"],
      [target, value, data, predecessor, salt],
    ),
  );
}

/**
 * Any DilutionLedger call the arbiter (the timelock, ARBITER_ROLE) makes, as a timelock
 * operation with no predecessor. The salt names the chain, the ledger and what the call decides
 * (`kind` and `subject`: the note and the decision, the dispute), so recording the same decision
 * again yields the same operation id and another decision (or a later dispute) another one.
 */
export function dilutionLedgerProposal<F extends "decideCreditNote" | "dismissDispute">(input: {
  timelock: string;
  dilutionLedger: string;
  chainId: string;
  call: { function: F; args: Parameters<DilutionLedger[F]> };
  salt: { kind: "arbitration" | "dismissal"; subject: string };
  delay: bigint;
  runner: ContractRunner;
}): TimelockProposal {
  const ledger = bindContract("DilutionLedger", input.dilutionLedger, input.runner);
  // The typed interface has one overload per function name; the union of two names needs the base one.
  const data = (ledger.interface as Interface).encodeFunctionData(input.call.function, [...input.call.args]);
  const salt = id(
    `tierline.${input.salt.kind}:${input.chainId}:${input.dilutionLedger.toLowerCase()}:${input.salt.subject}`,
  );
  return {
    timelock: input.timelock,
    target: input.dilutionLedger,
    value: "0",
    data,
    predecessor: ZeroHash,
    salt,
    delay: input.delay.toString(),
    operationId: hashTimelockOperation(input.dilutionLedger, 0n, data, ZeroHash, salt),
  };
}

/**
 * `DilutionLedger.decideCreditNote(creditNoteId, approve, leafIds)` through the timelock. The
 * salt names the note and the decision; the leaf list is the receivable's complete ascending
 * list (the tree is frozen while the note is pending, so it stays valid until the call runs), or
 * empty for a tree wider than MAX_DILUTION_LEAVES (the note then goes Applying and the keeper
 * makes the cuts in passes). A rejection needs none.
 */
export function arbitrationProposal(input: {
  timelock: string;
  dilutionLedger: string;
  chainId: string;
  creditNoteId: string;
  approve: boolean;
  leafIds: readonly string[];
  delay: bigint;
  runner: ContractRunner;
}): TimelockProposal {
  return dilutionLedgerProposal({
    ...input,
    call: {
      function: "decideCreditNote",
      args: [BigInt(input.creditNoteId), input.approve, input.approve ? input.leafIds.map((leaf) => BigInt(leaf)) : []],
    },
    salt: { kind: "arbitration", subject: `${input.creditNoteId}:${input.approve ? "approve" : "reject"}` },
  });
}

/**
 * `DilutionLedger.dismissDispute(receivableId, disputeNumber)` through the timelock. The call
 * names the dispute by its number on the receivable, so an operation scheduled for one dispute
 * reverts (DisputeNotTheOneNamed) if the debtor withdrew it and opened another before it ran;
 * the salt names the dispute too (its DisputeOpened event), so each dispute has its own operation.
 */
export function dismissalProposal(input: {
  timelock: string;
  dilutionLedger: string;
  chainId: string;
  receivableId: string;
  disputeId: string;
  disputeNumber: number;
  delay: bigint;
  runner: ContractRunner;
}): TimelockProposal {
  return dilutionLedgerProposal({
    ...input,
    call: { function: "dismissDispute", args: [input.receivableId, BigInt(input.disputeNumber)] },
    salt: { kind: "dismissal", subject: `${input.receivableId}:${input.disputeId}` },
  });
}

/** The timelock's minimum delay now: what a proposal must wait at least. */
export async function timelockMinDelay(timelock: string, runner: ContractRunner): Promise<bigint> {
  return (await timelockAt(timelock, runner).getFunction("getMinDelay")()) as bigint;
}

/** Where the operation stands on the timelock, and when it is (or was) ready; null while unscheduled. */
export async function timelockOperationStatus(
  timelock: string,
  operationId: string,
  runner: ContractRunner,
): Promise<{ state: OperationState; readyAt: number | null }> {
  const contract = timelockAt(timelock, runner);
  const [state, timestamp] = (await Promise.all([
    contract.getFunction("getOperationState")(operationId),
    contract.getFunction("getTimestamp")(operationId),
  ])) as [bigint, bigint];
  const name = OPERATION_STATES[Number(state)] ?? "unset";
  // getTimestamp is 1 once done (OpenZeppelin's _DONE_TIMESTAMP): the ready time is then unknown here.
  return { state: name, readyAt: name === "waiting" || name === "ready" ? Number(timestamp) : null };
}
