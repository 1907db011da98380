// Imported first by every entry point (start, demo, financier, audit, reset, reindex, the
// benchmarks): on an older Node, better-sqlite3 dies with a segmentation fault and no
// message, and Hardhat refuses to run. Better one line that says what to do.
// ES modules are evaluated in import order, so this runs before any native module loads.
export const MINIMUM_NODE = { major: 22, minor: 13 } as const;

/** The message for a Node that is too old, or undefined when `version` (e.g. "20.19.1") will do. */
export function nodeVersionProblem(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  if (major > MINIMUM_NODE.major || (major === MINIMUM_NODE.major && minor >= MINIMUM_NODE.minor)) return undefined;
  return (
    `Tierline needs Node.js ${MINIMUM_NODE.major}.${MINIMUM_NODE.minor} or later; this is Node.js ${version} ` +
    `(better-sqlite3 crashes on it without a message). Fix: \`nvm install && nvm use\` (the repository's .nvmrc says 24), ` +
    `or put a Node 24 first on PATH, then run \`npm ci\` again so the native modules match.`
  );
}

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}
