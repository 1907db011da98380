// The typed client (client/, generated from the OpenAPI document by `npm run client`): the
// committed types are exactly what the running server's /openapi.json produces, so a route
// that changes without `npm run client` fails here; and the client works against the server.
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { GENERATED_FILE, generateClientTypes } from "../../../client/generate.js";
import type { TierlineClient } from "../../../client/index.js";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";

describe("the typed client", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl, t.operatorKey);
  });
  after(async function () {
    await t?.close();
  });

  it("is generated from the document the server serves: run `npm run client` if this fails", async function () {
    const document = (await (await fetch(`${t.baseUrl}/openapi.json`)).json()) as object;
    const generated = await generateClientTypes(document);
    const committed = readFileSync(GENERATED_FILE, "utf8");
    expect(generated === committed, "client/openapi-types.ts is stale: run `npm run client` and commit it").to.equal(
      true,
    );
  });

  it("notices a drift: a document with one field more gives other types", async function () {
    const document = (await (await fetch(`${t.baseUrl}/openapi.json`)).json()) as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    document.components.schemas.Platform!.properties!.extra = { type: "string" };
    expect(await generateClientTypes(document)).to.not.equal(readFileSync(GENERATED_FILE, "utf8"));
  });

  it("registers a party and reads it back, typed end to end", async function () {
    const created = await api.typed.POST("/v1/parties", {
      body: { name: "Typed Client Ltd", registryId: `TYPED-${Date.now()}`, industry: "tools", roles: ["supplier"] },
    });
    expect(created.response.status).to.equal(201);
    const party = created.data!;
    const me = await api.as(party.apiKey).typed.GET("/v1/me");
    expect(me.data!.id).to.equal(party.id);
    const read = await api.typed.GET("/v1/parties/{id}", { params: { path: { id: party.id } } });
    expect(read.data!.name).to.equal("Typed Client Ltd");
    const missing = await api.typed.GET("/v1/parties/{id}", { params: { path: { id: "pty_missing" } } });
    expect(missing.response.status).to.equal(404);
    expect(missing.error!.error.code).to.equal("NOT_FOUND");
    const platform = await api.typed.GET("/v1/platform");
    expect(platform.data!.settlement.decimals).to.equal(6);
  });
});

// Compiled, never run: what the compiler refuses with the generated types.
export function refusedByTheCompiler(client: TierlineClient): void {
  // @ts-expect-error: no such route
  void client.GET("/v1/no-such-route");
  // @ts-expect-error: the path parameter is required
  void client.GET("/v1/parties/{id}", {});
  // @ts-expect-error: roles is required when registering a party
  void client.POST("/v1/parties", { body: { name: "x", registryId: "y", industry: "z" } });
}
