// The operator PIN is kept only as an scrypt hash in PHC string form:
//   $scrypt$ln=<log2 N>,r=<block size>,p=<parallelism>$<salt, base64>$<key, base64>
// A PIN is short, so the hash is deliberately slow (N = 2^15 by default) and salted; comparing is done in
// constant time. The config file may hold the hash (it is not the secret), but `config show` redacts it.
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { GatewayError } from "../core/gateway-error.ts";

export interface PinHashParameters {
  readonly ln: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const FORMAT =
  /^\$scrypt\$ln=([0-9]{1,2}),r=([0-9]{1,2}),p=([0-9]{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{32,88})$/;
const LIMITS = { ln: [14, 20], r: [8, 32], p: [1, 16] } as const;
export const MIN_PIN_LENGTH = 6;
const MAX_PIN_LENGTH = 128;

function within(value: number, [low, high]: readonly [number, number]): boolean {
  return value >= low && value <= high;
}

/** The parameters of a PIN hash, or undefined when it is not one this module writes and accepts. */
export function parsePinHash(text: string): PinHashParameters | undefined {
  const match = FORMAT.exec(text);
  if (match === null) return undefined;
  const [, ln, r, p, salt, key] = match;
  const parameters = {
    ln: Number(ln),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt ?? "", "base64"),
    key: Buffer.from(key ?? "", "base64"),
  };
  if (
    !within(parameters.ln, LIMITS.ln) ||
    !within(parameters.r, LIMITS.r) ||
    !within(parameters.p, LIMITS.p)
  ) {
    return undefined;
  }
  if (parameters.salt.length < 16 || parameters.key.length < 32) return undefined;
  return parameters;
}

function derive(pin: string, parameters: Omit<PinHashParameters, "key">, length: number): Buffer {
  const N = 2 ** parameters.ln;
  // Node refuses scrypt above 32 MiB of memory unless told; 128 * N * r is what the algorithm needs.
  return scryptSync(pin.normalize("NFC"), parameters.salt, length, {
    N,
    r: parameters.r,
    p: parameters.p,
    maxmem: 256 * N * parameters.r,
  });
}

function b64(buffer: Buffer): string {
  return buffer.toString("base64").replace(/=+$/, "");
}

/** Hashes a new operator PIN. `ln` is lowered only by tests, to keep them fast. */
export function hashOperatorPin(pin: string, options: { ln?: number } = {}): string {
  if (pin.length < MIN_PIN_LENGTH || pin.length > MAX_PIN_LENGTH || pin.trim() !== pin) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `The operator PIN must be ${MIN_PIN_LENGTH} to ${MAX_PIN_LENGTH} characters without leading or trailing spaces.`,
      details: { field: "pin" },
    });
  }
  const ln = options.ln ?? 15;
  if (!within(ln, LIMITS.ln)) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `The scrypt cost must be ${LIMITS.ln[0]} to ${LIMITS.ln[1]}.`,
      details: { field: "ln" },
    });
  }
  const parameters = { ln, r: 8, p: 1, salt: randomBytes(16) };
  const key = derive(pin, parameters, 32);
  return `$scrypt$ln=${ln},r=8,p=1$${b64(parameters.salt)}$${b64(key)}`;
}

/** True when the PIN matches the hash; false for a wrong PIN or a malformed hash. */
export function verifyOperatorPin(pin: string, hash: string): boolean {
  const parameters = parsePinHash(hash);
  if (parameters === undefined) return false;
  const candidate = derive(pin, parameters, parameters.key.length);
  return timingSafeEqual(candidate, parameters.key);
}
