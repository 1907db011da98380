// The service's OpenAPI document as the shape tests read it: operations by method, and JSON
// schemas with their $refs resolved against components.
import { allRoutes } from "../../server/api/app.js";
import { buildOpenApiDocument } from "../../server/api/openapi.js";

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  deprecated?: boolean;
}
export interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
}

export const openApiDocument = buildOpenApiDocument(allRoutes(), "http://127.0.0.1:3000") as unknown as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
};

/** The name of the component a schema points at, if it is a $ref. */
export const refName = (schema: JsonSchema): string | undefined => schema.$ref?.replace("#/components/schemas/", "");

export function resolve(schema: JsonSchema | undefined): JsonSchema {
  if (!schema) throw new Error("no schema where one was expected");
  const name = refName(schema);
  return name ? resolve(openApiDocument.components.schemas[name]) : schema;
}

export const operations = (): Array<{ method: string; operation: Operation }> =>
  Object.values(openApiDocument.paths).flatMap((item) =>
    Object.entries(item).map(([method, operation]) => ({ method, operation })),
  );

/** The JSON schemas an operation answers with a 2xx status. */
export const successSchemas = (operation: Operation): JsonSchema[] =>
  Object.entries(operation.responses)
    .filter(([status]) => status.startsWith("2"))
    .flatMap(([, response]) => Object.values(response.content ?? {}).map((content) => content.schema));
