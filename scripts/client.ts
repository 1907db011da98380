// `npm run client`: writes client/openapi-types.ts from the OpenAPI document the routes
// describe (the same document GET /openapi.json serves).
import "./lib/node-version.js";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { allRoutes } from "../server/api/app.js";
import { buildOpenApiDocument } from "../server/api/openapi.js";
import { GENERATED_FILE, generateClientTypes } from "../client/generate.js";

const source = await generateClientTypes(buildOpenApiDocument(allRoutes(), "http://127.0.0.1:3000"));
writeFileSync(GENERATED_FILE, source);
console.log(`wrote ${fileURLToPath(GENERATED_FILE)} (${source.split("\n").length} lines)`);
