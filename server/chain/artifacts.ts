// Contract ABIs, read from Hardhat's build output (artifacts/), so the service and the
// contracts can never disagree about an interface.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Interface, keccak256, toUtf8Bytes, type InterfaceAbi } from "ethers";

export const CONTRACT_NAMES = [
  "LocalSettlementToken",
  "PartyRegistry",
  "ReceivableRegistry",
  "CertificateToken",
  "FinancingMarket",
  "SettlementEscrow",
  "DilutionLedger",
  "RecourseLedger",
] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

export interface Artifact {
  abi: InterfaceAbi;
  bytecode: string;
}

const cache = new Map<string, Artifact>();

export function projectRoot(): string {
  return path.resolve(import.meta.dirname, "..", "..");
}

export function readArtifact(name: ContractName, root = projectRoot()): Artifact {
  const file = path.join(root, "artifacts", "contracts", `${name}.sol`, `${name}.json`);
  const cached = cache.get(file);
  if (cached) return cached;
  let json: Artifact;
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as Artifact;
  } catch (error) {
    throw new Error(`contract artifact ${file} is missing: run \`npm run build\` first`, { cause: error });
  }
  const artifact = { abi: json.abi, bytecode: json.bytecode };
  cache.set(file, artifact);
  return artifact;
}

/** One interface holding every Tierline custom error, to decode any revert. */
export function allErrorsInterface(root = projectRoot()): Interface {
  const seen = new Set<string>();
  const fragments: unknown[] = [];
  for (const name of CONTRACT_NAMES) {
    for (const fragment of readArtifact(name, root).abi as Array<{ type: string; name: string; inputs: unknown[] }>) {
      if (fragment.type !== "error") continue;
      const key = `${fragment.name}(${JSON.stringify(fragment.inputs)})`;
      if (seen.has(key)) continue;
      seen.add(key);
      fragments.push(fragment);
    }
  }
  return new Interface(fragments as InterfaceAbi);
}

/**
 * One hash of every contract's compiled bytecode: what a deployment records, so a data
 * directory whose chain holds contracts of another build (another storage layout, other
 * functions) is refused at start instead of half working.
 */
export function contractsBuildId(root = projectRoot()): string {
  return keccak256(toUtf8Bytes(CONTRACT_NAMES.map((name) => readArtifact(name, root).bytecode).join(":")));
}
