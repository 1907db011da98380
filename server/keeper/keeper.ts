// The keeper: settles repaid receivables, marks overdue and defaulted ones. (Placeholder:
// implemented with the financing and repayment work.)
import type { ServiceContext } from "../context.js";

export class Keeper {
  constructor(private readonly ctx: ServiceContext) {}

  /** One pass over the work there is; returns what it did. */
  async runOnce(): Promise<{ settled: number; markedOverdue: number; markedDefaulted: number }> {
    void this.ctx;
    return { settled: 0, markedOverdue: 0, markedDefaulted: 0 };
  }

  start(_intervalMs: number): void {}

  async stop(): Promise<void> {}
}
