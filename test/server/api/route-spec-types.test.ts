// What the compiler checks in a route: each expect-error directive below marks a mistake the
// type checker must refuse (npm run check fails if one of them compiles, as an unused
// directive is itself an error). The runtime part checks what defineRoute keeps.
import { expect } from "chai";
import { z } from "zod";
import { defineRoute } from "../../../server/api/route-spec.js";

const Thing = z.object({ id: z.string(), amount: z.string() });
const Params = z.object({ id: z.string() });
const Body = z.object({ amount: z.string(), note: z.string().optional() });

const thingRoute = defineRoute({
  method: "post",
  path: "/things/:id",
  operationId: "updateThing",
  summary: "a route for the type checks",
  tag: "test",
  auth: true,
  params: Params,
  body: Body,
  responses: { 200: { description: "updated", schema: Thing }, 201: { description: "created", schema: Thing } },
  errors: [404],
});

describe("API: the compiler checks each route's handler against its schemas", function () {
  it("types the input from the params and body schemas, with the actor present on a route that needs a key", function () {
    const route = thingRoute.handle(async (_ctx, { actor, params, body }) => {
      const partyId: string = actor.id;
      const amount: string = body.amount;
      const note: string | undefined = body.note;
      // @ts-expect-error the params schema names no `other`
      void params.other;
      // @ts-expect-error the body schema's amount is a string
      const wrong: number = body.amount;
      void [partyId, amount, note, wrong];
      return { status: 200, body: { id: params.id, amount } };
    });
    expect(route.operationId).to.equal("updateThing");
    expect(route.params).to.equal(Params);
    expect(route.body).to.equal(Body);
    expect(route.handler).to.be.a("function");
  });

  it("refuses an answer with a status the route does not declare, or a body its schema does not accept", function () {
    // @ts-expect-error 202 is not a declared status
    thingRoute.handle(async (_ctx, { params }) => ({ status: 202, body: { id: params.id, amount: "1" } }));
    // @ts-expect-error amount must be a string
    thingRoute.handle(async (_ctx, { params }) => ({ status: 200, body: { id: params.id, amount: 1 } }));
    // @ts-expect-error id is missing
    thingRoute.handle(async () => ({ status: 201, body: { amount: "1" } }));
    // @ts-expect-error no text content type is declared for 200
    thingRoute.handle(async () => ({ status: 200, body: "text", contentType: "text/plain" }));
    const either = thingRoute.handle(async (_ctx, { params, body }) => ({
      status: body.note ? 201 : 200,
      body: { id: params.id, amount: body.amount },
    }));
    expect(either.responses).to.have.keys("200", "201");
  });

  it("gives a route without a key no actor, and a route without a body no body", function () {
    const open = defineRoute({
      method: "get",
      path: "/open",
      operationId: "readOpen",
      summary: "no key",
      tag: "test",
      auth: false,
      responses: { 200: { description: "ok", schema: z.object({ ok: z.boolean() }) } },
      errors: [],
    }).handle(async (_ctx, { actor, body }) => {
      // @ts-expect-error no key, no actor
      void actor.id;
      const nothing: undefined = body;
      void nothing;
      return { status: 200, body: { ok: true } };
    });
    expect(open.auth).to.equal(false);
  });
});
