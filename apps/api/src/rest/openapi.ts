import { contract, listProcedures } from "@ops/contract";
import { z } from "zod";

const ERROR_SCHEMA = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        field: { type: "string" },
        params: { type: "object", description: "values the message is built from; `reason` names the rule that refused" },
      },
      required: ["code", "message"],
    },
  },
};

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

/** OpenAPI 3.1 for the REST surface, generated from the contract alone. */
export function buildOpenApiDocument(serverUrl = "/api") {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { name, def } of listProcedures(contract)) {
    const pathParams = [...def.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const input = jsonSchema(def.input, "input") as { properties?: Record<string, unknown>; required?: string[] };
    const properties = input.properties ?? {};
    const required = new Set(input.required ?? []);
    const parameters: unknown[] = pathParams.map((p) => ({ name: p, in: "path", required: true, schema: properties[p] ?? { type: "string" } }));
    const bodyProps = Object.fromEntries(Object.entries(properties).filter(([k]) => !pathParams.includes(k)));
    let requestBody: unknown;
    if (def.method === "GET") {
      for (const [key, schema] of Object.entries(bodyProps)) {
        parameters.push({ name: key, in: "query", required: required.has(key), schema });
      }
    } else {
      requestBody = {
        required: [...required].some((k) => !pathParams.includes(k)),
        content: {
          "application/json": {
            schema: { ...input, properties: bodyProps, required: [...required].filter((k) => !pathParams.includes(k)) },
          },
        },
      };
    }
    const operation = {
      operationId: name,
      summary: def.summary,
      tags: [name.split(".")[0]],
      "x-ops-access": def.access,
      parameters,
      ...(requestBody ? { requestBody } : {}),
      responses: {
        "200": { description: "OK", content: { "application/json": { schema: jsonSchema(def.output, "output") } } },
        default: { description: "Error", content: { "application/json": { schema: ERROR_SCHEMA } } },
      },
      ...(def.access === "public" ? { security: [] } : {}),
    };
    const path = def.path;
    paths[path] = { ...(paths[path] ?? {}), [def.method.toLowerCase()]: operation };
  }
  return {
    openapi: "3.1.0",
    info: { title: "OPS Center dispatch API", version: "1.0.0" },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        serviceToken: { type: "apiKey", in: "header", name: "X-OPS-Service-Token" },
        session: { type: "apiKey", in: "cookie", name: "ops_session" },
      },
    },
    security: [{ serviceToken: [] }, { session: [] }],
    paths,
  };
}
