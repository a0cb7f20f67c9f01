// Stored order previews: what an approval and a submit are bound to.
import type { DatabaseSync } from "node:sqlite";
import { type AccountMode, checkHash, checkMode, parse, storedPayload } from "./common.ts";

export interface PreviewRecord {
  readonly previewId: string;
  readonly accountIdHash: string;
  readonly mode: AccountMode;
  readonly payload: unknown;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface Previews {
  insert(record: PreviewRecord): void;
  get(previewId: string): PreviewRecord | null;
}

interface PreviewRow {
  preview_id: string;
  account_id_hash: string;
  mode: AccountMode;
  payload: string;
  created_at: number;
  expires_at: number;
}

export function createPreviews(db: DatabaseSync): Previews {
  const insert = db.prepare(
    "INSERT INTO previews (preview_id, account_id_hash, mode, payload, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const select = db.prepare("SELECT * FROM previews WHERE preview_id = ?");
  return {
    insert(record) {
      checkHash("accountIdHash", record.accountIdHash);
      checkMode(record.mode);
      insert.run(
        record.previewId,
        record.accountIdHash,
        record.mode,
        storedPayload("payload", record.payload),
        record.createdAt,
        record.expiresAt,
      );
    },
    get(previewId) {
      const row = select.get(previewId) as PreviewRow | undefined;
      if (!row) return null;
      return {
        previewId: row.preview_id,
        accountIdHash: row.account_id_hash,
        mode: row.mode,
        payload: parse(row.payload),
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      };
    },
  };
}
