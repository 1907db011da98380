// The operator's keys, one per duty (see README, "Trust model"). On a local chain (id 31337)
// any key not configured is generated for this data directory and kept encrypted at rest by
// the KeyVault, exactly like custodial parties' keys, in <dataDir>/keys/operator-keys.json;
// never a published dev key. Elsewhere every hot key must be configured, and the cold powers
// (governor, pauser) are addresses the service never holds keys for.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseEther, Wallet, type JsonRpcProvider } from "ethers";
import type { KeyVault } from "./keys.js";

/** Every duty that has a key of its own. */
export const OPERATOR_ROLES = [
  "deployer",
  "governor",
  "registrar",
  "keeper",
  "pauser",
  "partyManager",
  "attester",
] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** The keys the running service holds and uses: each one can only do its own narrow job. */
export const HOT_ROLES = ["registrar", "keeper", "partyManager", "attester"] as const satisfies readonly OperatorRole[];

export const LOCAL_CHAIN_ID = 31337n;

/**
 * Anvil's dev account #0: on the local chain only, and only to pay the generated keys their
 * gas at first start. It holds no role on any Tierline contract.
 */
export const LOCAL_DEV_FUNDER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export type OperatorKeys = Record<OperatorRole, string>;

interface KeyFile {
  version: 1;
  keys: Partial<Record<OperatorRole, { address: string; sealed: string }>>;
}

export function operatorKeysFile(dataDir: string): string {
  return path.join(dataDir, "keys", "operator-keys.json");
}

/** The keys the service process decrypts: its hot keys, and the deployer's for a first deploy. */
export const SERVICE_HELD_ROLES = [...HOT_ROLES, "deployer"] as const satisfies readonly OperatorRole[];
export type ServiceHeldRole = (typeof SERVICE_HELD_ROLES)[number];

/** What the service boots with: the keys it holds, and only the address of every other duty. */
export interface ServiceOperatorKeys {
  held: Record<ServiceHeldRole, string>;
  addresses: Record<OperatorRole, string>;
}

/**
 * The operator's keys for this data directory, all of them decrypted: for the governor's own
 * tools and the tests. The service boots with loadServiceKeys instead, which never decrypts
 * the governor's or the pauser's key.
 */
export function loadOperatorKeys(
  dataDir: string,
  vault: KeyVault,
  configured: Partial<Record<OperatorRole, string>>,
  options: { generateHot: boolean },
): OperatorKeys {
  const file = ensureKeyFile(dataDir, vault, configured, options);
  const keys = Object.fromEntries(
    OPERATOR_ROLES.map((role) => [role, configured[role] ?? unseal(vault, role, file.keys[role]!)]),
  ) as OperatorKeys;
  return keys;
}

/**
 * The service's keys for this data directory: the hot ones and the deployer's decrypted, the
 * governor's and the pauser's known by address only (README, "Trust model": the service holds
 * no key that can act as the admin or pause).
 */
export function loadServiceKeys(
  dataDir: string,
  vault: KeyVault,
  configured: Partial<Record<ServiceHeldRole, string>>,
  options: { generateHot: boolean },
): ServiceOperatorKeys {
  const file = ensureKeyFile(dataDir, vault, configured, options);
  const held = Object.fromEntries(
    SERVICE_HELD_ROLES.map((role) => [role, configured[role] ?? unseal(vault, role, file.keys[role]!)]),
  ) as Record<ServiceHeldRole, string>;
  const addresses = Object.fromEntries(
    OPERATOR_ROLES.map((role) => {
      const key = (held as Partial<Record<OperatorRole, string>>)[role];
      return [role, key === undefined ? file.keys[role]!.address : new Wallet(key).address];
    }),
  ) as Record<OperatorRole, string>;
  return { held, addresses };
}

/**
 * The key file, with a key generated into it for every role neither configured nor stored yet.
 * Hot keys are generated only on the local chain (`generateHot`); elsewhere they must be
 * configured. The others (deployer, governor, pauser) are always generated: off the local
 * chain they hold nothing unless you deploy with them. Refuses two duties sharing one key.
 */
function ensureKeyFile(
  dataDir: string,
  vault: KeyVault,
  configured: Partial<Record<OperatorRole, string>>,
  options: { generateHot: boolean },
): KeyFile {
  const file = operatorKeysFile(dataDir);
  const stored: KeyFile = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as KeyFile)
    : { version: 1, keys: {} };
  let changed = false;
  for (const role of OPERATOR_ROLES) {
    if (configured[role] !== undefined || stored.keys[role]) continue;
    if (!options.generateHot && (HOT_ROLES as readonly OperatorRole[]).includes(role)) {
      throw new Error(`no ${role} key: configure it (see README, "Trust model") or use the local chain`);
    }
    const wallet = Wallet.createRandom();
    stored.keys[role] = { address: wallet.address, sealed: vault.encrypt(wallet.privateKey) };
    changed = true;
  }
  if (changed) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  const seen = new Map<string, OperatorRole>();
  for (const role of OPERATOR_ROLES) {
    const given = configured[role];
    const address = (given === undefined ? stored.keys[role]!.address : new Wallet(given).address).toLowerCase();
    const other = seen.get(address);
    if (other) throw new Error(`the ${role} and ${other} keys must be different keys`);
    seen.set(address, role);
  }
  return stored;
}

function unseal(vault: KeyVault, role: OperatorRole, sealed: { address: string; sealed: string }): string {
  const key = vault.decrypt(sealed.sealed);
  if (new Wallet(key).address !== sealed.address) throw new Error(`the stored ${role} key does not match its address`);
  return key;
}

/** Gas each key gets on the local chain. The registrar also gives custodial parties their gas there. */
const LOCAL_GAS: Record<OperatorRole, bigint> = {
  deployer: parseEther("100"),
  governor: parseEther("100"),
  registrar: parseEther("100000"),
  keeper: parseEther("1000"),
  pauser: parseEther("100"),
  partyManager: parseEther("1000"),
  attester: 0n, // signs, never sends
};

/**
 * Local chain only: tops up each operator key that runs below half its allowance of gas from the
 * dev account. Idempotent (balances are checked), so it runs at every start.
 */
export async function fundOperatorKeysLocally(
  provider: JsonRpcProvider,
  addresses: Record<OperatorRole, string>,
): Promise<number> {
  const funder = new Wallet(LOCAL_DEV_FUNDER_KEY, provider);
  let funded = 0;
  let nonce = await provider.getTransactionCount(funder.address, "pending");
  const receipts = [];
  for (const role of OPERATOR_ROLES) {
    const address = addresses[role];
    const allowance = LOCAL_GAS[role];
    if (allowance === 0n || (await provider.getBalance(address)) >= allowance / 2n) continue;
    receipts.push(await funder.sendTransaction({ to: address, value: allowance, nonce: nonce++ }));
    funded++;
  }
  for (const tx of receipts) await tx.wait();
  return funded;
}

/**
 * The governor's key as stored for this data directory (local chain only), for the governor's
 * own CLI: nothing is generated, and the service never calls this.
 */
export function readStoredGovernorKey(dataDir: string, vault: KeyVault): string {
  const file = operatorKeysFile(dataDir);
  if (!existsSync(file))
    throw new Error(`no operator key file at ${file}: start the service on this data directory first`);
  const sealed = (JSON.parse(readFileSync(file, "utf8")) as KeyFile).keys.governor;
  if (!sealed) throw new Error(`no governor key in ${file}: the governor is configured elsewhere (TIERLINE_GOVERNOR)`);
  return unseal(vault, "governor", sealed);
}
