// `npm run audit -- <command>`: an auditor's view from the terminal, through the Tierline
// API (read-only; the service must be running).
//
//   trace <receivableId> [--format text|json|dot|mermaid]   the certificate tree
//   verify <receivableId> [--format text|json]              the index against the chain's events
//   exposure <partyId> [--format text|json]                 what a party is owed, owes, has financed
//
// Common options: --api <url> (default: where HOST and PORT put `npm start`),
// --key <apiKey> (default $TIERLINE_API_KEY, else the first auditor's key in
// --credentials, default <TIERLINE_DATA_DIR>/credentials.json as written by `npm start`).
//
// Exit codes: 0 done; 1 refused or bad input; 2 the service is not reachable;
// 3 verify found differences.
import "./lib/node-version.js";
import { existsSync, readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { loadEndpoints } from "../server/config.js";
import { formatAmount } from "../server/domain/audit/render.js";
import { createTierlineClient, type TierlineClient, type paths } from "../client/index.js";

type TraceFormat = NonNullable<paths["/v1/audit/receivables/{id}/trace"]["get"]["parameters"]["query"]>["format"];

const ENDPOINTS = loadEndpoints();
const DEFAULT_API = ENDPOINTS.apiUrl;
const DEFAULT_CREDENTIALS = ENDPOINTS.credentialsFile;

/** A failure the user can act on: one line on stderr and an exit code. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

interface GlobalOptions {
  api: string;
  key?: string;
  credentials: string;
}

function apiKeyFrom(options: GlobalOptions): string {
  if (options.key) return options.key;
  if (process.env.TIERLINE_API_KEY) return process.env.TIERLINE_API_KEY;
  if (!existsSync(options.credentials)) {
    throw new CliError(
      `no API key: pass --key <apiKey>, set TIERLINE_API_KEY, or point --credentials at a credentials file (${options.credentials} does not exist)`,
    );
  }
  let credentials: { parties?: Array<{ roles?: string[]; apiKey?: string; name?: string }> };
  try {
    credentials = JSON.parse(readFileSync(options.credentials, "utf8"));
  } catch (error) {
    throw new CliError(`${options.credentials} is not a readable credentials file: ${(error as Error).message}`);
  }
  const auditor = credentials.parties?.find((p) => p.roles?.includes("auditor") && p.apiKey);
  if (!auditor?.apiKey) throw new CliError(`${options.credentials} lists no auditor: pass --key <apiKey>`);
  return auditor.apiKey;
}

/** One call through the typed client (client/), answered as text; a refusal becomes a CliError. */
async function get(
  options: GlobalOptions,
  call: (client: TierlineClient) => Promise<{ response: Response; data?: unknown; error?: unknown }>,
): Promise<{ contentType: string; text: string }> {
  const base = options.api.replace(/\/+$/, "");
  const client = createTierlineClient({
    baseUrl: base,
    apiKey: apiKeyFrom(options),
    fetch: (request) => fetch(request, { signal: AbortSignal.timeout(60_000) }),
  });
  let response: Response;
  let answer: { data?: unknown; error?: unknown };
  try {
    ({ response, ...answer } = await call(client));
  } catch (error) {
    if (error instanceof CliError) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `cannot reach the Tierline service at ${base} (${cause?.code ?? cause?.message ?? (error as Error).message}): is it running? Start it with \`npm start\` or pass --api <url>`,
      2,
    );
  }
  if (!response.ok) {
    const body = answer.error as
      { error?: { code?: string; message?: string; details?: unknown } } | string | undefined;
    let detail = typeof body === "string" ? body.slice(0, 500) : JSON.stringify(body ?? "").slice(0, 500);
    if (typeof body === "object" && body?.error)
      detail = `${body.error.code}: ${body.error.message}${body.error.details ? ` ${JSON.stringify(body.error.details)}` : ""}`;
    throw new CliError(`the service answered ${response.status}: ${detail}`);
  }
  return { contentType: response.headers.get("content-type") ?? "", text: String(answer.data ?? "") };
}

const print = (text: string): void => {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
};
const pretty = (text: string) => JSON.stringify(JSON.parse(text), null, 2);
const receivableIdArgument = (id: string) => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) throw new CliError(`${id} is not a receivable id (0x and 64 hex digits)`);
  return id.toLowerCase();
};

/* ------------------------------------------------------------------ */
/*                               Commands                             */
/* ------------------------------------------------------------------ */

async function trace(receivableId: string, options: GlobalOptions & { format: string }): Promise<void> {
  const id = receivableIdArgument(receivableId);
  const { text } = await get(options, (client) =>
    client.GET("/v1/audit/receivables/{id}/trace", {
      params: { path: { id }, query: { format: options.format as TraceFormat } },
      parseAs: "text",
    }),
  );
  print(options.format === "json" ? pretty(text) : text);
}

interface VerifyReport {
  receivableId: string;
  matches: boolean;
  differences: Array<Located & { field: string; chain: unknown; index: unknown }>;
  checkedCertificates: number;
  checkedFinancingRequests: number;
  checkedDilutionAndRecourse?: number;
  chainEvents: number;
  fromBlock: number;
  asOfBlock: number;
  contractView: {
    checked: boolean;
    note?: string;
    matches: boolean;
    differences: Array<{
      certificateId?: string;
      requestId?: string;
      field: string;
      events: unknown;
      contract: unknown;
    }>;
  };
}

interface Located {
  certificateId?: string;
  requestId?: string;
  disputeId?: string;
  creditNoteId?: string;
  claimId?: string;
}

const where = (d: Located) =>
  [
    d.certificateId
      ? `certificate #${d.certificateId}`
      : d.disputeId || d.creditNoteId || d.claimId
        ? ""
        : "receivable",
    d.requestId ? `request #${d.requestId}` : "",
    d.disputeId ? `dispute ${d.disputeId}` : "",
    d.creditNoteId ? `credit note #${d.creditNoteId}` : "",
    d.claimId ? `recourse claim #${d.claimId}` : "",
  ]
    .filter(Boolean)
    .join(" ");

async function verify(receivableId: string, options: GlobalOptions & { format: string }): Promise<void> {
  const id = receivableIdArgument(receivableId);
  const { text } = await get(options, (client) =>
    client.GET("/v1/audit/verify/{receivableId}", { params: { path: { receivableId: id } }, parseAs: "text" }),
  );
  const report = JSON.parse(text) as VerifyReport;
  if (options.format === "json") print(pretty(text));
  else {
    const lines = [
      `Receivable ${report.receivableId}: ${report.matches ? "the index matches the chain" : "DIFFERENCES FOUND"}`,
      `  ${report.checkedCertificates} certificates, ${report.checkedFinancingRequests} financing requests, ${report.chainEvents} chain events (blocks ${report.fromBlock}..${report.asOfBlock})`,
      `  ${report.checkedDilutionAndRecourse ?? 0} disputes, credit notes, cuts, endorsements and recourse claims`,
      ...report.differences.map(
        (d) => `  ${where(d)} ${d.field}: chain ${JSON.stringify(d.chain)}, index ${JSON.stringify(d.index)}`,
      ),
      report.contractView.checked
        ? `  contract views: ${report.contractView.matches ? "agree with the events" : "DISAGREE with the events"}`
        : `  contract views: not checked (${report.contractView.note ?? "skipped"})`,
      ...report.contractView.differences.map(
        (d) => `  ${where(d)} ${d.field}: events ${JSON.stringify(d.events)}, contract ${JSON.stringify(d.contract)}`,
      ),
    ];
    print(lines.join("\n"));
  }
  if (!report.matches) process.exitCode = 3;
}

interface PartyRef {
  address: string;
  partyId: string | null;
  name: string | null;
}

interface Exposure {
  party: { id: string; name: string; address: string; roles: string[] };
  asOf: string;
  owed: {
    total: string;
    direct: string;
    throughTiers: string;
    byTier: Array<{ tier: number; amount: string; certificates: number }>;
    byDebtor: Array<{ debtor: PartyRef; amount: string; certificates: number }>;
    byMaturity: Record<string, string>;
  };
  owes: { total: string; byMaturity: Record<string, string>; count: number };
  asFinancier: {
    pledgesOutstanding: string;
    pledgeCount: number;
    certificatesBought: { count: number; pricePaid: string; faceValue: string; stillHeldOwed: string };
  };
}

async function exposure(partyId: string, options: GlobalOptions & { format: string }): Promise<void> {
  const { text } = await get(options, (client) =>
    client.GET("/v1/audit/parties/{id}/exposure", { params: { path: { id: partyId } }, parseAs: "text" }),
  );
  if (options.format === "json") return print(pretty(text));
  const e = JSON.parse(text) as Exposure;
  const amount = (v: string) => formatAmount(v).padStart(24);
  const buckets = (m: Record<string, string>) =>
    Object.entries(m).map(([bucket, v]) => `    ${bucket.padEnd(8)} ${amount(v)}`);
  const lines = [
    `${e.party.name} (${e.party.id}, ${e.party.roles.join(", ")}) ${e.party.address}, as of ${e.asOf}`,
    "",
    `Owed as holder       ${amount(e.owed.total)}`,
    `  direct (tier 1)    ${amount(e.owed.direct)}`,
    `  through tiers 2+   ${amount(e.owed.throughTiers)}`,
    ...e.owed.byTier.map(
      (t) => `  tier ${String(t.tier).padEnd(14)}${amount(t.amount)}  (${t.certificates} certificates)`,
    ),
    "  by debtor:",
    ...e.owed.byDebtor.map(
      (d) =>
        `    ${(d.debtor.name ?? d.debtor.address).padEnd(34)} ${amount(d.amount)}  (${d.certificates} certificates)`,
    ),
    "  by maturity (days):",
    ...buckets(e.owed.byMaturity),
    "",
    `Owes as debtor       ${amount(e.owes.total)}  (${e.owes.count} receivables)`,
    ...buckets(e.owes.byMaturity),
    "",
    `As financier: pledges outstanding ${formatAmount(e.asFinancier.pledgesOutstanding)} (${e.asFinancier.pledgeCount} pledges); ` +
      `bought ${e.asFinancier.certificatesBought.count} certificates of ${formatAmount(e.asFinancier.certificatesBought.faceValue)} for ${formatAmount(e.asFinancier.certificatesBought.pricePaid)}, ` +
      `${formatAmount(e.asFinancier.certificatesBought.stillHeldOwed)} still owed on those it holds`,
  ];
  print(lines.join("\n"));
}

/* ------------------------------------------------------------------ */
/*                                 Wiring                             */
/* ------------------------------------------------------------------ */

const program = new Command()
  .name("audit")
  .description(
    "Audit Tierline receivables through its API: trace certificate trees, verify the index against the chain, read exposures.",
  )
  .option("--api <url>", "the Tierline API", DEFAULT_API)
  .option("--key <apiKey>", "an auditor's (or operator's) API key")
  .option("--credentials <file>", "credentials file to take the first auditor's key from", DEFAULT_CREDENTIALS)
  .showHelpAfterError();

const run =
  <T extends unknown[]>(action: (...args: T) => Promise<void>) =>
  async (...args: T) => {
    try {
      await action(...args);
    } catch (error) {
      if (error instanceof CliError) {
        console.error(`audit: ${error.message}`);
        process.exitCode = error.exitCode;
        return;
      }
      throw error;
    }
  };

program
  .command("trace")
  .description("print a receivable's certificate tree")
  .argument("<receivableId>", "0x and 64 hex digits")
  .addOption(
    new Option("--format <format>", "output format").choices(["text", "json", "dot", "mermaid"]).default("text"),
  )
  .action(
    run(async (receivableId: string, _options: unknown, command: Command) =>
      trace(receivableId, command.optsWithGlobals()),
    ),
  );

program
  .command("verify")
  .description("rebuild a receivable's tree from chain events and compare it with the service's index")
  .argument("<receivableId>", "0x and 64 hex digits")
  .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
  .action(
    run(async (receivableId: string, _options: unknown, command: Command) =>
      verify(receivableId, command.optsWithGlobals()),
    ),
  );

program
  .command("exposure")
  .description("what a party is owed, owes and has financed")
  .argument("<partyId>", "the party's id")
  .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
  .action(
    run(async (partyId: string, _options: unknown, command: Command) => exposure(partyId, command.optsWithGlobals())),
  );

await program.parseAsync(process.argv);
