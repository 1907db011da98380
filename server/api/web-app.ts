// Serves the web view (web/, built by Vite into dist/web) at `/` from the API process:
// static files only, under a Content-Security-Policy that allows the page's own scripts,
// styles and API calls and nothing else (no inline code, no CDN, no framing).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import express, { Router } from "express";
import helmet from "helmet";
import { AppError } from "../model/errors.js";

export const WEB_BUILD_DIR = fileURLToPath(new URL("../../dist/web/", import.meta.url));

export const WEB_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  // The embedded service speaks plain HTTP on the local machine: upgrading would break it.
  upgradeInsecureRequests: null,
};

/** GET / and /assets/* from the build; 503 WEB_VIEW_NOT_BUILT at / when there is no build. */
export function webAppRouter(buildDir = WEB_BUILD_DIR): Router {
  const router = Router();
  const pageHeaders = helmet({ contentSecurityPolicy: { directives: WEB_CSP_DIRECTIVES } });
  router.get(["/", "/index.html"], pageHeaders, (_req, res, next) => {
    const index = `${buildDir}index.html`;
    if (!existsSync(index))
      return next(
        new AppError("WEB_VIEW_NOT_BUILT", 503, "the web view is not built: run `npm run build` (npm start builds it)"),
      );
    res.setHeader("Cache-Control", "no-cache");
    res.sendFile(index);
  });
  // File names carry a content hash: cache them for good.
  router.use(
    "/assets",
    pageHeaders,
    express.static(`${buildDir}assets`, { immutable: true, maxAge: "1y", fallthrough: true }),
  );
  return router;
}
