// The Express application: security headers, body limits, rate limiting, request logs
// with a request id, authentication, idempotency, the routes, and one error handler.
import { randomUUID } from "node:crypto";
import express, { type Express, type Request } from "express";
import helmet from "helmet";
import { ipKeyGenerator, rateLimit, type Store } from "express-rate-limit";
import { pinoHttp } from "pino-http";
import swaggerUi from "swagger-ui-express";
import type { ServiceContext } from "../context.js";
import { AppError } from "../model/errors.js";
import { authenticate, lookUpBearer, type BearerLookup } from "./auth.js";
import { limitBodyDepth, refuseUnexpectedBody, requireJsonContentType } from "./body-guards.js";
import { errorHandler } from "./error-handler.js";
import { withIdempotency } from "./idempotency.js";
import { webAppRouter } from "./web-app.js";
import { engineOf } from "../store/database.js";
import { DatabaseRateLimitStore } from "../store/rate-limit-store.js";
import { buildOpenApiDocument } from "./openapi.js";
import type { HandlerInput, RouteSpec } from "./route-spec.js";
import { parseOrThrow } from "./validation.js";
import { certificateRoutes } from "./routes/certificates.js";
import { healthRoutes } from "./routes/health.js";
import { partyRoutes } from "./routes/parties.js";
import { receivableRoutes } from "./routes/receivables.js";
import { financingRoutes } from "./routes/financing.js";
import { repaymentsRoutes } from "./routes/repayments.js";
import { dilutionRoutes } from "./routes/dilution.js";
import { recourseRoutes } from "./routes/recourse.js";
import { creditNoteArbitrationRoutes } from "./routes/credit-note-arbitration.js";
import { disputeDismissalRoutes } from "./routes/dispute-dismissal.js";
import { auditRoutes } from "./routes/audit.js";
import { riskRoutes } from "./routes/risk.js";
import { riskNetworkRoutes } from "./routes/risk-network.js";
import { operatorRoutes } from "./routes/operator.js";
import { webhookRoutes } from "./routes/webhooks.js";

export const BODY_LIMIT = "1mb";

export function allRoutes(extra: RouteSpec[] = []): RouteSpec[] {
  return [
    ...healthRoutes,
    ...partyRoutes,
    ...receivableRoutes,
    ...certificateRoutes,
    ...financingRoutes,
    ...repaymentsRoutes,
    ...dilutionRoutes,
    ...creditNoteArbitrationRoutes,
    ...disputeDismissalRoutes,
    ...recourseRoutes,
    ...auditRoutes,
    ...riskRoutes,
    ...riskNetworkRoutes,
    ...operatorRoutes,
    ...webhookRoutes,
    ...extra,
  ];
}

export interface AppOptions {
  /**
   * Where the rate limiter counts (express-rate-limit's Store): in memory by default; a
   * shared store (Redis, PostgreSQL) makes the limits hold across API replicas.
   */
  rateLimitStore?: Store;
}

export function createApp(ctx: ServiceContext, routes: RouteSpec[] = allRoutes(), options: AppOptions = {}): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  app.use(
    pinoHttp({
      logger: ctx.log,
      genReqId: (req, res) => {
        const incoming = req.headers["x-request-id"];
        const id = typeof incoming === "string" && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader("X-Request-Id", id);
        return id;
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "info" : "info",
      // What explains a request, not every header (about 1.3 KB a request before; issue 12).
      // The Authorization header is never logged.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  // Requests by route pattern and status, timed from arrival to the last byte.
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const route = (res.locals.route as string | undefined) ?? "(no route)";
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      ctx.telemetry.recordRequest(req.method, route, res.statusCode, seconds);
    });
    next();
  });
  // The docs page's inline scripts need a looser policy; everything else gets helmet's default.
  app.use(/^\/(?!docs).*/, helmet());
  // One bucket per API key (the party behind it) wherever it calls from, so parties behind
  // one proxy do not share a budget; requests without a known key count per IP address.
  app.use(async (req, res, next) => {
    try {
      // Read once: the rate limit counts per party, and authenticate answers from the same lookup.
      const bearer = await lookUpBearer(ctx, req.get("authorization"));
      res.locals.bearer = bearer;
      res.locals.rateLimitParty = bearer.party?.id;
      next();
    } catch (error) {
      next(error);
    }
  });
  const rateLimitStore =
    options.rateLimitStore ??
    (engineOf(ctx.db) === "postgres"
      ? new DatabaseRateLimitStore(ctx.db, {
          // The limit is chosen per request (per IP or per key), so the store is told the policy.
          policy: `${ctx.config.TIERLINE_RATE_LIMIT_PER_MINUTE}/ip,${ctx.config.TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE}/key`,
        })
      : undefined);
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: (_req, res) =>
        res.locals.rateLimitParty
          ? ctx.config.TIERLINE_RATE_LIMIT_PER_KEY_PER_MINUTE
          : ctx.config.TIERLINE_RATE_LIMIT_PER_MINUTE,
      keyGenerator: (req, res) =>
        res.locals.rateLimitParty ? `party:${res.locals.rateLimitParty}` : `ip:${ipKeyGenerator(req.ip ?? "unknown")}`,
      identifier: (_req, res) => (res.locals.rateLimitParty ? "per-key" : "per-ip"),
      standardHeaders: "draft-8",
      legacyHeaders: false,
      // Replicas over PostgreSQL count against one budget; the single SQLite process counts in memory.
      ...(rateLimitStore ? { store: rateLimitStore } : {}),
      handler: (_req, _res, next) => next(new AppError("RATE_LIMITED", 429, "too many requests; slow down and retry")),
    }),
  );
  // The web view: the page and its assets, under their own stricter CSP.
  app.use(webAppRouter());
  app.use(requireJsonContentType);
  app.use(express.json({ limit: BODY_LIMIT, strict: true, type: ["application/json", "application/*+json"] }));
  app.use(limitBodyDepth());

  const document = buildOpenApiDocument(routes, `http://${ctx.config.HOST}:${ctx.config.PORT}`);
  app.get("/openapi.json", (_req, res) => {
    res.locals.route = "/openapi.json";
    res.json(document);
  });
  app.use(
    "/docs",
    swaggerUi.serve,
    swaggerUi.setup(document as Parameters<typeof swaggerUi.setup>[0], { customSiteTitle: "Tierline API" }),
  );

  for (const route of routes) {
    app[route.method](route.path, async (req: Request, res) => {
      res.locals.route = route.path;
      const actor = route.auth
        ? await authenticate(ctx, req.get("authorization"), res.locals.bearer as BearerLookup | undefined)
        : undefined;
      req.log = req.log.child({ partyId: actor?.id });
      // Inside the idempotent attempt, in this order (role, an unexpected body, params, query,
      // body): a caller without the role learns nothing of the request's shape, and a refusal is
      // stored as the key's answer just the same.
      const run = async () => {
        if (actor && route.authorize) route.authorize(actor);
        if (route.method === "post" && !route.body) refuseUnexpectedBody(req.body);
        const input: HandlerInput = {
          actor,
          params: route.params ? parseOrThrow(route.params, req.params, "params") : {},
          query: route.query ? parseOrThrow(route.query, req.query, "query") : {},
          body: route.body
            ? parseOrThrow(route.body, route.bodyOptional ? (req.body ?? {}) : req.body, "body")
            : undefined,
          requestId: String(req.id),
          respondAsync: Boolean(route.respondAsync) && prefersAsync(req.get("prefer")),
        };
        return route.handler({ ...ctx, log: req.log }, input);
      };
      const result =
        route.idempotent && actor
          ? await withIdempotency(
              ctx,
              actor.id,
              req.get("idempotency-key"),
              { method: req.method, path: req.path, body: req.body },
              run,
            )
          : await run();
      if ("replayed" in result && result.replayed) {
        res.setHeader("Idempotent-Replayed", "true");
        ctx.telemetry.idempotencyReplays.inc();
      }
      const location = route.responses[result.status]?.location;
      if (location) res.setHeader("Location", location.of(result.body as never));
      if (result.status === 202 && route.respondAsync) res.setHeader("Preference-Applied", "respond-async");
      if (result.contentType) res.status(result.status).type(result.contentType).send(String(result.body));
      else res.status(result.status).json(result.body);
    });
  }
  app.use((req, _res, next) => next(new AppError("ROUTE_NOT_FOUND", 404, `no route ${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}

/** RFC 7240: `Prefer` is a comma list of preferences, each a token with optional parameters. */
function prefersAsync(header: string | undefined): boolean {
  return (header ?? "")
    .split(",")
    .some((preference) => preference.split(";")[0]!.trim().toLowerCase() === "respond-async");
}
