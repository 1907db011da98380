// Paying in the settlement token from a custodial wallet: approve exactly what one call spends,
// send the call, and reset the allowance if the call fails. Shared by financing and recourse.
import type { TransactionReceipt, TransactionRequest } from "ethers";
import type { TxSender } from "../chain/tx-sender.js";
import type { ServiceContext } from "../context.js";

/**
 * Approves `approval.spender` (the market, the recourse ledger) for exactly `amount` of the settlement token, then sends the call that
 * spends it; if that call fails the allowance is set back to 0, so no approval outlives a
 * payment that did not happen.
 */
export async function payThroughExactAllowance(
  ctx: ServiceContext,
  sender: TxSender,
  approval: { spender: string; amount: bigint; kind: string },
  call: { kind: string; ref: string; request: () => Promise<TransactionRequest> },
): Promise<{ approveHash: string; receipt: TransactionReceipt }> {
  const { token } = ctx.chain.contracts;
  const approve = await sender.send(await token.approve.populateTransaction(approval.spender, approval.amount), {
    kind: approval.kind,
    ref: call.ref,
  });
  try {
    const receipt = await sender.send(await call.request(), { kind: call.kind, ref: call.ref });
    return { approveHash: approve.hash, receipt };
  } catch (error) {
    await sender
      .send(await token.approve.populateTransaction(approval.spender, 0n), { kind: approval.kind, ref: call.ref })
      .catch((reset) => {
        ctx.log.warn({ err: reset, ref: call.ref }, "could not reset the settlement token allowance");
      });
    throw error;
  }
}
