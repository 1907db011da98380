// The embedded local chain for `npm start`: anvil (from the npm package
// @foundry-rs/anvil), because it keeps its state in a file across restarts and
// Hardhat's node cannot (see README, "Why anvil"). JSON-RPC on 127.0.0.1:<port>.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import path from "node:path";
import { JsonRpcProvider } from "ethers";

/** anvil's first dev account: the registrar on the embedded chain (never use it elsewhere). */
export const EMBEDDED_REGISTRAR_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export interface EmbeddedChain {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const packageDir = path.dirname(require.resolve("@foundry-rs/anvil/package.json"));
  return path.join(packageDir, "..", "..", ".bin", "anvil");
}

async function answering(url: string): Promise<boolean> {
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
  try {
    await provider.send("eth_chainId", []);
    return true;
  } catch {
    return false;
  } finally {
    provider.destroy();
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startEmbeddedChain(dataDir: string, port: number): Promise<EmbeddedChain> {
  const url = `http://127.0.0.1:${port}`;
  if (await answering(url)) {
    throw new Error(
      `something already answers JSON-RPC on ${url}: is another Tierline running? Stop it, or set TIERLINE_CHAIN_PORT`,
    );
  }
  const chainDir = path.join(dataDir, "chain");
  mkdirSync(chainDir, { recursive: true });
  const logFile = createWriteStream(path.join(chainDir, "anvil.log"), { flags: "a" });
  const child = spawn(
    anvilBinary(),
    [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--chain-id",
      "31337",
      "--hardfork",
      "osaka",
      // The whole chain (blocks, logs, state) is dumped every second and on exit, and loaded on start.
      "--state",
      path.join(chainDir, "state.json"),
      "--state-interval",
      "1",
      "--accounts",
      "10",
      "--balance",
      "1000000",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.pipe(logFile);
  child.stderr!.pipe(logFile);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const deadline = Date.now() + 20_000;
  while (!(await answering(url))) {
    if (child.exitCode !== null)
      throw new Error(
        `the embedded chain (anvil) exited with code ${child.exitCode}; see ${path.join(chainDir, "anvil.log")}`,
      );
    if (Date.now() > deadline) throw new Error(`the embedded chain did not answer on ${url} within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGINT"); // anvil dumps its state on SIGINT
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      // node_modules/.bin/anvil is a launcher that exits once it has passed the signal on;
      // the real binary may still be saving state and holding the port. Wait for it to let go.
      const until = Date.now() + 15_000;
      while ((await portInUse(port)) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    },
  };
}
