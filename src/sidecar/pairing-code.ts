// One-time pairing codes: sixteen base32 characters in four groups ("K7QF-3M9X-T2HD-R8WB"), easy to read
// aloud or type, with no 0/O or 1/I to confuse. The first group only finds the pending pairing (so wrong
// attempts can be counted against it); the other three are the secret, 60 random bits, and with at most a
// handful of attempts per code a guess has no realistic chance. The store keeps a keyed hash of the whole
// code, bound to its pairing id, never the code.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Store } from "../store/index.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const GROUPS = 4;
const GROUP = 4;

export interface PairingCode {
  /** As shown to people: four groups joined by dashes. */
  readonly text: string;
  /** The first group, stored in clear to find the pairing. */
  readonly lookup: string;
}

export function newPairingCode(): PairingCode {
  const chars = [...randomBytes(GROUPS * GROUP)].map((byte) => ALPHABET[byte & 31]).join("");
  const text = (chars.match(/.{4}/g) ?? []).join("-");
  return { text, lookup: chars.slice(0, GROUP) };
}

/** A code as typed (any case, spaces or dashes) in its canonical form, or undefined if it cannot be one. */
export function normalizePairingCode(input: unknown): PairingCode | undefined {
  if (typeof input !== "string" || input.length > 64) return undefined;
  const compact = input.toUpperCase().replace(/[\s-]/g, "");
  if (compact.length !== GROUPS * GROUP || ![...compact].every((c) => ALPHABET.includes(c))) return undefined;
  return { text: (compact.match(/.{4}/g) ?? []).join("-"), lookup: compact.slice(0, GROUP) };
}

/** The keyed hash the store keeps: bound to the pairing, so a hash cannot be moved to another row. */
export function pairingCodeHash(store: Store, pairingId: string, code: PairingCode): string {
  return store.hashValue(`relay-pairing-code\u0000${pairingId}\u0000${code.text}`);
}

export function sameCodeHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
