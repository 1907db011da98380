// scripts/financier.ts as a child process: a NON-custodial financier funds requests on
// the chain with its own key (the service never sees it), shows terms, lists the market,
// and fails with the contract's decoded reason and a non-zero exit code.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet, parseEther, type HDNodeWallet } from "ethers";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { RequestStatus } from "../../../server/model/contract-enums.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..", "..");
const SOLD = RequestStatus.sold;
const PLEDGED = RequestStatus.pledged;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), ["scripts/financier.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("CLI: npm run financier", function () {
  this.timeout(180_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let supplier: TestParty;
  let debtor: TestParty;
  let financier: TestParty;
  let wallet: HDNodeWallet;
  let workDir: string;
  let keyFile: string;
  let contractsFile: string;
  let firstFundedRequestId: string;

  const ctx = () => t.service.ctx;
  const chain = () => ctx().chain.contracts;
  const balanceOf = async (address: string): Promise<bigint> => chain().token.getFunction("balanceOf")(address);
  const connection = () => ["--rpc", t.chain.url, "--api", t.baseUrl];

  async function openRequest(body: Record<string, unknown>): Promise<{ requestId: string; certificateId: string }> {
    const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const certificateId: string = confirmed.body.certificateId;
    const opened = await api.as(supplier.apiKey).post("/v1/financing-requests", { certificateId, ...body });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    return { requestId: opened.body.id, certificateId };
  }

  async function fundedTxHash(requestId: string): Promise<string> {
    const financing = chain().financing;
    const events = await financing.queryFilter(financing.filters.FinancingFunded!(requestId));
    expect(events).to.have.length(1);
    return events[0]!.transactionHash;
  }

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    wallet = Wallet.createRandom();
    financier = await createTestParty(operator, ["financier"], { address: wallet.address });
    expect(financier.address).to.equal(wallet.address);
    await ctx().chain.registrar.send({ to: wallet.address, value: parseEther("1") }, { kind: "fundGas", ref: "test" });
    const mint = await chain().token.getFunction("mint").populateTransaction(wallet.address, 1_000_000_000n);
    await ctx().chain.registrar.send(mint, { kind: "mint", ref: "test" });

    workDir = mkdtempSync(path.join(tmpdir(), "tierline-financier-"));
    keyFile = path.join(workDir, "financier.key");
    writeFileSync(keyFile, `${wallet.privateKey}\n`, { mode: 0o600 });
    contractsFile = path.join(workDir, "contracts.json");
    writeFileSync(contractsFile, JSON.stringify((await api.get("/health")).body));
  });
  after(async function () {
    await t?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  describe("when the financier funds an open discount request with its key file", function () {
    it("approves, funds, prints the terms and the tx hash, and the certificate is the financier's", async function () {
      const { requestId, certificateId } = await openRequest({ kind: "discount", price: "95000000" });
      firstFundedRequestId = requestId;
      const holderBefore = await balanceOf(supplier.address);

      const run = await runCli(["fund", requestId, "--key", keyFile, ...connection()]);
      expect(run.code, run.stderr).to.equal(0);
      const hash = await fundedTxHash(requestId);
      expect(run.stdout).to.include(`fund tx       ${hash}`);
      expect(run.stdout).to.match(/approve tx {4}0x[0-9a-f]{64} \(block \d+, gas used \d+\)/);
      expect(run.stdout).to.include("price         95.000000 tUSD (95000000 units)");
      expect(run.stdout).to.include("face value    100.000000 tUSD (100000000 units)");
      expect(run.stdout).to.include(`certificate   ${certificateId} (tier 1, Locked)`);
      expect(run.stdout).to.include(`holder        ${supplier.address}`);
      expect(run.stdout).to.include(`${certificateId} is now owned by ${wallet.address} (you)`);
      expect(run.stdout + run.stderr).not.to.include(wallet.privateKey.slice(2));

      const request = await chain().financing.getFunction("requestOf")(requestId);
      expect(request.status).to.equal(SOLD);
      expect(request.financier).to.equal(wallet.address);
      expect(await chain().certificates.getFunction("ownerOf")(certificateId)).to.equal(wallet.address);
      expect(await balanceOf(supplier.address)).to.equal(holderBefore + 95_000_000n);

      await ctx().indexer.sync();
      const view = await api.as(financier.apiKey).get(`/v1/financing-requests/${requestId}`);
      expect(view.body).to.include({
        status: "sold",
        financierPartyId: financier.id,
        financierAddress: wallet.address,
      });
      expect(view.body.txHashes.fund).to.equal(hash);
    });
  });

  describe("when the financier funds a pledge with its key in an environment variable and a contracts file", function () {
    it("records the pledge for the financier and leaves the certificate with the holder", async function () {
      const { requestId, certificateId } = await openRequest({
        kind: "pledge",
        price: "70000000",
        repayAmount: "77000000",
      });
      const run = await runCli(
        [
          "fund",
          requestId,
          "--key",
          "env:TIERLINE_TEST_FINANCIER_KEY",
          "--rpc",
          t.chain.url,
          "--contracts",
          contractsFile,
        ],
        {
          TIERLINE_TEST_FINANCIER_KEY: wallet.privateKey,
        },
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.include(`fund tx       ${await fundedTxHash(requestId)}`);
      expect(run.stdout).to.include("repay amount  77.000000 tUSD (77000000 units), owed to the pledgee");
      expect(run.stdout).to.include(`for pledgee ${wallet.address} (you)`);
      expect(run.stdout).to.include("owed to you   77.000000 tUSD (77000000 units)");

      expect((await chain().financing.getFunction("requestOf")(requestId)).status).to.equal(PLEDGED);
      const [, pledgee, outstanding] = await chain().financing.getFunction("pledgeOf")(certificateId);
      expect([pledgee, outstanding]).to.deep.equal([wallet.address, 77_000_000n]);
      expect(await chain().certificates.getFunction("ownerOf")(certificateId)).to.equal(supplier.address);
    });
  });

  describe("when the financier only looks", function () {
    it("shows a request's terms without a key", async function () {
      const { requestId, certificateId } = await openRequest({ kind: "discount", price: "90000000" });
      const run = await runCli(["show", requestId, ...connection()]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.include(`Financing request ${requestId} on chain 31337`);
      expect(run.stdout).to.include("status        Open");
      expect(run.stdout).to.include(`certificate   ${certificateId} (tier 1, Locked)`);
      expect(run.stdout).to.include(
        "at maturity   100.000000 tUSD (100000000 units) to the owner, 10.000000 tUSD (10000000 units) above the price",
      );
      expect(run.stdout).to.match(/due date {6}\d{4}-\d\d-\d\dT[\d:.]+Z \(in (59|60) days\)/);
      // What the financier would buy: face, paid out so far, remaining claim, and the service's attestation.
      expect(run.stdout).to.include("paid out      0.000000 tUSD (0 units)");
      expect(run.stdout).to.include(
        "remaining     100.000000 tUSD (100000000 units) (what the certificate can still pay",
      );
      expect(run.stdout).to.match(
        /attestation {3}attested by the service until \d{4}-\d\d-\d\dT[\d:.]+Z \(advance rate 90.00%\)/,
      );
    });

    it("lists the open requests from chain events, leaving out cancelled and funded ones", async function () {
      const open = await openRequest({ kind: "discount", price: "88000000" });
      const cancelled = await openRequest({ kind: "discount", price: "87000000" });
      expect(
        (await api.as(supplier.apiKey).post(`/v1/financing-requests/${cancelled.requestId}/cancel`)).status,
      ).to.equal(200);
      const run = await runCli(["list", ...connection()]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.include(
        `#${open.requestId} discount certificate ${open.certificateId}: price 88.000000 tUSD (88000000 units)`,
      );
      expect(run.stdout).not.to.include(`#${cancelled.requestId} `);
      expect(run.stdout).not.to.include(`#${firstFundedRequestId} `);
      const openInIndex = (
        await ctx().db.selectFrom("onchain_financing_requests").select("id").where("status", "=", "open").execute()
      ).length;
      expect(openInIndex).to.be.greaterThan(0);
      const marketBlock: bigint = await chain().financing.getFunction("deploymentBlock")();
      expect(run.stdout).to.include(`since block ${marketBlock}): ${openInIndex}`);
    });
  });

  describe("when the chain refuses", function () {
    it("exits non-zero naming the decoded contract error for a cancelled request, approving nothing", async function () {
      const { requestId } = await openRequest({ kind: "discount", price: "85000000" });
      expect((await api.as(supplier.apiKey).post(`/v1/financing-requests/${requestId}/cancel`)).status).to.equal(200);
      const balance = await balanceOf(wallet.address);
      const nonce = await ctx().chain.provider.getTransactionCount(wallet.address);

      const run = await runCli(["fund", requestId, "--key", keyFile, ...connection()]);
      expect(run.code).to.equal(1);
      expect(run.stderr.trim()).to.equal(
        `error: the contract refused: FinancingWrongStatus(requestId=${requestId}, status=Cancelled)`,
      );
      expect(run.stdout).not.to.include("approve tx");
      expect(await balanceOf(wallet.address)).to.equal(balance);
      expect(await ctx().chain.provider.getTransactionCount(wallet.address)).to.equal(nonce);
    });

    it("exits non-zero with one line for a request that does not exist or a missing key", async function () {
      const missing = await runCli(["fund", "999999", "--key", keyFile, ...connection()]);
      expect(missing.code).to.equal(1);
      expect(missing.stderr.trim()).to.match(/^error: financing request 999999 does not exist on chain 31337/);

      const noKey = await runCli(["fund", "1", "--key", "env:TIERLINE_TEST_UNSET_KEY", ...connection()], {
        TIERLINE_TEST_UNSET_KEY: "",
      });
      expect(noKey.code).to.equal(1);
      expect(noKey.stderr.trim()).to.equal("error: environment variable TIERLINE_TEST_UNSET_KEY is not set");
    });
  });
});
