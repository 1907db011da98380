// The embedded chain's public endpoint is no back door: every control method (anvil_*,
// evm_*, hardhat_*, debug_*, trace_*, ots_*, txpool_*, personal_*, signing with the node's
// accounts) is refused, alone and inside batches; a browser origin is refused; standard
// methods — reads and eth_sendRawTransaction — keep working. The control methods stay
// reachable over the private channel (the IPC socket in the data directory).
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, Wallet, parseEther } from "ethers";
import {
  EMBEDDED_REGISTRAR_KEY,
  networkIsolation,
  startEmbeddedChain,
  type EmbeddedChain,
} from "../../../scripts/chain/embedded-chain.js";
import { freePort } from "../../../scripts/chain/local-service.js";
import { PROXY_ERRORS } from "../../../scripts/chain/rpc-proxy.js";

const DEV_ACCOUNT = new Wallet(EMBEDDED_REGISTRAR_KEY).address;
const VICTIM = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/** Every control method anvil answers (and the families a Hardhat node or geth would add). */
const CONTROL_CALLS: [string, unknown[]][] = [
  ["anvil_setBalance", [DEV_ACCOUNT, "0xffffffffffffffffffff"]],
  ["anvil_impersonateAccount", [VICTIM]],
  ["anvil_stopImpersonatingAccount", [VICTIM]],
  ["anvil_autoImpersonateAccount", [true]],
  ["anvil_setCode", [VICTIM, "0x00"]],
  ["anvil_setStorageAt", [VICTIM, "0x0", `0x${"00".repeat(32)}`]],
  ["anvil_setNonce", [VICTIM, "0x1"]],
  ["anvil_mine", ["0x1"]],
  ["anvil_setAutomine", [true]],
  ["anvil_setIntervalMining", [1]],
  ["anvil_dumpState", []],
  ["anvil_loadState", ["0x00"]],
  ["anvil_reset", []],
  ["anvil_setChainId", [1]],
  ["anvil_setCoinbase", [VICTIM]],
  ["anvil_nodeInfo", []],
  ["anvil_metadata", []],
  ["anvil_dropTransaction", [`0x${"00".repeat(32)}`]],
  ["anvil_dropAllTransactions", []],
  ["anvil_setRpcUrl", ["http://example.invalid"]],
  ["anvil_setLoggingEnabled", [true]],
  ["anvil_setMinGasPrice", ["0x0"]],
  ["anvil_setNextBlockBaseFeePerGas", ["0x0"]],
  ["anvil_addBalance", [DEV_ACCOUNT, "0x1"]],
  ["anvil_dealERC20", [DEV_ACCOUNT, VICTIM, "0x1"]],
  ["anvil_setBlockTimestampInterval", [1]],
  ["anvil_removeBlockTimestampInterval", []],
  ["anvil_snapshot", []],
  ["anvil_revert", ["0x1"]],
  ["anvil_increaseTime", [60]],
  ["anvil_setTime", [0]],
  ["anvil_enableTraces", []],
  ["evm_mine", []],
  ["evm_mine_detailed", []],
  ["evm_increaseTime", [86_400]],
  ["evm_setNextBlockTimestamp", [4_000_000_000]],
  ["evm_setTime", [4_000_000_000]],
  ["evm_snapshot", []],
  ["evm_revert", ["0x1"]],
  ["evm_setAutomine", [false]],
  ["evm_setIntervalMining", [1]],
  ["evm_setBlockGasLimit", ["0x1"]],
  ["evm_setAccountNonce", [VICTIM, "0x1"]],
  ["hardhat_impersonateAccount", [VICTIM]],
  ["hardhat_setBalance", [DEV_ACCOUNT, "0x1"]],
  ["hardhat_setCode", [VICTIM, "0x00"]],
  ["hardhat_setStorageAt", [VICTIM, "0x0", `0x${"00".repeat(32)}`]],
  ["hardhat_mine", ["0x1"]],
  ["hardhat_reset", []],
  ["debug_traceTransaction", [`0x${"00".repeat(32)}`]],
  ["debug_traceCall", [{ to: VICTIM }, "latest"]],
  ["debug_getRawTransaction", [`0x${"00".repeat(32)}`]],
  ["trace_transaction", [`0x${"00".repeat(32)}`]],
  ["trace_block", ["latest"]],
  ["trace_filter", [{}]],
  ["ots_getApiLevel", []],
  ["ots_getTransactionError", [`0x${"00".repeat(32)}`]],
  ["txpool_status", []],
  ["txpool_content", []],
  ["txpool_inspect", []],
  ["personal_sign", ["0x00", DEV_ACCOUNT]],
  ["personal_unlockAccount", [DEV_ACCOUNT, "", 0]],
  ["personal_listAccounts", []],
  ["personal_sendTransaction", [{ from: DEV_ACCOUNT, to: VICTIM, value: "0x1" }, ""]],
  ["eth_sendTransaction", [{ from: DEV_ACCOUNT, to: VICTIM, value: "0x1" }]],
  ["eth_sign", [DEV_ACCOUNT, "0x00"]],
  ["eth_signTransaction", [{ from: DEV_ACCOUNT, to: VICTIM, value: "0x1" }]],
  ["eth_signTypedData", [DEV_ACCOUNT, {}]],
  ["eth_signTypedData_v4", [DEV_ACCOUNT, "{}"]],
  ["admin_nodeInfo", []],
  ["admin_peers", []],
];

describe("The embedded chain's public endpoint", function () {
  let dataDir: string;
  let chain: EmbeddedChain;

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(chain.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };
  const balanceOf = async (address: string) =>
    BigInt(await chain.control.call<string>("eth_getBalance", [address, "latest"]));

  before(async function () {
    dataDir = mkdtempSync(path.join(tmpdir(), "tierline-endpoint-"));
    chain = await startEmbeddedChain(dataDir, await freePort());
  });
  after(async function () {
    await chain?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe("when a caller sends a control method", function () {
    it("refuses every one of them, and nothing on the chain changes", async function () {
      const blockBefore = await chain.control.call<string>("eth_blockNumber");
      const balanceBefore = await balanceOf(DEV_ACCOUNT);
      const victimBefore = await balanceOf(VICTIM);
      for (const [method, params] of CONTROL_CALLS) {
        const { status, body } = await post({ jsonrpc: "2.0", id: 7, method, params });
        expect(status, method).to.equal(200);
        expect(body.id, method).to.equal(7);
        expect(body.result, method).to.equal(undefined);
        expect(body.error.code, `${method}: ${JSON.stringify(body)}`).to.equal(PROXY_ERRORS.methodNotAvailable);
        expect(body.error.message, method).to.include(`the method ${method} is not available`);
      }
      await new Promise((resolve) => setTimeout(resolve, 600)); // a mining tick would show a sent tx
      expect(await chain.control.call<string>("eth_blockNumber")).to.equal(blockBefore);
      expect(await balanceOf(DEV_ACCOUNT)).to.equal(balanceBefore);
      expect(await balanceOf(VICTIM)).to.equal(victimBefore);
    });

    it("refuses them inside a batch, item by item, and answers the standard ones", async function () {
      const batch = [
        { jsonrpc: "2.0", id: "a", method: "eth_chainId", params: [] },
        { jsonrpc: "2.0", id: "b", method: "anvil_setBalance", params: [VICTIM, "0xffff"] },
        { jsonrpc: "2.0", id: "c", method: "eth_blockNumber", params: [] },
        { jsonrpc: "2.0", id: "d", method: "evm_increaseTime", params: [86_400] },
        { jsonrpc: "2.0", id: "e", method: "eth_sendTransaction", params: [{ from: DEV_ACCOUNT, to: VICTIM }] },
      ];
      const { body } = await post(batch);
      expect(body.map((a: { id: string }) => a.id)).to.deep.equal(["a", "b", "c", "d", "e"]);
      expect(body[0].result).to.equal("0x7a69");
      expect(body[2].result).to.match(/^0x[0-9a-f]+$/);
      for (const i of [1, 3, 4]) expect(body[i].error.code).to.equal(PROXY_ERRORS.methodNotAvailable);
      expect(await balanceOf(VICTIM)).to.equal(parseEther("1000000"));
    });

    it("offers no accounts to sign with", async function () {
      const { body } = await post({ jsonrpc: "2.0", id: 1, method: "eth_accounts", params: [] });
      expect(body.result).to.deep.equal([]);
      // Over the private channel the node still has its dev accounts: it is the proxy that hides them.
      expect((await chain.control.call<string[]>("eth_accounts")).length).to.equal(10);
    });
  });

  describe("the node itself", function () {
    it("is reachable over no TCP port: its own HTTP listener is in a network namespace of its own", function () {
      // Where Linux offers user namespaces (here it does: the test says so if not).
      expect(networkIsolation(), "unshare -rn is not available on this machine").to.deep.equal(["unshare", "-rn"]);
      const pid = chain.process.pid!;
      expect(readlinkSync(`/proc/${pid}/ns/net`)).not.to.equal(readlinkSync("/proc/self/ns/net"));
      expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).to.include("anvil");
    });
  });

  describe("when a web page calls it (a browser Origin header)", function () {
    it("refuses standard and control methods alike, with no CORS permission", async function () {
      for (const method of ["eth_chainId", "eth_blockNumber", "anvil_setBalance", "evm_mine", "eth_sendTransaction"]) {
        const { status, headers, body } = await post(
          { jsonrpc: "2.0", id: 1, method, params: [] },
          { origin: "https://evil.example" },
        );
        expect(status, method).to.equal(403);
        expect(headers.get("access-control-allow-origin"), method).to.equal(null);
        expect(body.error.code).to.equal(PROXY_ERRORS.originRefused);
      }
      const preflight = await fetch(chain.url, {
        method: "OPTIONS",
        headers: { origin: "http://localhost:3001", "access-control-request-method": "POST" },
      });
      expect(preflight.status).to.equal(403);
      expect(preflight.headers.get("access-control-allow-origin")).to.equal(null);
    });

    it("serves an origin the operator allowed, and only that one", async function () {
      const port = await freePort();
      const otherDir = mkdtempSync(path.join(tmpdir(), "tierline-endpoint-"));
      const allowed = await startEmbeddedChain(otherDir, port, { allowedOrigins: ["https://wallet.example"] });
      try {
        const call = (origin: string, method: string) =>
          fetch(allowed.url, {
            method: "POST",
            headers: { "content-type": "application/json", origin },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
          });
        const ok = await call("https://wallet.example", "eth_chainId");
        expect(ok.status).to.equal(200);
        expect(ok.headers.get("access-control-allow-origin")).to.equal("https://wallet.example");
        expect(((await ok.json()) as any).result).to.equal("0x7a69");
        const control = await call("https://wallet.example", "evm_mine");
        expect(((await control.json()) as any).error.code).to.equal(PROXY_ERRORS.methodNotAvailable);
        expect((await call("https://other.example", "eth_chainId")).status).to.equal(403);
      } finally {
        await allowed.stop();
        rmSync(otherDir, { recursive: true, force: true });
      }
    });
  });

  describe("when a wallet uses it", function () {
    it("reads, estimates and sends a signed transaction, mined within a block interval", async function () {
      // No response cache: the balance read after the transaction must not be the one read before it.
      const provider = new JsonRpcProvider(chain.url, undefined, {
        staticNetwork: true,
        pollingInterval: 100,
        cacheTimeout: -1,
      });
      try {
        const wallet = new Wallet(Wallet.createRandom().privateKey, provider);
        // Fund it over the private channel (as the service would), then spend over the public one.
        await chain.control.call("anvil_setBalance", [wallet.address, "0xde0b6b3a7640000"]);
        const before = await provider.getBalance(VICTIM);
        const tx = await wallet.sendTransaction({ to: VICTIM, value: 12345n });
        const receipt = await tx.wait();
        expect(receipt!.status).to.equal(1);
        expect(await provider.getBalance(VICTIM, receipt!.blockNumber)).to.equal(before + 12345n);
        expect((await provider.getBlock(0))!.number).to.equal(0);
        expect(await provider.getTransactionCount(wallet.address)).to.equal(1);
      } finally {
        provider.destroy();
      }
    });
  });
});
