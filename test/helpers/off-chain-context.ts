// The service context of a test that exercises database code only: the database, the wall
// clock, a silent log, and a chain nobody may call.
import { pino } from "pino";
import type { ServiceContext } from "../../server/context.js";
import type { Db } from "../../server/store/database.js";

export function offChainContext(db: Db): ServiceContext {
  return {
    db,
    now: () => new Date(),
    log: pino({ level: "silent" }),
    chain: { provider: {} },
  } as unknown as ServiceContext;
}
