import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * A scripted stand-in for the model providers the real agent CLIs talk to.
 * Every conversation gets the same two turns: first one tool call that runs
 * `command` in the CLI's shell tool, then (once the request carries the tool's
 * result) `finalMessage`. It speaks the three streaming wire formats the
 * built-in runtimes use: Anthropic Messages (claude), OpenAI Responses (codex)
 * and OpenAI Chat Completions (opencode, through @ai-sdk/openai-compatible).
 * Side requests that offer no shell tool (session titles) get a short answer.
 */
export interface ModelScript {
  command: string;
  finalMessage: string;
  /**
   * Awaited before a tool call is sent (with the request's raw body): meanwhile
   * the CLI is alive and waiting on the model, so a test can look at its processes.
   */
  beforeToolCall?: (body: string) => Promise<void>;
}

export interface ModelRequest {
  method: string;
  path: string;
  /** How it was answered: "tool call", "final message", "side answer" or "not found". */
  answer: string;
  /** The raw request body, to check what reached the model (the prompt). */
  body: string;
}

export interface ModelServer {
  url: string;
  requests: ModelRequest[];
  script: ModelScript;
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: provider payloads are read loosely, field by field
type Json = any;

/** What a request asks for, in any of the three formats. */
interface Turn {
  kind: "tool call" | "final message" | "side answer";
  /** The CLI's shell tool, when it offers one and has not run it yet in this conversation. */
  callTool?: string;
  /** The text to answer with otherwise. */
  text: string;
}

interface WireFormat {
  turn(body: Json, script: ModelScript): Turn;
  /** Writes the whole (streamed or plain) answer. */
  answer(body: Json, turn: Turn, script: ModelScript, res: ServerResponse): void;
}

function startSse(res: ServerResponse) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  return (event: string | undefined, data: unknown) =>
    res.write(`${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
}

function json(res: ServerResponse, body: unknown) {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const pickTurn = (offered: string[], shellTools: string[], toolDone: boolean, script: ModelScript): Turn => {
  const shell = shellTools.find((t) => offered.includes(t));
  if (!shell) return { kind: "side answer", text: "ok" };
  return toolDone ? { kind: "final message", text: script.finalMessage } : { kind: "tool call", callTool: shell, text: "" };
};

/** claude: POST /v1/messages?beta=true, tool `Bash` with {command}. */
const anthropic: WireFormat = {
  turn(body, script) {
    const offered: string[] = (body.tools ?? []).map((t: Json) => t.name);
    const messages: Json[] = body.messages ?? [];
    const toolDone = messages.some((m) => Array.isArray(m.content) && m.content.some((c: Json) => c.type === "tool_result"));
    return pickTurn(offered, ["Bash"], toolDone, script);
  },
  answer(body, turn, script, res) {
    const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const message = { id: "msg_ops_1", type: "message", role: "assistant", model: body.model, content: [], stop_reason: null, stop_sequence: null, usage };
    if (!body.stream) return json(res, { ...message, content: [{ type: "text", text: turn.text }], stop_reason: "end_turn" });
    const send = startSse(res);
    send("message_start", { type: "message_start", message });
    const block = turn.callTool
      ? { start: { type: "tool_use", id: "toolu_ops_1", name: turn.callTool, input: {} }, delta: { type: "input_json_delta", partial_json: JSON.stringify({ command: script.command, description: "Run the scripted command" }) } }
      : { start: { type: "text", text: "" }, delta: { type: "text_delta", text: turn.text } };
    send("content_block_start", { type: "content_block_start", index: 0, content_block: block.start });
    send("content_block_delta", { type: "content_block_delta", index: 0, delta: block.delta });
    send("content_block_stop", { type: "content_block_stop", index: 0 });
    send("message_delta", { type: "message_delta", delta: { stop_reason: turn.callTool ? "tool_use" : "end_turn", stop_sequence: null }, usage: { output_tokens: 5 } });
    send("message_stop", { type: "message_stop" });
    res.end();
  },
};

/** codex: POST /v1/responses, tool `exec_command` with {cmd} (or the older `shell` with an argv). */
const responses: WireFormat = {
  turn(body, script) {
    const offered: string[] = (body.tools ?? []).map((t: Json) => t.name ?? t.type);
    const input: Json[] = Array.isArray(body.input) ? body.input : [];
    const toolDone = input.some((i) => i.type === "function_call_output" || i.type === "custom_tool_call_output");
    return pickTurn(offered, ["exec_command", "shell"], toolDone, script);
  },
  answer(_body, turn, script, res) {
    const send = startSse(res);
    const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };
    send("response.created", { type: "response.created", response: { id: "resp_ops_1", object: "response", status: "in_progress", output: [] } });
    let item: Json;
    if (turn.callTool) {
      const args = JSON.stringify(turn.callTool === "exec_command" ? { cmd: script.command } : { command: ["bash", "-lc", script.command] });
      item = { type: "function_call", id: "fc_ops_1", call_id: "call_ops_1", name: turn.callTool, arguments: args, status: "completed" };
      send("response.output_item.added", { type: "response.output_item.added", output_index: 0, item: { ...item, arguments: "", status: "in_progress" } });
      send("response.function_call_arguments.delta", { type: "response.function_call_arguments.delta", item_id: item.id, output_index: 0, delta: args });
      send("response.function_call_arguments.done", { type: "response.function_call_arguments.done", item_id: item.id, output_index: 0, arguments: args });
    } else {
      item = { type: "message", id: "msg_ops_1", role: "assistant", status: "completed", content: [{ type: "output_text", text: turn.text, annotations: [] }] };
      send("response.output_item.added", { type: "response.output_item.added", output_index: 0, item: { ...item, content: [], status: "in_progress" } });
      send("response.output_text.delta", { type: "response.output_text.delta", item_id: item.id, output_index: 0, content_index: 0, delta: turn.text });
      send("response.output_text.done", { type: "response.output_text.done", item_id: item.id, output_index: 0, content_index: 0, text: turn.text });
    }
    send("response.output_item.done", { type: "response.output_item.done", output_index: 0, item });
    send("response.completed", { type: "response.completed", response: { id: "resp_ops_1", object: "response", status: "completed", output: [item], usage } });
    res.end();
  },
};

/** opencode: POST /v1/chat/completions, tool `bash` with {command, description}. */
const chatCompletions: WireFormat = {
  turn(body, script) {
    const offered: string[] = (body.tools ?? []).map((t: Json) => t.function?.name ?? t.name);
    const toolDone = (body.messages ?? []).some((m: Json) => m.role === "tool");
    return pickTurn(offered, ["bash"], toolDone, script);
  },
  answer(body, turn, script, res) {
    const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    if (!body.stream) {
      return json(res, { id: "chatcmpl-ops", object: "chat.completion", created: 0, model: body.model, choices: [{ index: 0, message: { role: "assistant", content: turn.text }, finish_reason: "stop" }], usage });
    }
    const chunk = (delta: Json, finish: string | null) => ({ id: "chatcmpl-ops", object: "chat.completion.chunk", created: 0, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] });
    const send = startSse(res);
    if (turn.callTool) {
      const args = JSON.stringify({ command: script.command, description: "Run the scripted command" });
      send(undefined, chunk({ role: "assistant", tool_calls: [{ index: 0, id: "call_ops_1", type: "function", function: { name: turn.callTool, arguments: "" } }] }, null));
      send(undefined, chunk({ tool_calls: [{ index: 0, function: { arguments: args } }] }, null));
      send(undefined, chunk({}, "tool_calls"));
    } else {
      send(undefined, chunk({ role: "assistant", content: turn.text }, null));
      send(undefined, chunk({}, "stop"));
    }
    send(undefined, { ...chunk({}, null), choices: [], usage });
    send(undefined, "[DONE]");
    res.end();
  },
};

function formatOf(method: string | undefined, path: string): WireFormat | undefined {
  if (method !== "POST") return undefined;
  if (path.endsWith("/messages")) return anthropic;
  if (path.endsWith("/responses")) return responses;
  if (path.endsWith("/chat/completions")) return chatCompletions;
  return undefined;
}

export async function startModelServer(script: ModelScript): Promise<ModelServer> {
  const requests: ModelRequest[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const format = formatOf(req.method, path);
    let body: Json;
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      body = undefined;
    }
    if (!format || body === undefined) {
      // claude probes `HEAD /` first; a 404 is what a real gateway answers too.
      requests.push({ method: req.method ?? "", path, answer: "not found", body: raw });
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { type: "not_found", message: `no scripted answer for ${req.method} ${path}` } }));
      return;
    }
    const turn = format.turn(body, server.script);
    requests.push({ method: req.method ?? "", path, answer: turn.kind, body: raw });
    if (turn.callTool) await server.script.beforeToolCall?.(raw);
    format.answer(body, turn, server.script, res);
  };
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((error) => {
        res.writeHead(500);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const server: ModelServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  return server;
}
