// The committed gas snapshot (gas-snapshot.json at the repo root, one figure per row of
// `npm run bench:gas`) and the rule CI applies to it: a row more than 2% above its snapshot
// fails, a row more than 2% below only warns (the snapshot is stale: update it in the same
// commit), and a row missing on either side fails (a renamed or new row needs a new snapshot).
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Row key -> gas. */
export type GasSnapshot = Record<string, number>;

export const SNAPSHOT_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../gas-snapshot.json");

/** Beyond this ratio either way a row is a regression (above) or a stale snapshot (below). */
export const SNAPSHOT_TOLERANCE = 0.02;

export interface SnapshotComparison {
  ok: boolean;
  regressions: string[];
  improvements: string[];
  missing: string[];
  lines: string[];
}

const fmt = (x: number) => x.toLocaleString("en-US");

/** Compares this run's figures with the snapshot; `lines` say what changed and what to do. */
export function compareToSnapshot(
  snapshot: GasSnapshot,
  measured: GasSnapshot,
  tolerance = SNAPSHOT_TOLERANCE,
): SnapshotComparison {
  const regressions: string[] = [];
  const improvements: string[] = [];
  const missing: string[] = [];
  const lines: string[] = [];
  for (const [key, old] of Object.entries(snapshot)) {
    const now = measured[key];
    if (now === undefined) {
      missing.push(key);
      lines.push(`gas: FAIL ${key}: in the snapshot, not measured any more`);
      continue;
    }
    const ratio = now / old;
    const detail = `${key}: snapshot ${fmt(old)}, now ${fmt(now)}, ratio ${ratio.toFixed(4)}`;
    if (ratio > 1 + tolerance) {
      regressions.push(key);
      lines.push(`gas: FAIL ${detail} (more than ${tolerance * 100}% above the snapshot)`);
    } else if (ratio < 1 - tolerance) {
      improvements.push(key);
      lines.push(`gas: warning ${detail} (more than ${tolerance * 100}% below: update the snapshot)`);
    }
  }
  for (const key of Object.keys(measured)) {
    if (!(key in snapshot)) {
      missing.push(key);
      lines.push(`gas: FAIL ${key}: measured ${fmt(measured[key]!)}, not in the snapshot`);
    }
  }
  const ok = regressions.length === 0 && missing.length === 0;
  lines.push(
    ok
      ? `gas: ${Object.keys(snapshot).length} rows within ${tolerance * 100}% of the snapshot or below it` +
          (improvements.length > 0 ? ` (${improvements.length} improved: npm run bench:gas -- --update-snapshot)` : "")
      : `gas: ${regressions.length} regression(s), ${missing.length} row(s) missing: fix them, or if intended, ` +
          "npm run bench:gas -- --update-snapshot and commit gas-snapshot.json",
  );
  return { ok, regressions, improvements, missing, lines };
}
