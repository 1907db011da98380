// The README's demo must keep working: run it as a user would, on a Tierline of its own,
// and against a running one (`npm start`), again and again.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { freePort, startLocalService } from "../../scripts/chain/local-service.js";

const run = promisify(execFile);

describe("npm run demo", function () {
  this.timeout(300_000);

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
    // The default (issue 16): Acme does not pay Bolt's 250 tUSD receivable; Harbor Bank, the last
    // holder of Coil's endorsed 200 tUSD piece, claims on the nearest endorser, Coil, not the
    // seller; Coil pays and passes it up to Bolt, which pays too.
    expect(stdout).to.match(/receivable 0x[0-9a-f]+…: status defaulted; 250\.00 tUSD unpaid/);
    expect(stdout).to.match(
      /recourse claim #\d+ \(default\) lands on Coil Wire Co \(tier 3\), the nearest endorser, for 200\.00 tUSD; status open/,
    );
    expect(stdout).to.match(/Coil Wire Co \(tier 3\) pays 200\.00 tUSD to Harbor Bank[^\n]*; claim #\d+ paid\n/);
    expect(stdout).to.match(/recourse claim #\d+ lands on Bolt Metals \(tier 2\) for 200\.00 tUSD/);
    expect(stdout).to.match(/Bolt Metals \(tier 2\) pays 200\.00 tUSD to Coil Wire Co \(tier 3\); claim #\d+ paid;/);
    // What the auditor reads: the tree names both claims, paid, on the piece they were opened on.
    expect(stdout).to.match(
      /↳ recourse claim #\d+ \(default\) paid: Harbor Bank on Coil Wire Co \(tier 3\), 200\.000000 tUSD/,
    );
    expect(stdout).to.match(
      /↳ recourse claim #\d+ \(default\) paid: Coil Wire Co \(tier 3\) on Bolt Metals \(tier 2\), 200\.000000 tUSD/,
    );
    expect(stdout).to.include("✔ the second receivable defaulted (defaulted)");
    expect(stdout).to.match(
      /✔ Harbor Bank's claim #\d+ landed on the nearest endorser, Coil Wire Co \(tier 3\), for 200\.00 tUSD, and was paid/,
    );
    expect(stdout).to.include("0.00 tUSD, Bolt Metals (tier 2) 0.00 tUSD");
    expect(stdout).to.not.include("✘");
    expect(stdout).to.include("The sums add up.");
  });

  it("runs twice against a running Tierline, adding up both times, and ends when it is done", async function () {
    // A default lowers the defaulting debtor's score: the second run's financing must still
    // pass. And the demo must exit: its clock moves keep a socket open to the running chain.
    const dataDir = mkdtempSync(path.join(tmpdir(), "tierline-demo-running-"));
    const running = await startLocalService({
      dataDir,
      chainPort: await freePort(),
      apiPort: 0,
      seed: true,
      env: { TIERLINE_KEEPER_INTERVAL_MS: "500" },
    });
    try {
      for (const round of [1, 2]) {
        // execFile's timeout only guards against a demo that never exits (it is killed, and the test fails).
        const { stdout } = await run(
          "node_modules/.bin/tsx",
          ["scripts/demo.ts", "--api", running.baseUrl, "--credentials", path.join(dataDir, "credentials.json")],
          { env: { ...process.env, FORCE_COLOR: "0", TIERLINE_DATA_DIR: dataDir }, timeout: 120_000 },
        );
        expect(stdout, `round ${round}`).to.include(`Using the Tierline running at ${running.baseUrl}`);
        expect(stdout, `round ${round}`).to.match(/Harbor Bank's claim #\d+ landed on the nearest endorser, Coil/);
        expect(stdout, `round ${round}`).to.not.include("✘");
        expect(stdout, `round ${round}`).to.include("The sums add up.");
      }
    } finally {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
