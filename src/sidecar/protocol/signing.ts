// Ed25519 signatures over the exact bytes of each message. A message travels as one frame,
//   {"sig":"<86 base64url characters>","envelope":<the envelope's JSON text>}
// and the signature covers a fixed domain prefix followed by the envelope's JSON text exactly as sent, so a
// signature cannot be moved to another message or another protocol, and neither end has to rebuild a
// canonical form of what it sends or receives: the receiver checks the signature over the bytes it got,
// then parses them once.
import { createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { type Envelope, type MessageType, SIGNING_DOMAIN } from "./messages.ts";

const FRAME_HEAD = '{"sig":"';
const FRAME_MID = '","envelope":';
const SIG_LENGTH = 86;
const SIG = /^[A-Za-z0-9_-]{86}$/;
const TEXT_START = FRAME_HEAD.length + SIG_LENGTH + FRAME_MID.length;

/** One frame's parts: the signature and the envelope's JSON text it covers. */
export interface FrameParts {
  readonly sig: string;
  readonly text: string;
}

function signedBytes(text: string): Buffer {
  return Buffer.from(SIGNING_DOMAIN + text, "utf8");
}

/** The frame of an envelope, signed with the sender's key. */
export function signFrame<T extends MessageType>(envelope: Envelope<T>, privateKey: KeyObject): string {
  const text = JSON.stringify(envelope);
  const sig = sign(null, signedBytes(text), privateKey).toString("base64url");
  return `${FRAME_HEAD}${sig}${FRAME_MID}${text}}`;
}

/** The parts of a frame, or undefined when the text is not laid out exactly as signFrame writes it. */
export function splitFrame(raw: string): FrameParts | undefined {
  if (!raw.startsWith(FRAME_HEAD) || !raw.endsWith("}") || raw.length <= TEXT_START + 1) return undefined;
  const sig = raw.slice(FRAME_HEAD.length, FRAME_HEAD.length + SIG_LENGTH);
  if (!SIG.test(sig) || raw.slice(FRAME_HEAD.length + SIG_LENGTH, TEXT_START) !== FRAME_MID) return undefined;
  return { sig, text: raw.slice(TEXT_START, -1) };
}

/** True when `sig` is this public key's signature of the envelope text. */
export function verifyFrame(parts: FrameParts, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedBytes(parts.text), publicKey, Buffer.from(parts.sig, "base64url"));
  } catch {
    return false;
  }
}

/** An Ed25519 public key from its raw 32 bytes in base64url (the JWK "x"), or undefined when it is not one. */
export function publicKeyFromRaw(x: string): KeyObject | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(x)) return undefined;
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  } catch {
    return undefined;
  }
}

/** The raw 32-byte form (base64url) of an Ed25519 public key, as hello carries it. */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" }) as { crv?: string; x?: string };
  if (jwk.crv !== "Ed25519" || jwk.x === undefined) throw new Error("not an Ed25519 public key");
  return jwk.x;
}
