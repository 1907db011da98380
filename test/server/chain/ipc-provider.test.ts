// The service's provider over the embedded chain's socket (chain/ipc-provider.ts): calls and
// batches are answered from the socket's parsed JSON, non-ASCII text survives the trip, and a
// socket that is gone or silent fails like a refused or timed-out connection, which the service
// answers with 503 CHAIN_UNAVAILABLE. A stand-in socket server plays the chain.
import { expect } from "chai";
import { Network } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { IpcJsonRpcProvider } from "../../../server/chain/ipc-provider.js";
import { closeIpcClients, ipcUrlOf, JsonStreamSplitter } from "../../../server/chain/ipc-transport.js";
import { isConnectionFailure } from "../../../server/model/errors.js";

type Request = { id: number; method: string; params: unknown[] };
/** What the stand-in chain answers a request: a result, an error, or nothing at all (undefined). */
type Answer = (request: Request) => { result: unknown } | { error: { code: number; message: string } } | undefined;

describe("the IPC provider", () => {
  let dir: string;
  let server: Server | undefined;
  const received: unknown[] = [];
  const sockets = new Set<Socket>();

  /** A socket server that answers each request as `answer` says. */
  async function chain(answer: Answer): Promise<string> {
    const socketPath = path.join(dir, `chain-${received.length}-${Date.now()}.ipc`);
    server = createServer((socket) => {
      sockets.add(socket);
      socket.setEncoding("utf8");
      const splitter = new JsonStreamSplitter();
      socket.on("data", (chunk: string) => {
        for (const text of splitter.push(chunk)) {
          const body = JSON.parse(text) as Request | Request[];
          received.push(body);
          const respond = (r: Request) => {
            const reply = answer(r);
            return reply === undefined ? undefined : { jsonrpc: "2.0", id: r.id, ...reply };
          };
          const out = Array.isArray(body) ? body.map(respond) : respond(body);
          if (out !== undefined && !(Array.isArray(out) && out.includes(undefined))) socket.write(JSON.stringify(out));
        }
      });
    });
    await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
    return ipcUrlOf(socketPath);
  }

  const provider = (url: string, timeoutMs = 2_000) =>
    new IpcJsonRpcProvider(url, timeoutMs, { staticNetwork: Network.from(31337), batchStallTime: 0, cacheTimeout: -1 });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-ipc-"));
    received.length = 0;
  });
  afterEach(async () => {
    closeIpcClients();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers a call and a batch from the socket, with non-ASCII text intact", async () => {
    const url = await chain((r) => ({ result: r.method === "web3_clientVersion" ? "anvil/ünïcode ✓" : "0x2a" }));
    const p = provider(url);
    try {
      expect(await p.getBlockNumber()).to.equal(42);
      // Two calls in one tick go out as one batch, and each gets its own answer back.
      const [version, block] = await Promise.all([p.send("web3_clientVersion", []), p.send("eth_blockNumber", [])]);
      expect(version).to.equal("anvil/ünïcode ✓");
      expect(block).to.equal("0x2a");
      expect(received.some((body) => Array.isArray(body) && body.length === 2)).to.equal(true);
    } finally {
      p.destroy();
    }
  });

  it("reports a JSON-RPC error as the chain's refusal, not as the chain being down", async () => {
    const url = await chain(() => ({ error: { code: -32000, message: "nonce too low" } }));
    const p = provider(url);
    try {
      const error = await p.send("eth_sendRawTransaction", ["0x00"]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String((error as Error)?.message)).to.contain("nonce too low");
      expect(isConnectionFailure(error)).to.equal(false);
    } finally {
      p.destroy();
    }
  });

  it("fails like a refused connection when the socket is gone", async () => {
    const p = provider(ipcUrlOf(path.join(dir, "no-such-chain.ipc")));
    try {
      const error = await p.send("eth_blockNumber", []).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String((error as Error)?.message)).to.match(/^ECONNREFUSED: the chain at ipc:\/\//);
      expect(isConnectionFailure(error)).to.equal(true);
    } finally {
      p.destroy();
    }
  });

  it("fails like a timed-out connection when the chain stays silent, and recovers on a fresh socket", async () => {
    let silent = true;
    const url = await chain(() => (silent ? undefined : { result: "0x7" }));
    const p = provider(url, 300);
    try {
      const started = Date.now();
      const error = await p.send("eth_blockNumber", []).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String((error as Error)?.message)).to.match(/^ETIMEDOUT: .*within 300 ms/);
      expect(isConnectionFailure(error)).to.equal(true);
      expect(Date.now() - started).to.be.lessThan(5_000);
      silent = false;
      expect(await p.send("eth_blockNumber", [])).to.equal("0x7");
    } finally {
      p.destroy();
    }
  });
});
