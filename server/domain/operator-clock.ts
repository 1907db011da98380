// Use case: the operator moves a local chain's clock forward (the demo's "three days pass").
// It goes through the service's own chain handle, behind the operator's API key: the public
// JSON-RPC endpoint users see offers no clock control (see README, "Trust model").
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { AppError, conflict } from "../model/errors.js";
import { requireRole, type Actor } from "../model/actor.js";

const LOCAL_CHAIN_ID = "31337";

export const AdvanceClockSchema = z
  .object({
    seconds: z
      .number()
      .int()
      .min(1)
      .max(10 * 365 * 24 * 3600)
      .meta({ description: "How far to move the local chain's clock forward, in seconds" }),
  })
  .strict()
  .meta({ id: "AdvanceClock" });

export const ClockAdvancedSchema = z
  .object({ chainTime: z.string(), blockNumber: z.number() })
  .meta({ id: "ClockAdvanced" });

export async function advanceLocalClock(
  ctx: ServiceContext,
  actor: Actor,
  input: z.infer<typeof AdvanceClockSchema>,
): Promise<z.infer<typeof ClockAdvancedSchema>> {
  requireRole(actor, "operator");
  if (ctx.chain.deployment.chainId !== LOCAL_CHAIN_ID) {
    throw conflict("CLOCK_NOT_LOCAL", "only a local chain's clock can be moved", {
      chainId: ctx.chain.deployment.chainId,
    });
  }
  await ctx.chain.provider.send("evm_increaseTime", [input.seconds]);
  await ctx.chain.provider.send("evm_mine", []);
  const block = await ctx.chain.provider.getBlock("latest");
  if (!block) throw new AppError("CHAIN_UNAVAILABLE", 503, "the chain has no latest block");
  ctx.log.info({ seconds: input.seconds, blockNumber: block.number }, "operator moved the local chain's clock");
  return { chainTime: new Date(block.timestamp * 1000).toISOString(), blockNumber: block.number };
}
