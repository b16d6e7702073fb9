import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * The typed client's transport: a `fetch` for tRPC's httpLink over node:http
 * with keep-alive sockets, instead of the global fetch (undici).
 *
 * Why (issue 12, bench/README.md → Profiles): per call, undici's fetch built a
 * WHATWG Request, an AbortSignal chain, a web stream for the body and a
 * DOMException-capable controller; profiled over the same lifecycles it cost
 * the client about 8× the CPU of node:http, on the two cores the API and
 * PostgreSQL share with it. The launcher's calls are small JSON bodies to one
 * origin, which is all this does.
 *
 * What stays as it was: the headers tRPC passes (the credential header among
 * them) go to the configured origin only, because a redirect is never
 * followed — a 3xx becomes an error naming where it pointed, so the operator
 * fixes OPS_API_BASE instead of the launcher sending its token on. Abort
 * signals cancel the request; network errors reject (retried by the caller).
 */

/** What tRPC's httpLink reads of an answer. */
export interface HttpAnswer {
  readonly ok: boolean;
  readonly status: number;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  text(): Promise<string>;
}

export interface HttpFetchInit {
  method?: string;
  headers?: ConstructorParameters<typeof Headers>[0];
  body?: unknown;
  signal?: AbortSignal | null;
}

/** Idle keep-alive sockets are closed before the API's own keep-alive timeout (Node also honours its hint). */
const agentOptions = { keepAlive: true, timeout: 60_000 };
const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
/** No answer at all for this long (long-polls wait at most 30 s): give up, as undici's header timeout would. */
const IDLE_TIMEOUT_MS = 300_000;

function headerRecord(headers: HttpFetchInit["headers"]): Record<string, string> {
  if (!headers) return {};
  // tRPC passes a plain object of strings: copied as it is; any other form goes through Headers.
  if (!Array.isArray(headers) && !(headers instanceof Headers) && Object.values(headers).every((v) => typeof v === "string")) {
    return { ...(headers as Record<string, string>) };
  }
  return Object.fromEntries(new Headers(headers).entries());
}

function redirectError(status: number, location: string | undefined, base: URL): Error {
  let target = "no Location";
  if (location) {
    try {
      const url = new URL(location, base);
      target = `${url.origin}${url.pathname}`;
    } catch {
      target = "an invalid Location";
    }
  }
  return new Error(
    `the API answered ${status} redirecting to ${target}; the launcher does not follow redirects (its token would go along): set OPS_API_BASE to the final URL`,
  );
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error("the request was aborted"), { name: "AbortError" });
}

/** fetch, as far as tRPC's httpLink uses it, over node:http(s) with keep-alive; never follows a redirect. */
export function httpFetch(input: string | URL | Request, init: HttpFetchInit = {}): Promise<HttpAnswer> {
  const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const body = init.body === undefined || init.body === null ? undefined : String(init.body);
  const headers = headerRecord(init.headers);
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") return Promise.reject(new Error(`unsupported protocol ${url.protocol} in ${url.origin}`));

  return new Promise<HttpAnswer>((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      { method: init.method ?? "GET", headers, agent: secure ? agents.https : agents.http, timeout: IDLE_TIMEOUT_MS },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          settle();
          reject(redirectError(status, res.headers.location, url));
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (error) => {
          settle();
          reject(error);
        });
        res.on("end", () => {
          settle();
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            ok: status >= 200 && status < 300,
            status,
            url: url.href,
            headers: {
              get: (name) => {
                const value = res.headers[name.toLowerCase()];
                return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
              },
            },
            json: async () => JSON.parse(text) as unknown,
            text: async () => text,
          });
        });
      },
    );
    const onAbort = () => {
      request.destroy(abortError(signal!));
    };
    const settle = () => signal?.removeEventListener("abort", onAbort);
    signal?.addEventListener("abort", onAbort, { once: true });
    request.on("timeout", () => request.destroy(new Error(`no answer from ${url.origin} within ${IDLE_TIMEOUT_MS / 1000}s`)));
    request.on("error", (error) => {
      settle();
      reject(error);
    });
    request.end(body);
  });
}
