// Paying in the settlement token from a custodial wallet: approve exactly what one call spends,
// send the call, and reset the allowance if the call fails. Shared by financing and recourse.
import type { TransactionReceipt, TransactionRequest } from "ethers";
import type { TxSender } from "../chain/tx-sender.js";
import type { ServiceContext } from "../context.js";
import { sentByInterruptedAttempt } from "./interrupted-attempt.js";

/**
 * Approves `approval.spender` (the market, the recourse ledger) for exactly `amount` of the settlement token, then sends the call that
 * spends it; if that call fails the allowance is set back to 0, so no approval outlives a
 * payment that did not happen.
 *
 * The retry of an attempt the service died in between the two (approval mined, call never
 * sent) does not approve again: the approval it finds in the journal still stands on the chain
 * (the allowance is exactly `amount`), so only the call goes out.
 */
export async function payThroughExactAllowance(
  ctx: ServiceContext,
  sender: TxSender,
  approval: { spender: string; amount: bigint; kind: string },
  call: { kind: string; ref: string; request: () => Promise<TransactionRequest> },
): Promise<{ approveHash: string; receipt: TransactionReceipt }> {
  const { token } = ctx.chain.contracts;
  const approveHash =
    (await standingApproval(ctx, sender.address, approval, call.ref)) ??
    (
      await sender.send(await token.approve.populateTransaction(approval.spender, approval.amount), {
        kind: approval.kind,
        ref: call.ref,
      })
    ).hash;
  try {
    const receipt = await sender.send(await call.request(), { kind: call.kind, ref: call.ref });
    return { approveHash, receipt };
  } catch (error) {
    await sender
      .send(await token.approve.populateTransaction(approval.spender, 0n), { kind: approval.kind, ref: call.ref })
      .catch((reset) => {
        ctx.log.warn({ err: reset, ref: call.ref }, "could not reset the settlement token allowance");
      });
    throw error;
  }
}

/** The hash of the interrupted attempt's approval, if it is the allowance that stands on the chain now. */
async function standingApproval(
  ctx: ServiceContext,
  owner: string,
  approval: { spender: string; amount: bigint; kind: string },
  ref: string,
): Promise<string | undefined> {
  const last = (await sentByInterruptedAttempt(ctx, owner, approval.kind, ref)).at(-1);
  if (!last) return undefined;
  const allowance = (await ctx.chain.contracts.token.allowance(owner, approval.spender)) as bigint;
  return allowance === approval.amount ? last.hash : undefined;
}
