// The pairing endpoints on the remote gateway's HTTP server: POST /relay/pair (claim a code) and POST
// /relay/unpair (a sidecar ends its pairing). A route for node:http: it answers its two paths and returns
// false for anything else, so the server can go on to /mcp. It takes no bearer token (the code, or the
// pairing's key, is the credential) and must sit behind the server's pre-auth per-address rate limit.
// Bodies are small JSON objects; the reader is the server's own (readJsonBody), handed in.
import type { IncomingMessage, ServerResponse } from "node:http";
import { ERROR_CATALOGUE } from "../../generated/errors.gen.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { GatewayError, toGatewayError, toWireError } from "../core/gateway-error.ts";
import { uuidv7 } from "../core/ids.ts";
import type { ClaimMeta, PairingEndpoints } from "./pairing-claim.ts";

export const PAIRING_CLAIM_PATH = "/relay/pair";
export const PAIRING_UNPAIR_PATH = "/relay/unpair";
/** A claim or unpair request is a few hundred bytes. */
export const PAIRING_MAX_BODY_BYTES = 8192;

export type BodyReader = (
  req: IncomingMessage,
  maxBytes: number,
) => Promise<
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: "too_large" | "invalid_json" | "aborted" }
>;

export interface PairingHttpResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface PairingHttpRouteOptions {
  readonly endpoints: PairingEndpoints;
  readonly readBody: BodyReader;
  readonly maxBodyBytes?: number;
  readonly clock?: Clock;
  /** The server's session id for audit events (ses_...); default one of this route's own. */
  readonly sessionId?: string;
}

function errorResponse(thrown: unknown): PairingHttpResponse {
  const error = toGatewayError(thrown);
  return { status: ERROR_CATALOGUE[error.code].http, body: { error: toWireError(error) } };
}

/** The pure handler of one request body: the answer to send, never a thrown error. */
export function handlePairingRequest(
  endpoints: PairingEndpoints,
  kind: "claim" | "unpair",
  body: unknown,
  meta: ClaimMeta,
): PairingHttpResponse {
  try {
    const answer = kind === "claim" ? endpoints.claim(body, meta) : endpoints.unpair(body, meta);
    return { status: 200, body: { ...answer } };
  } catch (error) {
    return errorResponse(error);
  }
}

/** handlePairingRequest for a claim body: what POST /relay/pair answers. */
export function handlePairingClaim(
  endpoints: PairingEndpoints,
  body: unknown,
  meta: ClaimMeta,
): PairingHttpResponse {
  return handlePairingRequest(endpoints, "claim", body, meta);
}

function send(res: ServerResponse, response: PairingHttpResponse): void {
  const text = JSON.stringify(response.body);
  res.writeHead(response.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

export function createPairingHttpRoute(
  options: PairingHttpRouteOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const clock = options.clock ?? systemClock;
  const sessionId = options.sessionId ?? `ses_${uuidv7(clock)}`;
  const maxBytes = options.maxBodyBytes ?? PAIRING_MAX_BODY_BYTES;
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://relay.invalid").pathname;
    const kind = path === PAIRING_CLAIM_PATH ? "claim" : path === PAIRING_UNPAIR_PATH ? "unpair" : undefined;
    if (kind === undefined) return false;
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      const refusal = errorResponse(
        new GatewayError("INPUT_INVALID_ARGUMENT", { message: `${path} takes POST only.` }),
      );
      send(res, { status: 405, body: refusal.body });
      return true;
    }
    const body = await options.readBody(req, maxBytes);
    if (!body.ok) {
      send(
        res,
        errorResponse(
          body.reason === "too_large"
            ? new GatewayError("INPUT_TOO_LARGE")
            : new GatewayError("INPUT_INVALID_ARGUMENT", { message: "The request body is not JSON." }),
        ),
      );
      return true;
    }
    send(
      res,
      handlePairingRequest(options.endpoints, kind, body.value, {
        requestId: `req_${uuidv7(clock)}`,
        sessionId,
      }),
    );
    return true;
  };
}
