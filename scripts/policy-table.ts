// Prints the access policy's table as Markdown, or with --write puts it into README.md
// between the access-policy markers: the README's table is generated from the module.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { policyTableMarkdown, withPolicyTable } from "../server/model/access-policy.js";

const readme = path.resolve(import.meta.dirname, "..", "README.md");
if (process.argv.includes("--write")) {
  writeFileSync(readme, withPolicyTable(readFileSync(readme, "utf8")));
  console.log(`wrote the access policy table into ${readme}`);
} else {
  console.log(policyTableMarkdown());
}
