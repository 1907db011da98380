// A separate anvil for tests that need a chain other than the embedded one (another chain id,
// interval mining): on a port of anvil's own choosing, read from its "Listening on" line.
import { spawn, type ChildProcess } from "node:child_process";
import { anvilBinary } from "../../scripts/chain/embedded-chain.js";

export interface AnvilProcess {
  url: string;
  stop(): Promise<void>;
}

export async function startAnvil(args: string[]): Promise<AnvilProcess> {
  const anvil: ChildProcess = spawn(anvilBinary(), ["--host", "127.0.0.1", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`anvil did not start: ${output}`)), 30_000);
    anvil.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      const listening = /Listening on (\S+)/.exec(output);
      if (listening) {
        clearTimeout(timer);
        resolve(`http://${listening[1]}`);
      }
    });
    anvil.once("exit", (code) => reject(new Error(`anvil exited (${code}): ${output}`)));
  });
  anvil.stdout!.resume();
  return {
    url,
    async stop() {
      if (anvil.exitCode !== null) return;
      const exited = new Promise((resolve) => anvil.once("exit", resolve));
      anvil.kill("SIGTERM");
      await exited;
    },
  };
}
