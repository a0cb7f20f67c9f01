// The payload hash both sides audit for one forwarded call. It is keyed, because a payload may be little
// more than an account id, and the key is one both ends derive on their own from the session's handshake
// (the challenge and the session id), which neither audit store holds: the two audit rows match, yet
// neither store's holder can test guesses against them. The sidecar recomputes it on arrival and refuses a
// call whose hash does not match what it carries.
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from "node:crypto";
import { canonicalJson } from "../../store/jcs.ts";

// A KeyObject, made once per session: an HMAC keyed by a KeyObject skips importing raw key bytes on every
// call, which costs about ten times the hash of a small payload.
export function payloadHashKey(challenge: string, sessionId: string): KeyObject {
  return createSecretKey(
    Buffer.from(
      hkdfSync("sha256", Buffer.from(challenge, "base64url"), sessionId, "ibkr-agent relay payload hash", 32),
    ),
  );
}

export function payloadHash(key: KeyObject, requestId: string, tool: string, args: unknown): string {
  return createHmac("sha256", key)
    .update(canonicalJson({ request_id: requestId, tool, arguments: args ?? {} }))
    .digest("hex");
}
