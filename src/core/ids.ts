// Identifiers. Time-ordered UUIDv7 for events and records (sortable, unique across processes), and short
// prefixed ids for things a person copies around (pv_..., ap_...) so the kind of id is visible at a glance.
import { randomFillSync } from "node:crypto";
import { type Clock, systemClock } from "./clock.ts";

// Random bytes come from a pool refilled 4 KiB at a time (as Node's own randomUUID does): every call, audit
// event and record takes an id, and one CSPRNG call per id was a measurable part of a tool call.
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function randomFromPool(size: number): Buffer {
  if (poolOffset + size > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  // A copy, so the caller may change its bytes without touching the pool.
  const bytes = Buffer.from(POOL.subarray(poolOffset, poolOffset + size));
  poolOffset += size;
  return bytes;
}

/** RFC 9562 UUID version 7: 48-bit millisecond timestamp, then random bits. */
export function uuidv7(clock: Clock = systemClock): string {
  const bytes = randomFromPool(16);
  const ms = BigInt(clock.now());
  for (let i = 0; i < 6; i += 1) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A prefixed, time-ordered id such as pv_01JD8X7Q2M3N4P5R6S7T8V9W0X (Crockford base32, 26 characters). */
export function prefixedId(prefix: string, clock: Clock = systemClock): string {
  let ms = clock.now();
  let time = "";
  for (let i = 0; i < 10; i += 1) {
    time = (CROCKFORD[ms % 32] ?? "0") + time;
    ms = Math.floor(ms / 32);
  }
  const random = [...randomFromPool(16)].map((byte) => CROCKFORD[byte % 32]).join("");
  return `${prefix}_${time}${random}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
