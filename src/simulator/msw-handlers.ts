// The simulator as msw request handlers: one handler per CPAPI operation of the contracts (so a test can
// prepend its own override with server.use), all answering through the same pipeline. Every answer carries
// `x-ibkr-simulator: 1`, which the client turns into the "simulated" label on everything it returns, and
// `x-ibkr-simulator-time`, the simulator's own clock, which may run at another time than the client's.
import { type HttpHandler, HttpResponse, http } from "msw";
import { CPAPI_OPERATIONS, type CpapiOperationId } from "../../generated/cpapi/operations.gen.ts";
import { API_PREFIX, handleRequest, type PipelineOutput } from "./gateway.ts";
import type { SimulatorState } from "./state.ts";

export const SIMULATOR_HEADER = "x-ibkr-simulator";
/**
 * The simulator's clock (epoch ms) when it answered. It runs at the time it was started for (`--time`), so a
 * client judges the age of quotes and the trading session on this clock, not its own.
 */
export const SIMULATOR_TIME_HEADER = "x-ibkr-simulator-time";
/** Set by the HTTPS server to the socket address; in-process callers are "local". */
export const SOURCE_HEADER = "x-simulator-source";
/**
 * Set by the two transports that can drop an answer after the gateway handled the request (the in-process
 * dispatcher and the HTTPS server); each strips what a caller sent.
 */
export const TRANSPORT_HEADER = "x-simulator-transport";
/** On an answer the transport must not deliver: it fails the request as a broken connection instead. */
export const LOST_RESPONSE_HEADER = "x-simulator-lost-response";

export function toResponse(
  output: PipelineOutput,
  transport: string | null = null,
  simulatorNow?: number,
): Response {
  if ("networkError" in output) return HttpResponse.error();
  if ("lostResponse" in output) {
    // fetch (msw's setupServer) has no closer equivalent of a connection that breaks after the request.
    if (transport === null) return HttpResponse.error();
    return new HttpResponse(null, { status: 200, headers: { [LOST_RESPONSE_HEADER]: "1" } });
  }
  const headers: Record<string, string> = { [SIMULATOR_HEADER]: "1" };
  if (simulatorNow !== undefined) headers[SIMULATOR_TIME_HEADER] = String(simulatorNow);
  if (output.text !== undefined) {
    return new HttpResponse(output.text, {
      status: output.status,
      headers: { ...headers, "content-type": "text/plain; charset=utf-8" },
    });
  }
  return HttpResponse.json(output.body ?? null, { status: output.status, headers });
}

async function readBody(request: Request): Promise<{ ok: true; body: unknown } | { ok: false }> {
  if (request.method === "GET" || request.method === "HEAD") return { ok: true, body: undefined };
  const text = await request.text();
  if (text.trim() === "") return { ok: true, body: undefined };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const METHODS = {
  GET: http.get,
  POST: http.post,
  DELETE: http.delete,
  PUT: http.put,
  PATCH: http.patch,
} as const;

export function apiHandlers(state: SimulatorState): HttpHandler[] {
  const resolver = async ({ request }: { request: Request }) => {
    const parsed = await readBody(request);
    if (!parsed.ok) {
      return toResponse({
        status: 400,
        body: { error: "Bad Request: body is not valid JSON", statusCode: 400 },
      });
    }
    const output = handleRequest(state, {
      method: request.method,
      url: new URL(request.url),
      body: parsed.body,
      source: request.headers.get(SOURCE_HEADER) ?? "local",
    });
    return toResponse(output, request.headers.get(TRANSPORT_HEADER), state.clock.now());
  };
  const handlers = (Object.keys(CPAPI_OPERATIONS) as CpapiOperationId[]).map((id) => {
    const operation = CPAPI_OPERATIONS[id];
    const path = operation.path.replace(/\{([^}]+)\}/g, ":$1");
    return METHODS[operation.method](`*${API_PREFIX}${path}`, resolver);
  });
  // GET /logout is answered too, and anything else under the API prefix is a 404 from the gateway.
  handlers.push(http.get(`*${API_PREFIX}/logout`, resolver), http.all(`*${API_PREFIX}/*`, resolver));
  return handlers;
}
