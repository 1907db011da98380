// `npm run financier -- <command>`: a financier funds financing requests ON THE CHAIN
// WITH ITS OWN KEY. The service never sees the key: this talks to the JSON-RPC endpoint
// directly, reads the request's terms from FinancingMarket, prints them, approves the
// settlement token if needed and calls fund() bound to exactly the terms it printed.
//
//   fund <requestId> --key <file|env:NAME> [--attested-only]   fund one request
//   show <requestId>                         print its terms only
//   list                                     open requests, from the chain's FinancingRequested events
//
// Contract addresses come from the Tierline API's GET /v1/platform (`--api`, no API key
// needed) or from a JSON file (`--contracts`: TIERLINE_CONTRACTS format, a deployment
// record with `addresses`, or a saved /health answer).
import "./lib/node-version.js";
import { readFileSync, statSync } from "node:fs";
import { Command } from "commander";
import {
  JsonRpcProvider,
  Network,
  Wallet,
  formatEther,
  getAddress,
  isAddress,
  type ContractTransactionResponse,
  type TransactionReceipt,
} from "ethers";
import {
  bindContract,
  type CertificateToken,
  type FinancingMarket,
  type LocalSettlementToken,
} from "../server/chain/contracts.js";
import { decodeRevert } from "../server/chain/revert-errors.js";
import { loadEndpoints } from "../server/config.js";
import { createTierlineClient, type Schemas } from "../client/index.js";
import { CERTIFICATE_STATES, RECEIVABLE_STATUSES, REQUEST_STATUSES } from "../server/model/contract-enums.js";

// The same settings as `npm start`: TIERLINE_RPC_URL (or the embedded chain on
// TIERLINE_CHAIN_PORT) is the chain Tierline runs on; HOST and PORT are where its API is.
const ENDPOINTS = loadEndpoints();
const DEFAULT_RPC = ENDPOINTS.rpcUrl;
const DEFAULT_API = ENDPOINTS.apiUrl;

// The contracts' enum names as the CLI prints them (Solidity's spelling: "Locked", "Sold").
const solidityNames = (names: readonly string[]) => names.map((name) => name[0]!.toUpperCase() + name.slice(1));
const REQUEST_STATUS = solidityNames(REQUEST_STATUSES);
const CERTIFICATE_STATE = solidityNames(CERTIFICATE_STATES);
const RECEIVABLE_STATUS = solidityNames(RECEIVABLE_STATUSES);
const KIND = ["discount", "pledge"] as const;
const OPEN = 1n;
const DISCOUNT = 0n;

/** A failure the user can act on: printed as one line, exit code 1. */
class CliError extends Error {}

interface ConnectionOptions {
  rpc: string;
  api: string;
  contracts?: string;
}

interface Connection {
  provider: JsonRpcProvider;
  chainId: bigint;
  market: FinancingMarket;
  certificates: CertificateToken;
  token: LocalSettlementToken;
  decimals: number;
  symbol: string;
  source: string;
}

interface RequestTerms {
  requestId: bigint;
  certificateId: bigint;
  holder: string;
  kind: bigint;
  status: bigint;
  financier: string;
  price: bigint;
  repayAmount: bigint;
  outstanding: bigint;
  /** Face value less what the certificate was paid out already: funding is bound to it. */
  remainingClaim: bigint;
  /** Unix time the service's risk attestation holds until (0: unattested). */
  attestedUntil: bigint;
  advanceRateBps: bigint;
  /** Whether the market counts the request as attested right now. */
  attested: boolean;
}

/* ------------------------------------------------------------------ */
/*                               Formatting                           */
/* ------------------------------------------------------------------ */

/** `value` minor units as a decimal with every digit kept (no floats). */
function decimal(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const base = 10n ** BigInt(decimals);
  const whole = (magnitude / base).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = decimals > 0 ? `.${(magnitude % base).toString().padStart(decimals, "0")}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

const money = (c: Connection, value: bigint): string => `${decimal(value, c.decimals)} ${c.symbol} (${value} units)`;

const line = (label: string, value: string): void => console.log(`  ${label.padEnd(14)}${value}`);

/** A contract revert as `Name(arg=value, ...)`, enums by name. */
function describeRevert(error: unknown): string | undefined {
  const decoded = decodeRevert(error);
  if (!decoded) return undefined;
  const { contractError, ...args } = decoded.details as Record<string, string>;
  const named = Object.entries(args).map(([key, value]) => {
    if (contractError === "FinancingWrongStatus" && key === "status")
      return `${key}=${REQUEST_STATUS[Number(value)] ?? value}`;
    if (contractError === "CertificateWrongState" && key === "state")
      return `${key}=${CERTIFICATE_STATE[Number(value)] ?? value}`;
    if (contractError === "ReceivableWrongStatus" && key === "status")
      return `${key}=${RECEIVABLE_STATUS[Number(value)] ?? value}`;
    return `${key}=${value}`;
  });
  return `${contractError}(${named.join(", ")})`;
}

const revertName = (error: unknown): string | undefined =>
  (decodeRevert(error)?.details as { contractError?: string } | undefined)?.contractError;

function oneLine(error: unknown): string {
  if (error instanceof CliError) return error.message;
  const revert = describeRevert(error);
  if (revert) return `the contract refused: ${revert}`;
  const e = error as { shortMessage?: string; message?: string };
  return (e?.shortMessage ?? e?.message ?? String(error)).split("\n")[0]!;
}

/* ------------------------------------------------------------------ */
/*                             Key and addresses                      */
/* ------------------------------------------------------------------ */

/** Reads a 0x private key from a file or `env:NAME`. The key itself is never printed. */
function loadKey(source: string): string {
  let raw: string;
  let where: string;
  if (source.startsWith("env:")) {
    const name = source.slice(4);
    where = `environment variable ${name}`;
    const value = process.env[name];
    if (value === undefined || value === "") throw new CliError(`${where} is not set`);
    raw = value;
  } else {
    where = `key file ${source}`;
    try {
      raw = readFileSync(source, "utf8");
      if ((statSync(source).mode & 0o077) !== 0)
        console.error(`warning: ${where} is readable by other users; chmod 600 it`);
    } catch (error) {
      throw new CliError(`cannot read ${where}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const key = raw.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new CliError(`${where} does not hold a private key (expected 0x followed by 64 hex digits)`);
  return key;
}

function pickMarketAddress(json: unknown, where: string): string {
  const record = (json ?? {}) as Record<string, unknown>;
  const holder = (record.addresses ?? record.contracts ?? record) as Record<string, unknown>;
  const address = holder.financingMarket;
  if (typeof address !== "string" || !isAddress(address))
    throw new CliError(`${where} names no financingMarket address`);
  return getAddress(address);
}

async function findMarket(options: ConnectionOptions): Promise<{ market: string; chainId?: string; source: string }> {
  if (options.contracts) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(options.contracts, "utf8"));
    } catch (error) {
      throw new CliError(`cannot read contracts file ${options.contracts}: ${(error as Error).message.split("\n")[0]}`);
    }
    return { market: pickMarketAddress(json, `contracts file ${options.contracts}`), source: options.contracts };
  }
  // The typed client (client/): GET /v1/platform names the chain and the contracts.
  const url = `${options.api.replace(/\/+$/, "")}/v1/platform`;
  let platform: Schemas["Platform"];
  try {
    const client = createTierlineClient({
      baseUrl: options.api,
      fetch: (request) => fetch(request, { signal: AbortSignal.timeout(10_000) }),
    });
    const { data, response } = await client.GET("/v1/platform");
    if (!data) throw new Error(`HTTP ${response.status}`);
    platform = data;
  } catch (error) {
    throw new CliError(
      `cannot read the contract addresses from ${url} (${(error as Error).message}); pass --contracts <file> instead`,
    );
  }
  return {
    market: pickMarketAddress({ contracts: platform.chain.contracts }, `the answer of ${url}`),
    chainId: platform.chain.chainId,
    source: url,
  };
}

async function rpcChainId(rpc: string): Promise<bigint> {
  try {
    const response = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { result?: string };
    if (!body.result) throw new Error("no chain id in the answer");
    return BigInt(body.result);
  } catch (error) {
    throw new CliError(`cannot reach the chain's JSON-RPC endpoint at ${rpc} (${(error as Error).message})`);
  }
}

async function connect(options: ConnectionOptions): Promise<Connection> {
  const found = await findMarket(options);
  const chainId = await rpcChainId(options.rpc);
  if (found.chainId !== undefined && BigInt(found.chainId) !== chainId) {
    throw new CliError(
      `${found.source} describes chain ${found.chainId}, but ${options.rpc} is chain ${chainId}: refusing to mix them`,
    );
  }
  const network = Network.from(chainId);
  // No response cache: a nonce read right after a mined transaction must be fresh.
  const provider = new JsonRpcProvider(options.rpc, network, {
    staticNetwork: network,
    pollingInterval: 250,
    cacheTimeout: -1,
  });
  if ((await provider.getCode(found.market)) === "0x")
    throw new CliError(`no FinancingMarket at ${found.market} on chain ${chainId} (${options.rpc})`);
  const market = bindContract("FinancingMarket", found.market, provider);
  // The token and certificate contracts the market itself uses: approving anything else would be useless.
  const [certificatesAddress, tokenAddress] = (await Promise.all([
    market.certificates(),
    market.settlementToken(),
  ])) as [string, string];
  const certificates = bindContract("CertificateToken", certificatesAddress, provider);
  const token = bindContract("LocalSettlementToken", tokenAddress, provider);
  const [decimals, symbol] = await Promise.all([token.decimals(), token.symbol()]);
  return {
    provider,
    chainId,
    market,
    certificates,
    token,
    decimals: Number(decimals),
    symbol: String(symbol),
    source: found.source,
  };
}

/* ------------------------------------------------------------------ */
/*                                  Terms                             */
/* ------------------------------------------------------------------ */

function parseRequestId(value: string): bigint {
  if (!/^[1-9][0-9]{0,30}$/.test(value)) throw new CliError(`"${value}" is not a request id (a positive integer)`);
  return BigInt(value);
}

async function readTerms(c: Connection, requestId: bigint): Promise<RequestTerms> {
  const r = await c.market.requestOf(requestId);
  if (BigInt(r.status) === 0n)
    throw new CliError(
      `financing request ${requestId} does not exist on chain ${c.chainId} (FinancingMarket ${c.market.target})`,
    );
  return {
    requestId,
    certificateId: r.certificateId,
    holder: r.holder,
    kind: BigInt(r.kind),
    status: BigInt(r.status),
    financier: r.financier,
    price: r.price,
    repayAmount: r.repayAmount,
    outstanding: r.outstanding,
    remainingClaim: (await c.market.remainingClaimOf(r.certificateId)) as bigint,
    attestedUntil: BigInt(r.attestedUntil),
    advanceRateBps: BigInt(r.advanceRateBps),
    attested: (await c.market.isAttested(requestId)) as boolean,
  };
}

async function printTerms(c: Connection, terms: RequestTerms): Promise<void> {
  const certificate = await c.certificates.certificateOf(terms.certificateId);
  const face = certificate.faceValue as bigint;
  const due = Number(certificate.dueDate);
  const now = (await c.provider.getBlock("latest"))!.timestamp;
  const days = Math.floor((due - now) / 86_400);
  const discount = terms.kind === DISCOUNT;

  console.log(`Financing request ${terms.requestId} on chain ${c.chainId} (FinancingMarket ${c.market.target})`);
  line("status", REQUEST_STATUS[Number(terms.status)] ?? String(terms.status));
  line(
    "kind",
    discount
      ? "discount: the financier buys the certificate for the price"
      : "pledge: the financier lends the price against the locked certificate",
  );
  line(
    "certificate",
    `${terms.certificateId} (tier ${certificate.tier}, ${CERTIFICATE_STATE[Number(certificate.state)] ?? certificate.state})`,
  );
  line("receivable", String(certificate.receivableId));
  line("face value", money(c, face));
  line("paid out", money(c, face - terms.remainingClaim));
  line("remaining", `${money(c, terms.remainingClaim)} (what the certificate can still pay; funding is bound to it)`);
  line(
    "attestation",
    terms.attested
      ? `attested by the service until ${new Date(Number(terms.attestedUntil) * 1000).toISOString()} (advance rate ${decimal(terms.advanceRateBps, 2)}%)`
      : terms.attestedUntil > 0n
        ? `expired at ${new Date(Number(terms.attestedUntil) * 1000).toISOString()}`
        : "none: opened without the service's credit checks (fund --attested-only refuses it)",
  );
  line("due date", `${new Date(due * 1000).toISOString()} (${days >= 0 ? `in ${days} days` : `${-days} days ago`})`);
  line("holder", terms.holder);
  line("price", `${money(c, terms.price)}, paid to the holder on funding`);
  if (discount) {
    line("repay amount", "none (a discount sale: the certificate's payout goes to its new owner)");
    line(
      "at maturity",
      `${money(c, terms.remainingClaim)} to the owner, ${money(c, terms.remainingClaim - terms.price)} above the price`,
    );
  } else {
    line("repay amount", `${money(c, terms.repayAmount)}, owed to the pledgee from the certificate's payout`);
    line("at maturity", `${money(c, terms.repayAmount - terms.price)} above the price, first out of the payout`);
  }
  if (terms.financier !== "0x0000000000000000000000000000000000000000") line("financier", terms.financier);
  if (!discount && terms.status === 4n) line("outstanding", money(c, terms.outstanding));
}

/* ------------------------------------------------------------------ */
/*                                 Commands                           */
/* ------------------------------------------------------------------ */

function reportReceipt(what: string, receipt: TransactionReceipt): void {
  line(what, `${receipt.hash} (block ${receipt.blockNumber}, gas used ${receipt.gasUsed})`);
}

async function mined(response: ContractTransactionResponse): Promise<TransactionReceipt> {
  const receipt = await response.wait();
  if (!receipt || receipt.status !== 1) throw new CliError(`transaction ${response.hash} reverted on-chain`);
  return receipt;
}

async function fundCommand(c: Connection, requestId: bigint, keySource: string, attestedOnly: boolean): Promise<void> {
  const wallet = new Wallet(loadKey(keySource), c.provider);
  const terms = await readTerms(c, requestId);
  await printTerms(c, terms);
  if (attestedOnly && !terms.attested) {
    throw new CliError(`request ${requestId} carries no valid risk attestation: --attested-only refuses to fund it`);
  }
  // fundAttested re-checks the attestation on-chain; both bind the terms and remaining claim printed above.
  const fundFunction = attestedOnly ? "fundAttested" : "fund";
  const fundArgs = [requestId, terms.price, terms.repayAmount, terms.remainingClaim] as const;

  const market = c.market.connect(wallet);
  const token = c.token.connect(wallet);
  const marketAddress = String(c.market.target);
  const [balance, allowance, gas] = (await Promise.all([
    c.token.balanceOf(wallet.address),
    c.token.allowance(wallet.address, marketAddress),
    c.provider.getBalance(wallet.address),
  ])) as [bigint, bigint, bigint];
  console.log(`Financier ${wallet.address}`);
  line("balance", money(c, balance));
  line("allowance", money(c, allowance));
  line("gas money", `${formatEther(gas)} ETH`);

  // Dry run first: any refusal but the missing allowance stops here, before an approval is spent.
  try {
    await market[fundFunction].staticCall(...fundArgs);
  } catch (error) {
    if (!(revertName(error) === "ERC20InsufficientAllowance" && allowance < terms.price)) throw error;
  }
  if (balance < terms.price)
    throw new CliError(`the balance ${money(c, balance)} is below the price ${money(c, terms.price)}`);

  console.log(`Funding request ${requestId}: paying ${money(c, terms.price)} to ${terms.holder}`);
  let nonce = await c.provider.getTransactionCount(wallet.address, "pending");
  if (allowance < terms.price) {
    reportReceipt("approve tx", await mined(await token.approve(marketAddress, terms.price, { nonce: nonce++ })));
  }
  const receipt = await mined(await market[fundFunction](...fundArgs, { nonce }));
  reportReceipt("fund tx", receipt);

  const after = await readTerms(c, requestId);
  console.log(`Request ${requestId} is now ${REQUEST_STATUS[Number(after.status)]}.`);
  if (terms.kind === DISCOUNT) {
    const owner = (await c.certificates.ownerOf(terms.certificateId)) as string;
    line("certificate", `${terms.certificateId} is now owned by ${owner}${owner === wallet.address ? " (you)" : ""}`);
  } else {
    const [pledgeRequest, pledgee, outstanding] = (await c.market.pledgeOf(terms.certificateId)) as [
      bigint,
      string,
      bigint,
    ];
    line(
      "pledge",
      `recorded on certificate ${terms.certificateId} (request ${pledgeRequest}) for pledgee ${pledgee}${pledgee === wallet.address ? " (you)" : ""}`,
    );
    line("owed to you", money(c, outstanding));
    line("certificate", `stays with ${terms.holder}, locked until the pledge ends`);
  }
  line("balance now", money(c, (await c.token.balanceOf(wallet.address)) as bigint));
}

async function listCommand(c: Connection): Promise<void> {
  const from = Number(await c.market.deploymentBlock());
  const head = await c.provider.getBlockNumber();
  const ids: bigint[] = [];
  for (let start = from; start <= head; start += 10_000) {
    const events = await c.market.queryFilter(
      c.market.filters.FinancingRequested!(),
      start,
      Math.min(head, start + 9_999),
    );
    for (const event of events) if ("args" in event) ids.push(event.args.requestId as bigint);
  }
  const open: RequestTerms[] = [];
  for (const id of ids) {
    const terms = await readTerms(c, id);
    if (terms.status === OPEN) open.push(terms);
  }
  console.log(
    `Open financing requests on chain ${c.chainId} (from FinancingRequested events since block ${from}): ${open.length}`,
  );
  for (const terms of open) {
    const certificate = await c.certificates.certificateOf(terms.certificateId);
    const repay = terms.kind === DISCOUNT ? "" : `, repay ${money(c, terms.repayAmount)}`;
    const paidOut = (certificate.faceValue as bigint) - terms.remainingClaim;
    console.log(
      `  #${terms.requestId} ${KIND[Number(terms.kind)]} certificate ${terms.certificateId}: price ${money(c, terms.price)}${repay}, face ${money(c, certificate.faceValue)}, paid out ${money(c, paidOut)}, remaining ${money(c, terms.remainingClaim)}, ${terms.attested ? "attested" : "UNATTESTED"}, due ${new Date(Number(certificate.dueDate) * 1000).toISOString().slice(0, 10)}, holder ${terms.holder}`,
    );
  }
}

/* ------------------------------------------------------------------ */
/*                                   Main                             */
/* ------------------------------------------------------------------ */

const withConnection = (command: Command): Command =>
  command
    .option(
      "--rpc <url>",
      "the chain's JSON-RPC endpoint (default: TIERLINE_RPC_URL, else the embedded chain on TIERLINE_CHAIN_PORT)",
      DEFAULT_RPC,
    )
    .option("--contracts <file>", "a JSON file with the contract addresses (instead of --api)")
    .option(
      "--api <url>",
      "the Tierline API, whose GET /v1/platform names the contracts (default: HOST and PORT)",
      DEFAULT_API,
    );

let connection: Connection | undefined;
const open = async (options: ConnectionOptions): Promise<Connection> => (connection = await connect(options));

const program = new Command()
  .name("financier")
  .description("Fund Tierline financing requests on-chain with your own key.")
  .showHelpAfterError()
  .exitOverride();

withConnection(
  program
    .command("fund")
    .description(
      "fund a request at its on-chain terms: approve the settlement token if needed, then FinancingMarket.fund",
    )
    .argument("<requestId>", "the financing request id")
    .requiredOption("--key <source>", "your private key: a file holding 0x… hex, or env:VARNAME")
    .option("--attested-only", "refuse a request without a valid risk attestation (FinancingMarket.fundAttested)"),
).action(async (requestId: string, options: ConnectionOptions & { key: string; attestedOnly?: boolean }) => {
  const id = parseRequestId(requestId);
  await fundCommand(await open(options), id, options.key, options.attestedOnly === true);
});

withConnection(
  program.command("show").description("print a request's terms").argument("<requestId>", "the financing request id"),
).action(async (requestId: string, options: ConnectionOptions) => {
  const id = parseRequestId(requestId);
  const c = await open(options);
  await printTerms(c, await readTerms(c, id));
});

withConnection(
  program.command("list").description("list open requests, read from the chain's FinancingRequested events"),
).action(async (options: ConnectionOptions) => {
  await listCommand(await open(options));
});

let exitCode = 0;
try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { code?: string }).code;
  if (typeof code === "string" && code.startsWith("commander.")) {
    // commander printed its own message (or the help/version) already.
    exitCode = (error as { exitCode?: number }).exitCode ?? 1;
  } else {
    console.error(`error: ${oneLine(error)}`);
    exitCode = 1;
  }
} finally {
  connection?.provider.destroy();
}
process.exit(exitCode);
