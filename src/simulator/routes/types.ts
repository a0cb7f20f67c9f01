// The shape of one simulated endpoint: a decoded request in, a status and body out. The request pipeline
// (gateway.ts) has already applied pacing, session and pre-flight rules by the time a route runs.
import type { SimulatorState } from "../state.ts";

export interface SimRequest {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly now: number;
  readonly sequence: number;
  readonly source: string;
}

export interface SimResponse {
  readonly status: number;
  /** JSON body (ignored when text is set). */
  readonly body?: unknown;
  /** Plain-text body, for the answers the gateway sends as text. */
  readonly text?: string;
}

export type Route = (request: SimRequest, state: SimulatorState) => SimResponse;

export function ok(body: unknown): SimResponse {
  return { status: 200, body };
}

/** The gateway's error body; statusCode is repeated in the body only where the gateway does so. */
export function fail(status: number, error: string, withStatusCode = false): SimResponse {
  return { status, body: withStatusCode ? { error, statusCode: status } : { error } };
}

export function badRequest(problem: string): SimResponse {
  return fail(400, `Bad Request: ${problem}`, true);
}

export const SERVER_INFO = {
  serverName: "JifN00000",
  serverVersion: "Build 10.37.1c, Oct 21, 2025 3:52:07 PM",
} as const;

export function integerParam(value: string | null | undefined): number | null {
  if (value === null || value === undefined || !/^-?\d+$/.test(value.trim())) return null;
  return Number(value);
}
