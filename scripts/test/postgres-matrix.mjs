// `npm run test:postgres` (the second half of `npm test`): the integration test files — every
// one that starts the service through test/server/harness.ts — again, on PostgreSQL
// (TIERLINE_TEST_DATABASE=postgres: one test server, a fresh database per service). Ends with
// an unindented "N passing (postgres)" line, like `hardhat test`'s own totals, for CI's count.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const files = readdirSync(path.join(root, "test"), { recursive: true })
  .map((file) => path.join("test", String(file)))
  .filter(
    (file) => file.endsWith(".test.ts") && readFileSync(path.join(root, file), "utf8").includes("startTestService"),
  )
  .sort();

const child = spawn("npx", ["hardhat", "test", "mocha", ...files], {
  cwd: root,
  env: { ...process.env, TIERLINE_TEST_DATABASE: "postgres" },
  stdio: ["ignore", "pipe", "inherit"],
});
let output = "";
child.stdout.setEncoding("utf8").on("data", (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
child.on("exit", (code, signal) => {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const count = (word) => Number(plain.match(new RegExp(`^\\s+(\\d+) ${word}`, "m"))?.[1] ?? 0);
  console.log(`\n${count("passing")} passing (postgres, ${files.length} integration files)`);
  const failing = count("failing");
  if (failing > 0) console.log(`${failing} failing (postgres)`);
  // hardhat test was seen to exit 0 after a failing test: a counted failure fails the run.
  process.exit(failing > 0 ? 1 : (code ?? (signal ? 1 : 0)));
});
