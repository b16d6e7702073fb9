import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import type { OpsDatabase } from "@ops/db";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import { ServiceTokenVerifier } from "./auth/authenticate.ts";
import { type AppDeps, startDispatchDeps } from "./deps.ts";
import type { Env, TrustProxy } from "./env.ts";
import { implementation } from "./procedures/index.ts";
import { registerRestRoutes, restError } from "./rest/adapter.ts";
import { buildOpenApiDocument } from "./rest/openapi.ts";
import { registerTrpc } from "./trpc/fastify.ts";
import { buildAppRouter } from "./trpc/router.ts";
import { TRPCError } from "@trpc/server";

export const BODY_LIMIT = 1024 * 1024;
/**
 * How much of an oversized body is read and thrown away before the 413 goes
 * out. Answering before the upload ends and closing the socket makes the
 * client's kernel see a reset while it still writes (EPIPE/ECONNRESET, the 413
 * lost); reading the rest first lets every client read the answer. Beyond this
 * the socket is closed anyway: the bandwidth is bounded, and nothing is kept.
 */
const OVERSIZE_DRAIN_LIMIT = 64 * 1024 * 1024;
const OVERSIZE_DRAIN_MS = 30_000;

/** Reads and discards what is left of a request body, up to `limit` bytes or `ms`. */
function drainRequestBody(raw: NodeJS.ReadableStream & { complete?: boolean; destroyed?: boolean }, limit: number, ms: number): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((done) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.removeListener("data", onData);
      raw.removeListener("end", finish);
      raw.removeListener("close", finish);
      raw.removeListener("error", finish);
      done();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) finish();
    };
    const timer = setTimeout(finish, ms);
    raw.on("data", onData);
    raw.once("end", finish);
    raw.once("close", finish);
    raw.once("error", finish);
    raw.resume();
  });
}
/** No procedure takes anything close; deeper bodies only serve to exhaust stacks downstream. */
const MAX_JSON_DEPTH = 32;

/** Bracket depth outside string literals, checked before JSON.parse builds anything. */
export function jsonDepthExceeds(source: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

// The SPA is served from the same origin; nothing else may run or be framed.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

/**
 * TRUST_PROXY as Fastify applies it. A hop count becomes a function because
 * Fastify 5 now reads a bare number as "trust nothing" (a hop count cannot
 * tell the proxy from a client that connects directly); here it keeps its
 * documented meaning, the `hops` nearest addresses are proxies, for an API
 * that only the proxy can reach (HOST=127.0.0.1). Addresses are the safer form.
 */
export function trustProxyOption(tp: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof tp === "number") return (_address, hop) => hop < tp;
  return tp;
}

export interface BuiltServer {
  app: FastifyInstance;
  deps: AppDeps;
}

const defaultWebDist = resolve(dirname(fileURLToPath(import.meta.url)), "../../web/dist");

export async function buildServer(env: Env, database: OpsDatabase, log: Logger): Promise<BuiltServer> {
  const serviceTokens = new ServiceTokenVerifier(database.db);
  const deps: AppDeps = { env, database, log, serviceTokens, ...(await startDispatchDeps(env, database, log)) };
  // A service token rotated on another instance is accepted here at once, not after the verifier's cache ends.
  deps.settings.onChange(() => serviceTokens.invalidate());
  const appRouter = buildAppRouter(implementation);

  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    trustProxy: trustProxyOption(env.TRUST_PROXY),
    bodyLimit: BODY_LIMIT,
    // Per-request lines only when debugging: at dispatch rates they would drown the log.
    logController: new LogController({ disableRequestLogging: env.LOG_LEVEL !== "debug" && env.LOG_LEVEL !== "trace" }),
    routerOptions: { maxParamLength: 200 },
  });
  await app.register(fastifyCookie);

  // Empty JSON bodies mean "no fields" (curl -X POST without -d); anything else must parse.
  app.removeContentTypeParser("application/json");
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, raw, done) => {
    const fail = (message: string) => done(Object.assign(new Error(message), { statusCode: 400, code: "VALIDATION" }), undefined);
    let source: string;
    try {
      source = utf8.decode(raw as Buffer);
    } catch {
      return fail("the request body is not valid UTF-8");
    }
    if (source.trim() === "") return done(null, undefined);
    if (jsonDepthExceeds(source, MAX_JSON_DEPTH)) return fail(`the request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    try {
      done(null, JSON.parse(source));
    } catch {
      fail("the request body is not valid JSON");
    }
  });

  app.addHook("onSend", async (req, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    // API answers are live state (and may be personal): never cached by a proxy or the browser.
    if (req.url.startsWith("/api") || req.url.startsWith("/trpc")) reply.header("cache-control", "no-store");
    return payload;
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) {
      await drainRequestBody(req.raw, OVERSIZE_DRAIN_LIMIT, OVERSIZE_DRAIN_MS);
      // The connection's framing is unknown after a partial read: never reused.
      reply.header("connection", "close");
      return reply
        .code(413)
        .send({ error: { code: "VALIDATION", message: `the request body is larger than ${BODY_LIMIT} bytes`, params: { limit_bytes: BODY_LIMIT } } });
    }
    if (status >= 500) {
      req.log.error({ err: error }, "request failed");
      const { body } = restError(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: error }));
      return reply.code(500).send(body);
    }
    const code = status === 401 ? "UNAUTHORIZED" : status === 404 ? "NOT_FOUND" : status === 429 ? "RATE_LIMITED" : "VALIDATION";
    const message = status === 415 ? "send the request body as application/json" : error.message;
    return reply.code(status).send({ error: { code, message } });
  });

  await registerTrpc(app, deps, appRouter);

  registerRestRoutes(app, deps, appRouter);
  app.get("/api/openapi.json", async () => buildOpenApiDocument());
  app.all("/api/*", async (req, reply) =>
    reply.code(404).send({ error: { code: "NOT_FOUND", message: `no route ${req.method} ${req.url.split("?")[0]}` } }),
  );

  const webDist = env.OPS_WEB_DIST ?? defaultWebDist;
  if (existsSync(join(webDist, "index.html"))) {
    await app.register(fastifyStatic, {
      root: webDist,
      wildcard: false,
      // The build writes .br/.gz beside each asset (apps/web/vite.config.ts): sent as they are.
      preCompressed: true,
      // Hashed file names change with their content: cache them for good; index.html is always asked again.
      setHeaders: (reply, path) => {
        reply.header("cache-control", /[\\/]assets[\\/]/.test(path) ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
    // Client-side routes fall back to the SPA shell.
    app.get("/*", async (_req, reply) => reply.type("text/html").sendFile("index.html"));
  } else {
    app.get("/", async (_req, reply) =>
      reply.type("text/plain").send("OPS Center API is running. The web app is not built: run `pnpm --filter @ops/web build`."),
    );
  }
  return { app, deps };
}
