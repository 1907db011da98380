// JSON-RPC over a local IPC socket (a Unix domain socket, as anvil's `--ipc <path>`
// serves). The embedded chain's control methods are reachable only this way: the socket
// lives inside the 0700 data directory, so only its owner can connect. ethers'
// JsonRpcProvider keeps working unchanged: `ipc://<absolute path>` URLs are sent through
// `ipcGetUrlFunc`, which answers like an HTTP POST would.
import { connect, type Socket } from "node:net";
import type { FetchRequest, GetUrlResponse } from "ethers";

export const IPC_SCHEME = "ipc://";

export const isIpcUrl = (url: string): boolean => url.startsWith(IPC_SCHEME);
export const ipcPathOf = (url: string): string => decodeURIComponent(url.slice(IPC_SCHEME.length));
export const ipcUrlOf = (socketPath: string): string => `${IPC_SCHEME}${socketPath}`;

/**
 * Splits a byte stream into top-level JSON values (objects or arrays), whatever separates
 * them: anvil does not promise a newline after each answer.
 */
export class JsonStreamSplitter {
  #buffer = "";
  #depth = 0;
  #inString = false;
  #escaped = false;
  #start = -1;
  #scanned = 0;

  push(chunk: string): string[] {
    this.#buffer += chunk;
    const out: string[] = [];
    for (let i = this.#scanned; i < this.#buffer.length; i++) {
      const c = this.#buffer[i];
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === "\\") this.#escaped = true;
        else if (c === '"') this.#inString = false;
        continue;
      }
      if (c === '"') this.#inString = true;
      else if (c === "{" || c === "[") {
        if (this.#depth === 0) this.#start = i;
        this.#depth++;
      } else if (c === "}" || c === "]") {
        this.#depth--;
        if (this.#depth === 0 && this.#start >= 0) {
          out.push(this.#buffer.slice(this.#start, i + 1));
          this.#buffer = this.#buffer.slice(i + 1);
          this.#start = -1;
          i = -1;
        }
      }
    }
    this.#scanned = this.#buffer.length;
    if (this.#depth === 0) {
      this.#buffer = "";
      this.#scanned = 0;
    } else if (this.#start > 0) {
      this.#buffer = this.#buffer.slice(this.#start);
      this.#scanned -= this.#start;
      this.#start = 0;
    }
    return out;
  }
}

/** One connection to the socket; requests are answered in order (anvil answers each in turn). */
class IpcConnection {
  readonly #socket: Socket;
  readonly #waiting: { resolve: (body: string) => void; reject: (error: Error) => void }[] = [];
  readonly #splitter = new JsonStreamSplitter();
  #closed: Error | undefined;

  constructor(readonly socketPath: string) {
    this.#socket = connect(socketPath);
    this.#socket.setEncoding("utf8");
    this.#socket.on("data", (chunk: string) => {
      for (const message of this.#splitter.push(chunk)) this.#waiting.shift()?.resolve(message);
    });
    const fail = (error: Error) => {
      this.#closed ??= error;
      for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
    };
    this.#socket.on("error", fail);
    this.#socket.on("close", () => fail(new Error(`the IPC socket ${socketPath} closed`)));
  }

  get usable(): boolean {
    return this.#closed === undefined;
  }

  request(body: string): Promise<string> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#socket.write(body);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/**
 * A JSON-RPC client over one socket path. Requests are serialized per connection; a few
 * connections are kept so a slow call (a state dump) does not hold the others up.
 */
export class IpcRpcClient {
  readonly #pool: IpcConnection[] = [];
  #next = 0;
  #id = 0;

  constructor(
    readonly socketPath: string,
    private readonly connections = 4,
  ) {}

  #connection(): IpcConnection {
    this.#next = (this.#next + 1) % this.connections;
    let c = this.#pool[this.#next];
    if (!c || !c.usable) {
      c?.close();
      c = new IpcConnection(this.socketPath);
      this.#pool[this.#next] = c;
    }
    return c;
  }

  /** Sends a raw JSON-RPC body (a request or a batch) and returns the raw answer. */
  raw(body: string): Promise<string> {
    return this.#connection().request(body);
  }

  /** Calls one method; throws on a JSON-RPC error. */
  async call<T = unknown>(method: string, params: unknown[] = [], timeoutMs = 120_000): Promise<T> {
    const id = ++this.#id;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        this.raw(JSON.stringify({ jsonrpc: "2.0", id, method, params })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${method} over IPC timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      const parsed = JSON.parse(answer) as { result?: T; error?: { code: number; message: string } };
      if (parsed.error) throw new Error(`${method}: ${parsed.error.message} (code ${parsed.error.code})`);
      return parsed.result as T;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    for (const c of this.#pool.splice(0)) c?.close();
  }
}

const clients = new Map<string, IpcRpcClient>();

/** For FetchRequest.getUrlFunc: sends the request body over the socket named by `ipc://` URLs. */
export async function ipcGetUrlFunc(request: FetchRequest): Promise<GetUrlResponse> {
  const socketPath = ipcPathOf(request.url);
  let client = clients.get(socketPath);
  if (!client) {
    client = new IpcRpcClient(socketPath);
    clients.set(socketPath, client);
  }
  const body = request.body ? Buffer.from(request.body).toString("utf8") : "";
  let answer: string;
  let timer: NodeJS.Timeout | undefined;
  try {
    answer = await Promise.race([
      client.raw(body),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer on ${socketPath} within ${request.timeout} ms`)),
          request.timeout,
        );
      }),
    ]);
  } catch (error) {
    // Like a refused TCP connection: ethers reports it, callers map it to CHAIN_UNAVAILABLE.
    clients.delete(socketPath);
    client.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    statusCode: 200,
    statusMessage: "OK",
    headers: { "content-type": "application/json" },
    body: new Uint8Array(Buffer.from(answer, "utf8")),
  };
}
