// The messages the chain key signs. Each starts with its own label so that a signature made for one purpose
// (a checkpoint) can never be presented as another (an anchor, a verified mark, a manifest).
import type { KeyObject } from "node:crypto";
import { hmacHex, sha256Hex } from "./keys.ts";

/** chain_hash = HMAC(chain key, prev_hash + ":" + event_id + ":" + sha256hex(payload)), per the contract. */
export function chainHash(chainKey: KeyObject, prevHash: string, eventId: string, payload: string): string {
  return hmacHex(chainKey, `${prevHash}:${eventId}:${sha256Hex(payload)}`);
}

export type CheckpointKind = "periodic" | "manual" | "rotation" | "purge" | "purge_base";

export const CHECKPOINT_KINDS: readonly CheckpointKind[] = [
  "periodic",
  "manual",
  "rotation",
  "purge",
  "purge_base",
];

/** Signature of a checkpoint row; the kind is signed so a periodic checkpoint cannot be turned into a base. */
export function checkpointRowSignature(
  chainKey: KeyObject,
  row: { sequence: number; chain_hash: string; kind: string; event_id: string; created_at_iso: string },
): string {
  return hmacHex(
    chainKey,
    `checkpoint-row:v1:${row.kind}:${row.sequence}:${row.chain_hash}:${row.event_id}:${row.created_at_iso}`,
  );
}

/** checkpoint_hmac of an audit_checkpoint event: covered sequence, covered chain hash, event timestamp. */
export function checkpointEventHmac(
  chainKey: KeyObject,
  coveredSequence: number,
  coveredChainHash: string,
  timestamp: string,
): string {
  return hmacHex(chainKey, `checkpoint-event:v1:${coveredSequence}:${coveredChainHash}:${timestamp}`);
}

export function anchorSignature(
  chainKey: KeyObject,
  anchor: { sequence: number; chain_hash: string; key_id: string; created_at: string },
): string {
  return hmacHex(
    chainKey,
    `anchor:v1:${anchor.sequence}:${anchor.chain_hash}:${anchor.key_id}:${anchor.created_at}`,
  );
}

export function verifiedMarkSignature(
  chainKey: KeyObject,
  mark: { sequence: number; chain_hash: string; verified_at_iso: string },
): string {
  return hmacHex(chainKey, `verified-mark:v1:${mark.sequence}:${mark.chain_hash}:${mark.verified_at_iso}`);
}

export function manifestSignature(chainKey: KeyObject, canonicalManifest: string): string {
  return hmacHex(chainKey, `export-manifest:v1:${canonicalManifest}`);
}
