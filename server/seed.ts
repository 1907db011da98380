// The demo cast created on the first start: a core enterprise, three tiers of
// suppliers, two financiers and an auditor, each with its own key and API key; on the
// local chain also a financier that keeps its own key (a file in the data directory),
// to try funding on the chain with `npm run financier`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Wallet, parseEther } from "ethers";
import type { Config } from "./config.js";
import type { ServiceContext } from "./context.js";
import { createParty, type CreatedParty } from "./domain/create-party.js";
import { replaceApiKey } from "./domain/api-keys.js";
import { normaliseRegistryId, type CreateParty } from "./model/parties-schema.js";
import { hashText } from "./model/receivable-schema.js";
import { publicParty, toParty } from "./store/parties-store.js";

const ONE = 1_000_000n; // tUSD has 6 decimals

export const DEMO_CAST: CreateParty[] = [
  {
    name: "Northwind Mart (core enterprise)",
    registryId: "91310000NWMART001",
    industry: "e-commerce",
    roles: ["debtor"],
    relatedPartyIds: [],
  },
  {
    name: "Acme Components (tier 1)",
    registryId: "91320000ACMECMP01",
    industry: "electronics",
    roles: ["supplier", "debtor"],
    relatedPartyIds: [],
  },
  {
    name: "Bolt Metals (tier 2)",
    registryId: "91330000BOLTMTL02",
    industry: "metals",
    roles: ["supplier", "debtor"],
    relatedPartyIds: [],
  },
  {
    name: "Coil Wire Co (tier 3)",
    registryId: "91340000COILWIR03",
    industry: "metals",
    roles: ["supplier"],
    relatedPartyIds: [],
  },
  {
    name: "Harbor Bank",
    registryId: "LEI5493001HARBOR0001",
    industry: "banking",
    roles: ["financier"],
    relatedPartyIds: [],
  },
  {
    name: "Summit Factoring",
    registryId: "LEI5493002SUMMIT0002",
    industry: "factoring",
    roles: ["financier"],
    relatedPartyIds: [],
  },
  { name: "Ledger Audit", registryId: "91110000LEDGERAUD", industry: "audit", roles: ["auditor"], relatedPartyIds: [] },
];

export interface Credentials {
  operator: { apiKey: string };
  parties: Array<{ id: string; name: string; roles: string[]; address: string; apiKey: string; keyFile?: string }>;
}

/** A non-custodial financier: the service never holds its key. */
export const SELF_CUSTODY_FINANCIER: CreateParty = {
  name: "Delta Capital (own keys)",
  registryId: "LEI5493003DELTA00003",
  industry: "private credit",
  roles: ["financier"],
  relatedPartyIds: [],
};

/** The chain id of the local development chain (anvil, the embedded chain; Hardhat's too). */
export const LOCAL_CHAIN_ID = "31337";

/**
 * What a first start does about parties: the demo cast on the embedded local chain only
 * (started by `npm start`, or the same local anvil started beside it: chain id 31337). On
 * any other network nothing is created, and the operator is told how to create its first
 * parties with the operator API key it was just given.
 */
export function firstStartPlan(
  config: Pick<Config, "embeddedChain" | "rpcUrl" | "HOST" | "PORT">,
  chainId: string,
): { seedDemo: true } | { seedDemo: false; instructions: string[] } {
  if (config.embeddedChain || chainId === LOCAL_CHAIN_ID) return { seedDemo: true };
  const api = `http://${config.HOST}:${config.PORT}`;
  return {
    seedDemo: false,
    instructions: [
      `first start on ${config.rpcUrl}: no demo parties were created (they are for the embedded local chain only).`,
      "Create the operator's first parties with the operator API key (in credentials.json in the data directory), e.g.:",
      `  curl -s ${api}/v1/parties -H "Authorization: Bearer $OPERATOR_KEY" -H 'content-type: application/json' \\`,
      `    -d '{"name":"Acme Components","registryId":"91320000ACMECMP01","industry":"electronics","roles":["supplier"]}'`,
      "Each answer carries the new party's API key once; a party that keeps its own key sends its address too.",
    ],
  };
}

/** Creates the cast (a party left by an interrupted seed gets a fresh API key) and funds it. */
export async function seedDemo(ctx: ServiceContext, operatorApiKey: string): Promise<Credentials> {
  if (!firstStartPlan(ctx.config, ctx.chain.deployment.chainId).seedDemo)
    throw new Error(`the demo parties are for the embedded local chain only, not ${ctx.config.rpcUrl}`);
  const created: CreatedParty[] = [];
  for (const party of DEMO_CAST) {
    const legalIdHash = hashText(normaliseRegistryId(party.registryId));
    const row = await ctx.db
      .selectFrom("parties")
      .selectAll()
      .where("legal_id_hash", "=", legalIdHash)
      .executeTakeFirst();
    if (!row) {
      created.push(await createParty(ctx, party));
      continue;
    }
    const apiKey = await replaceApiKey(ctx.db, row.id);
    const existing = publicParty(toParty(row));
    created.push({ ...existing, apiKey, party: existing, transactions: [] });
  }
  if (ctx.chain.deployment.localToken) {
    // Money on the local chain only: the debtor repays with it, financiers fund with it.
    const token = ctx.chain.contracts.token;
    for (const party of created.filter((p) => p.roles.includes("debtor") || p.roles.includes("financier"))) {
      if ((await token.balanceOf(party.address)) > 0n) continue;
      const request = await token.mint.populateTransaction(party.address, 10_000_000n * ONE);
      await ctx.chain.registrar.send(request, { kind: "mint", ref: party.id });
    }
  }
  const credentials: Credentials = {
    operator: { apiKey: operatorApiKey },
    parties: created.map((p) => ({ id: p.id, name: p.name, roles: p.roles, address: p.address, apiKey: p.apiKey })),
  };
  if (ctx.chain.deployment.localToken) credentials.parties.push(await seedSelfCustodyFinancier(ctx));
  writeCredentials(ctx.config.dataDir, credentials);
  return credentials;
}

/** The key file is written before the party exists, so an interrupted seed reuses it. */
async function seedSelfCustodyFinancier(ctx: ServiceContext): Promise<Credentials["parties"][number]> {
  const keyFile = path.join(ctx.config.dataDir, "keys", "delta-capital.key");
  mkdirSync(path.dirname(keyFile), { recursive: true });
  if (!existsSync(keyFile)) writeFileSync(keyFile, `${Wallet.createRandom().privateKey}\n`, { mode: 0o600 });
  const wallet = new Wallet(readFileSync(keyFile, "utf8").trim());
  const legalIdHash = hashText(normaliseRegistryId(SELF_CUSTODY_FINANCIER.registryId));
  const row = await ctx.db
    .selectFrom("parties")
    .selectAll()
    .where("legal_id_hash", "=", legalIdHash)
    .executeTakeFirst();
  let party: CreatedParty;
  if (row) {
    const apiKey = await replaceApiKey(ctx.db, row.id);
    const existing = publicParty(toParty(row));
    party = { ...existing, apiKey, party: existing, transactions: [] };
  } else {
    party = await createParty(ctx, { ...SELF_CUSTODY_FINANCIER, address: wallet.address });
  }
  const provider = ctx.chain.provider;
  if ((await provider.getBalance(wallet.address)) < parseEther("1")) {
    await ctx.chain.registrar.send({ to: wallet.address, value: parseEther("10") }, { kind: "fundGas", ref: party.id });
  }
  const token = ctx.chain.contracts.token;
  if ((await token.balanceOf(wallet.address)) === 0n) {
    const request = await token.mint.populateTransaction(wallet.address, 10_000_000n * ONE);
    await ctx.chain.registrar.send(request, { kind: "mint", ref: party.id });
  }
  return { id: party.id, name: party.name, roles: party.roles, address: party.address, apiKey: party.apiKey, keyFile };
}

export function writeCredentials(dataDir: string, credentials: Credentials): string {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "credentials.json");
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return file;
}
