// One clock: whatever compares with due dates (statuses, deadlines, maturity buckets, tenors,
// quotes) uses the chain's time, the latest block's timestamp, as the contracts do. A local
// chain may run ahead of the wall clock (the demo and the tests move it), and a real one
// lags it by a block.
import type { Provider } from "ethers";

/** What reading the clock needs: the chain, and the injected clock for a chain with no block. */
export interface ClockSource {
  chain: { provider: Provider };
  now: () => Date;
}

/** The latest block's timestamp, unix seconds; the injected clock when the chain has no block. */
export async function chainNowSeconds(ctx: ClockSource): Promise<number> {
  const block = await ctx.chain.provider.getBlock("latest");
  return block ? Number(block.timestamp) : Math.floor(ctx.now().getTime() / 1000);
}
