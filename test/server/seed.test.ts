// Issue 18: the demo parties are for the embedded local chain only. A first start against
// any other network (TIERLINE_RPC_URL) creates nothing and says how to create the
// operator's first parties; seedDemo itself refuses there, whoever calls it.
import { expect } from "chai";
import { loadConfig } from "../../server/config.js";
import type { ServiceContext } from "../../server/context.js";
import { firstStartPlan, seedDemo } from "../../server/seed.js";

const REMOTE = {
  TIERLINE_RPC_URL: "https://rpc.example.org/v1",
  TIERLINE_REGISTRAR_KEY: `0x${"11".repeat(32)}`,
};

describe("First start: demo parties only on the embedded chain", function () {
  it("seeds the demo cast on the embedded local chain", function () {
    expect(firstStartPlan(loadConfig({}, "/tmp"), "31337")).to.deep.equal({ seedDemo: true });
    // The same local anvil started beside the service (as the fault tests do) is the local chain too.
    expect(
      firstStartPlan(loadConfig({ ...REMOTE, TIERLINE_RPC_URL: "http://127.0.0.1:19302" }, "/tmp"), "31337"),
    ).to.deep.equal({
      seedDemo: true,
    });
  });

  it("seeds nothing on another network and tells the operator how to create its first parties", function () {
    const plan = firstStartPlan(loadConfig({ ...REMOTE, PORT: "19301" }, "/tmp"), "11155111");
    expect(plan.seedDemo).to.equal(false);
    if (plan.seedDemo) return;
    const text = plan.instructions.join("\n");
    expect(text).to.include("https://rpc.example.org/v1");
    expect(text).to.include("no demo parties were created");
    expect(text).to.include("curl -s http://127.0.0.1:19301/v1/parties");
    expect(text).to.include("Authorization: Bearer $OPERATOR_KEY");
  });

  it("refuses to seed the demo cast on another network before it touches the database or the chain", async function () {
    // Only the config is there: a seed that went on would fail on the missing db instead.
    const ctx = {
      config: loadConfig(REMOTE, "/tmp"),
      chain: { deployment: { chainId: "11155111" } },
    } as unknown as ServiceContext;
    let refusal: unknown;
    try {
      await seedDemo(ctx, "tl_operator");
    } catch (error) {
      refusal = error;
    }
    expect(String(refusal)).to.include("the demo parties are for the embedded local chain only");
  });
});
