// The governor's side of the arbiter-path tests: `scripts/governor.ts` (what `npm run governor
// -- …` runs) as a child process, as the governor would run it from a shell beside the service,
// and what TierlineTimelock itself says of a proposal.
import { spawn } from "node:child_process";
import path from "node:path";
import { Contract, type Provider } from "ethers";
import { TIMELOCK_ABI } from "../../server/chain/arbitration-proposal.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..");

/** The CLI's exit code and what it printed (stdout and stderr together, in order). */
export function runGovernorCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), ["scripts/governor.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, out }));
  });
}

/** The timelock's own hashOperation of a proposal's schedule arguments, as the API answered them. */
export async function timelockHashOf(proposal: Record<string, unknown>, provider: Provider): Promise<string> {
  const [timelock, target, value, data, predecessor, salt] = [
    "timelock",
    "target",
    "value",
    "data",
    "predecessor",
    "salt",
  ].map((field) => String(proposal[field]));
  return (await new Contract(timelock!, TIMELOCK_ABI, provider).getFunction("hashOperation")(
    target,
    BigInt(value!),
    data,
    predecessor,
    salt,
  )) as string;
}

/** TimelockController.OperationState of `operationId`: 0 unset, 1 waiting, 2 ready, 3 done. */
export async function timelockStateOf(timelock: string, operationId: string, provider: Provider): Promise<bigint> {
  return (await new Contract(timelock, TIMELOCK_ABI, provider).getFunction("getOperationState")(operationId)) as bigint;
}
