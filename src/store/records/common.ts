// Shared rules of the order-side records: they take account id HASHES only and refuse payloads that still
// hold a raw account id, so "raw account ids never reach the store" holds by construction. Times are Unix
// milliseconds. Payloads are stored as JCS.
import { GatewayError } from "../../core/gateway-error.ts";
import { canonicalJson } from "../jcs.ts";
import { findRawAccountIds } from "../redaction.ts";

export type AccountMode = "paper" | "live";

const DIGEST = /^[0-9a-f]{64}$/;

export function refuse(message: string): GatewayError {
  return new GatewayError("INTERNAL_ERROR", { message: `Store write refused: ${message}` });
}

export function checkHash(name: string, value: string): void {
  if (typeof value !== "string" || !DIGEST.test(value)) {
    throw refuse(`${name} must be a 64-character lowercase hex hash (never a raw id)`);
  }
}

export function checkMode(mode: string): void {
  if (mode !== "paper" && mode !== "live") throw refuse("mode must be paper or live");
}

export function storedPayload(name: string, payload: unknown): string {
  const raw = findRawAccountIds(payload, name);
  if (raw.length > 0) throw refuse(`${name} holds a raw account id at ${raw.slice(0, 5).join(", ")}`);
  return canonicalJson(payload);
}

export function parse<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
