// The README's demo must keep working: run it as a user would, on a Tierline of its own.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";

const run = promisify(execFile);

describe("npm run demo", function () {
  this.timeout(180_000);

  it("tells the whole story and finds that the sums add up", async function () {
    const { stdout } = await run("node_modules/.bin/tsx", ["scripts/demo.ts", "--own"], {
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    expect(stdout).to.include("HTTP 409 DUPLICATE_RECEIVABLE");
    expect(stdout).to.include("HTTP 409 CERTIFICATE_LOCKED");
    expect(stdout).to.match(/Summit Factoring\s+received\s+345\.00 tUSD/);
    // The return (issue 16): the 100 tUSD credit note lands on the seller's retained piece.
    expect(stdout).to.match(/cut 100\.00 tUSD \(the seller's retained piece\), now a claim of 300\.00 tUSD/);
    expect(stdout).to.match(/Acme[^\n]*received\s+300\.00 tUSD/);
    expect(stdout).to.include("✔ every unit the debtor paid reached someone: 900.00 tUSD");
    expect(stdout).to.not.include("✘");
    expect(stdout).to.include("The sums add up.");
  });
});
