// A real PostgreSQL server for the tests, started by the tests themselves
// (scripts/db/embedded-postgres.ts), so `npm test` needs nothing installed by hand. One
// server per test process, started on first use and stopped (its files deleted) when
// mocha's root suite ends; a fresh database per test service. If it cannot start, the test
// that asked fails, loudly: never a skip.
import { startThrowawayPostgres, type ThrowawayPostgres } from "../../scripts/db/embedded-postgres.js";

let server: Promise<ThrowawayPostgres> | undefined;

/** Which engine the integration tests run against: TIERLINE_TEST_DATABASE=sqlite (default) | postgres. */
export function testDatabaseEngine(): "sqlite" | "postgres" {
  const engine = process.env.TIERLINE_TEST_DATABASE ?? "sqlite";
  if (engine !== "sqlite" && engine !== "postgres")
    throw new Error(`TIERLINE_TEST_DATABASE must be sqlite or postgres, not ${JSON.stringify(engine)}`);
  return engine;
}

/** A new, empty database on the test process's PostgreSQL server (started on first use). */
export async function freshDatabaseUrl(): Promise<string> {
  if (!server) {
    server = startThrowawayPostgres();
    server.catch(() => {
      server = undefined;
    });
  }
  return (await server).createDatabase();
}

/** Stops the server and deletes its files (the root hook below calls it). */
export async function stopPostgresServer(): Promise<void> {
  const running = server;
  server = undefined;
  await (await running?.catch(() => undefined))?.stop();
}

// A root-level hook (this module is loaded inside mocha's root suite): one server per run,
// stopped when the whole run ends.
if (typeof after === "function") after(stopPostgresServer);
