// JSON-RPC over a local IPC socket (a Unix domain socket, as anvil's `--ipc <path>`
// serves). The embedded chain's control methods are reachable only this way: the socket
// lives inside the 0700 data directory, so only its owner can connect. The service's
// provider for `ipc://<absolute path>` URLs (ipc-provider.ts) sends through `ipcRequest`.
import { connect, type Socket } from "node:net";

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

  // Every byte of every chain answer passes through here (receipts, blocks, logs: mostly hex
  // inside strings), so strings are skipped with indexOf rather than a character at a time,
  // and the buffer is cut once per chunk, not once per value: ~0.3 s self time in a
  // 240-registration bench profile when it walked each character.
  push(chunk: string): string[] {
    const buffer = this.#buffer + chunk;
    const out: string[] = [];
    let i = this.#scanned;
    // The next backslash at or after i (buffer.length: none): hex payloads have none, so it is looked up rarely.
    let backslash = -1;
    while (i < buffer.length) {
      if (this.#inString) {
        if (this.#escaped) {
          this.#escaped = false;
          i++;
          continue;
        }
        const quote = buffer.indexOf('"', i);
        if (backslash < i) {
          backslash = buffer.indexOf("\\", i);
          if (backslash < 0) backslash = buffer.length;
        }
        if (backslash < buffer.length && (quote < 0 || backslash < quote)) {
          this.#escaped = true;
          i = backslash + 1;
        } else if (quote < 0) {
          i = buffer.length;
        } else {
          this.#inString = false;
          i = quote + 1;
        }
        continue;
      }
      const c = buffer.charCodeAt(i);
      if (c === 0x22 /* " */) this.#inString = true;
      else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (this.#depth === 0) this.#start = i;
        this.#depth++;
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        this.#depth--;
        if (this.#depth === 0 && this.#start >= 0) {
          out.push(buffer.slice(this.#start, i + 1));
          this.#start = -1;
        }
      }
      i++;
    }
    if (this.#depth === 0) {
      this.#buffer = "";
      this.#scanned = 0;
      this.#start = -1;
    } else if (this.#start >= 0) {
      this.#buffer = buffer.slice(this.#start);
      this.#scanned = buffer.length - this.#start;
      this.#start = 0;
    } else {
      this.#buffer = buffer;
      this.#scanned = buffer.length;
    }
    return out;
  }
}

export interface RpcMessage {
  id?: unknown;
  [key: string]: unknown;
}

/**
 * One connection to the socket. anvil may answer requests on one connection out of order
 * (a slow state dump does not hold up a quick read), so every request is sent with an id of
 * our own and its answer matched by id, then given back the caller's id.
 */
class IpcConnection {
  readonly #socket: Socket;
  readonly #waiting = new Map<number, { resolve: (body: unknown) => void; reject: (error: Error) => void }>();
  readonly #splitter = new JsonStreamSplitter();
  #nextId = 1;
  #closed: Error | undefined;

  constructor(readonly socketPath: string) {
    this.#socket = connect(socketPath);
    this.#socket.setEncoding("utf8");
    this.#socket.on("data", (chunk: string) => {
      for (const message of this.#splitter.push(chunk)) this.#deliver(JSON.parse(message) as unknown);
    });
    const fail = (error: Error) => {
      this.#closed ??= error;
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    this.#socket.on("error", fail);
    this.#socket.on("close", () => fail(new Error(`the IPC socket ${socketPath} closed`)));
  }

  #deliver(answer: unknown): void {
    // A batch is waited for under the id of its first request: whichever order the answers come in.
    const candidates = (Array.isArray(answer) ? answer : [answer]) as RpcMessage[];
    const key = candidates.map((a) => a?.id).find((id) => typeof id === "number" && this.#waiting.has(id));
    const waiter = typeof key === "number" ? this.#waiting.get(key) : undefined;
    if (waiter) {
      this.#waiting.delete(key as number);
      waiter.resolve(answer);
    } else if (this.#waiting.size === 1) {
      // An answer without a usable id (a parse error): it can only be the one request waiting.
      const [only, w] = [...this.#waiting.entries()][0]!;
      this.#waiting.delete(only);
      w.resolve(answer);
    }
  }

  get usable(): boolean {
    return this.#closed === undefined;
  }

  /** Sends one request or a batch (parsed JSON); answers with the caller's ids restored. */
  request(body: RpcMessage | RpcMessage[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const items = Array.isArray(body) ? body : [body];
    const originals = new Map<number, unknown>();
    const sent = items.map((item) => {
      const id = this.#nextId++;
      originals.set(id, item.id);
      return { ...item, id };
    });
    const key = sent[0]!.id;
    return new Promise<unknown>((resolve, reject) => {
      this.#waiting.set(key, {
        resolve: (answer) => {
          const restore = (a: RpcMessage) =>
            typeof a?.id === "number" && originals.has(a.id) ? { ...a, id: originals.get(a.id) } : a;
          resolve(Array.isArray(answer) ? (answer as RpcMessage[]).map(restore) : restore(answer as RpcMessage));
        },
        reject,
      });
      this.#socket.write(JSON.stringify(Array.isArray(body) ? sent : sent[0]));
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

  /**
   * Sends a JSON-RPC request or batch (parsed) and returns the parsed answer; with `timeoutMs`,
   * rejects with "no answer on <socket> within <n> ms" when none comes in time.
   */
  async request(body: RpcMessage | RpcMessage[], timeoutMs?: number): Promise<unknown> {
    const answer = this.#connection().request(body);
    if (timeoutMs === undefined) return answer;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        answer,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer on ${this.socketPath} within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a raw JSON-RPC body (a request or a batch) and returns the raw answer. */
  async raw(body: string): Promise<string> {
    return JSON.stringify(await this.request(JSON.parse(body) as RpcMessage | RpcMessage[]));
  }

  /** Calls one method; throws on a JSON-RPC error. */
  async call<T = unknown>(method: string, params: unknown[] = [], timeoutMs = 120_000): Promise<T> {
    const id = ++this.#id;
    const answer = (await this.request({ jsonrpc: "2.0", id, method, params }, timeoutMs).catch((error: Error) => {
      throw new Error(`${method} over IPC: ${error.message}`, { cause: error });
    })) as { result?: T; error?: { code: number; message: string } };
    if (answer.error) throw new Error(`${method}: ${answer.error.message} (code ${answer.error.code})`);
    return answer.result as T;
  }

  close(): void {
    for (const c of this.#pool.splice(0)) c?.close();
  }
}

const clients = new Map<string, IpcRpcClient>();

/**
 * Closes the sockets `ipcRequest` keeps open per channel (a provider's destroy() does not
 * reach them): a short-lived process (the demo) calls it when done, or it never exits.
 */
export function closeIpcClients(): void {
  for (const client of clients.values()) client.close();
  clients.clear();
}

/**
 * Sends one JSON-RPC request or batch (parsed) over the socket named by the `ipc://` `url` and
 * returns the parsed answer. No answer within `timeoutMs`, or a broken socket, is reported like a
 * refused or timed-out TCP connection, so callers answer CHAIN_UNAVAILABLE.
 */
export async function ipcRequest(url: string, body: RpcMessage | RpcMessage[], timeoutMs: number): Promise<unknown> {
  const socketPath = ipcPathOf(url);
  let client = clients.get(socketPath);
  if (!client) {
    client = new IpcRpcClient(socketPath);
    clients.set(socketPath, client);
  }
  try {
    return await client.request(body, timeoutMs);
  } catch (error) {
    clients.delete(socketPath);
    client.close();
    const timedOut = /within \d+ ms/.test((error as Error).message);
    const code = timedOut ? "ETIMEDOUT" : "ECONNREFUSED";
    throw Object.assign(new Error(`${code}: the chain at ${url} is not answering (${(error as Error).message})`), {
      code,
      cause: error,
    });
  }
}
