// The embedded chain's public endpoint: standard Ethereum JSON-RPC only. anvil itself is
// reached over a private socket inside the data directory; this proxy forwards the methods
// a wallet or the financier CLI needs (reads, fees, receipts, eth_sendRawTransaction) and
// refuses everything else — anvil_*, evm_*, hardhat_*, debug_*, trace_*, ots_*, txpool_*,
// personal_*, eth_sendTransaction and eth_sign* (which would sign with the node's unlocked
// dev accounts). Batches are filtered item by item. No permissive CORS: a request that
// carries a browser Origin is refused unless that origin was allowed by configuration.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** Standard methods the public endpoint serves. Everything else is refused. */
export const PUBLIC_METHODS: ReadonlySet<string> = new Set([
  "eth_chainId",
  "eth_blockNumber",
  "eth_call",
  "eth_estimateGas",
  "eth_createAccessList",
  "eth_getBalance",
  "eth_getCode",
  "eth_getStorageAt",
  "eth_getProof",
  "eth_getLogs",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  "eth_getBlockReceipts",
  "eth_getBlockTransactionCountByHash",
  "eth_getBlockTransactionCountByNumber",
  "eth_getUncleCountByBlockHash",
  "eth_getUncleCountByBlockNumber",
  "eth_getTransactionByHash",
  "eth_getTransactionByBlockHashAndIndex",
  "eth_getTransactionByBlockNumberAndIndex",
  "eth_getTransactionReceipt",
  "eth_getTransactionCount",
  "eth_sendRawTransaction",
  "eth_gasPrice",
  "eth_feeHistory",
  "eth_maxPriorityFeePerGas",
  "eth_blobBaseFee",
  "eth_syncing",
  "eth_protocolVersion",
  "eth_newFilter",
  "eth_newBlockFilter",
  "eth_getFilterChanges",
  "eth_getFilterLogs",
  "eth_uninstallFilter",
  "net_version",
  "net_listening",
  "net_peerCount",
  "web3_clientVersion",
  "web3_sha3",
]);

/** Answered here, never by the node: a public endpoint has no accounts to offer. */
const LOCAL_ANSWERS: Record<string, unknown> = { eth_accounts: [], eth_coinbase: null };

/** JSON-RPC error codes the proxy answers with. */
export const PROXY_ERRORS = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotAvailable: -32601,
  originRefused: -32003,
} as const;

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const MAX_BATCH = 1_000;

export interface RpcProxyOptions {
  /** Sends a JSON-RPC body (one request or a batch) to the node and returns its raw answer. */
  upstream(body: string): Promise<string>;
  /** Browser origins allowed to call (exact `scheme://host:port`); none by default. */
  allowedOrigins?: readonly string[];
}

interface RpcRequest {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

const errorAnswer = (id: unknown, code: number, message: string) => ({
  jsonrpc: "2.0",
  id: id ?? null,
  error: { code, message },
});

function refusal(request: RpcRequest): object | undefined {
  if (typeof request !== "object" || request === null || Array.isArray(request))
    return errorAnswer(null, PROXY_ERRORS.invalidRequest, "invalid JSON-RPC request");
  if (typeof request.method !== "string")
    return errorAnswer(request.id, PROXY_ERRORS.invalidRequest, "invalid JSON-RPC request: no method");
  if (request.method in LOCAL_ANSWERS) return undefined;
  if (!PUBLIC_METHODS.has(request.method))
    return errorAnswer(
      request.id,
      PROXY_ERRORS.methodNotAvailable,
      `the method ${request.method} is not available: this endpoint serves standard Ethereum JSON-RPC only (sign transactions yourself and send them with eth_sendRawTransaction)`,
    );
  return undefined;
}

/** Filters one body (a request or a batch); forwards what is allowed; answers in request order. */
export async function filterAndForward(parsed: unknown, upstream: (body: string) => Promise<string>): Promise<unknown> {
  if (!Array.isArray(parsed)) {
    const request = parsed as RpcRequest;
    const refused = refusal(request);
    if (refused) return refused;
    const method = request.method as string;
    if (method in LOCAL_ANSWERS) return { jsonrpc: "2.0", id: request.id ?? null, result: LOCAL_ANSWERS[method] };
    return JSON.parse(await upstream(JSON.stringify(request)));
  }
  if (parsed.length === 0) return errorAnswer(null, PROXY_ERRORS.invalidRequest, "empty batch");
  if (parsed.length > MAX_BATCH)
    return errorAnswer(null, PROXY_ERRORS.invalidRequest, `a batch holds at most ${MAX_BATCH} requests`);
  const answers: unknown[] = new Array(parsed.length);
  const forwarded: { index: number; request: RpcRequest }[] = [];
  parsed.forEach((item: RpcRequest, index) => {
    const refused = refusal(item);
    if (refused) answers[index] = refused;
    else if ((item.method as string) in LOCAL_ANSWERS)
      answers[index] = { jsonrpc: "2.0", id: item.id ?? null, result: LOCAL_ANSWERS[item.method as string] };
    else forwarded.push({ index, request: item });
  });
  if (forwarded.length > 0) {
    // Forwarded with positional ids, so answers map back whatever ids the caller used.
    const body = forwarded.map(({ request }, i) => ({ ...request, jsonrpc: "2.0", id: i }));
    const raw = JSON.parse(await upstream(JSON.stringify(body))) as { id: number }[] | object;
    const list = Array.isArray(raw) ? raw : [raw];
    for (const answer of list) {
      const slot = forwarded[answer.id];
      if (slot) answers[slot.index] = { ...answer, id: slot.request.id ?? null };
    }
    forwarded.forEach(({ index, request }) => {
      answers[index] ??= errorAnswer(request.id, -32603, "the node gave no answer");
    });
  }
  return answers;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function createRpcProxy(options: RpcProxyOptions): Server {
  const allowed = new Set(options.allowedOrigins ?? []);
  return createServer(async (req, res) => {
    const origin = req.headers.origin;
    const corsHeaders: Record<string, string> = {};
    if (origin !== undefined) {
      if (!allowed.has(origin)) {
        send(
          res,
          403,
          errorAnswer(
            null,
            PROXY_ERRORS.originRefused,
            `requests from the browser origin ${origin} are refused (allow it with TIERLINE_CHAIN_ALLOWED_ORIGINS)`,
          ),
        );
        return;
      }
      corsHeaders["access-control-allow-origin"] = origin;
      corsHeaders["vary"] = "Origin";
    }
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        ...corsHeaders,
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type",
      });
      res.end();
      return;
    }
    if (req.method !== "POST") {
      send(res, 405, errorAnswer(null, PROXY_ERRORS.invalidRequest, "JSON-RPC is POST only"), {
        ...corsHeaders,
        allow: "POST",
      });
      return;
    }
    const body = await readBody(req).catch(() => undefined);
    if (body === undefined) {
      send(res, 413, errorAnswer(null, PROXY_ERRORS.invalidRequest, "request too large"), corsHeaders);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      send(res, 200, errorAnswer(null, PROXY_ERRORS.parse, "parse error"), corsHeaders);
      return;
    }
    try {
      send(res, 200, await filterAndForward(parsed, options.upstream), corsHeaders);
    } catch (error) {
      const id = Array.isArray(parsed) ? null : (parsed as RpcRequest)?.id;
      send(
        res,
        502,
        errorAnswer(id, -32603, `the chain node is not answering: ${(error as Error).message}`),
        corsHeaders,
      );
    }
  });
}
