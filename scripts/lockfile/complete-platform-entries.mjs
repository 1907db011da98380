// Completes package-lock.json with the optional per-platform packages (darwin, win32,
// linux-arm64 builds of Hardhat's EDR and anvil) that this machine's npm registry does
// not serve, so `npm ci` on a fresh clone finds the lock in sync with package.json.
// Each added entry carries os/cpu/libc, so npm skips it on other platforms and fetches
// it (by name and version) only where it belongs. Run after any `npm install`:
//   node scripts/lockfile/complete-platform-entries.mjs
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const packages = lock.packages;

function platformOf(name) {
  const os = ["darwin", "linux", "win32"].find((o) => name.includes(`-${o}-`));
  const cpu = /arm64/.test(name) ? "arm64" : /(x64|amd64)/.test(name) ? "x64" : undefined;
  const libc = /-musl$/.test(name) ? "musl" : /-gnu$/.test(name) ? "glibc" : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] || packages[`${path}/node_modules/${name}`]) continue;
    const { os, cpu, libc } = platformOf(name);
    if (!os || !cpu) continue; // only per-platform binaries are completed
    packages[key] = {
      version,
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(entry.dev ? { dev: true } : {}),
      ...(libc ? { libc: [libc] } : {}),
      optional: true,
      os: [os],
    };
    added += 1;
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} per-platform optional entries`);
