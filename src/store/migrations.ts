// Numbered schema migrations. Each runs once, in its own BEGIN IMMEDIATE transaction that re-reads the
// version inside the lock, so two processes opening a new store at the same moment apply it exactly once.
// Account ids appear only as HMAC hashes (account_id_hash); times are Unix milliseconds unless named *_iso.
import type { DatabaseSync } from "node:sqlite";
import { GatewayError } from "../core/gateway-error.ts";

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      "audit chain, checkpoints, key registry, previews, approvals, idempotency, safety state, backlog",
    sql: `
      -- The chain. payload is the JCS canonical JSON that chain_hash covers, stored byte for byte; the other
      -- columns are copies for filtering and are never trusted over the payload. No secondary index besides
      -- event_id (version 4 drops that one too): every index is another page written and synced per append,
      -- and the rare range queries (export, purge) walk the rowid order, which follows time.
      CREATE TABLE audit_events (
        sequence INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        event_type TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        key_id TEXT NOT NULL,
        request_id TEXT NOT NULL,
        account_id_hash TEXT,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        chain_hash TEXT NOT NULL
      ) STRICT;

      -- Signed heads. A row covers the chain up to and including sequence. kind purge_base marks the base
      -- a purge left behind (verification starts from it).
      CREATE TABLE audit_checkpoints (
        sequence INTEGER PRIMARY KEY,
        chain_hash TEXT NOT NULL,
        key_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('periodic', 'manual', 'rotation', 'purge', 'purge_base')),
        event_id TEXT NOT NULL,
        created_at_iso TEXT NOT NULL,
        signature TEXT NOT NULL
      ) STRICT;

      -- Checkpoints a full verification (or a tail verification linked to an earlier one) reached.
      CREATE TABLE audit_verified_marks (
        sequence INTEGER PRIMARY KEY,
        chain_hash TEXT NOT NULL,
        key_id TEXT NOT NULL,
        verified_at_iso TEXT NOT NULL,
        signature TEXT NOT NULL
      ) STRICT;

      -- Key generations known to this store: ids and fingerprints, never secrets.
      CREATE TABLE audit_keys (
        key_id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        registered_at_iso TEXT NOT NULL
      ) STRICT;

      CREATE TABLE previews (
        preview_id TEXT PRIMARY KEY,
        account_id_hash TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE approvals (
        approval_id TEXT PRIMARY KEY,
        preview_id TEXT NOT NULL REFERENCES previews (preview_id),
        account_id_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'consumed', 'revoked')),
        approved_by TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER,
        revoked_at INTEGER,
        revoked_by TEXT
      ) STRICT;
      CREATE INDEX approvals_preview ON approvals (preview_id);

      CREATE TABLE idempotency_records (
        idempotency_key_hash TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        operation TEXT NOT NULL,
        account_id_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending_writer', 'submitted', 'failed_after_writer')),
        client_order_id TEXT,
        broker_order_id TEXT,
        result TEXT,
        failure TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE kill_switch (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        engaged INTEGER NOT NULL CHECK (engaged IN (0, 1)),
        changed_by TEXT,
        reason TEXT,
        event_id TEXT,
        changed_at INTEGER
      ) STRICT;
      INSERT INTO kill_switch (id, engaged) VALUES (1, 0);

      CREATE TABLE live_arming (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        armed INTEGER NOT NULL CHECK (armed IN (0, 1)),
        changed_by TEXT,
        cause TEXT,
        event_id TEXT,
        armed_at INTEGER,
        changed_at INTEGER
      ) STRICT;
      INSERT INTO live_arming (id, armed) VALUES (1, 0);

      CREATE TABLE order_backlog (
        account_id_hash TEXT NOT NULL,
        broker_order_id TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
        last_status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_polled_at INTEGER,
        PRIMARY KEY (account_id_hash, broker_order_id)
      ) STRICT;

      CREATE TABLE order_groups (
        group_id TEXT PRIMARY KEY,
        account_id_hash TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: "order workflows: idempotency context and one use per approval, backlog links, order ledger",
    sql: `
      -- What a pending write needs to be settled after a crash, without a raw account id or idempotency key:
      -- the mode, the approval it holds, the request that started it, the process that owns it, the cOIDs it
      -- sent (context), and how a failed record was settled (resolution decides whether the same key may
      -- try again: only when nothing can have reached the broker).
      ALTER TABLE idempotency_records ADD COLUMN mode TEXT CHECK (mode IN ('paper', 'live'));
      ALTER TABLE idempotency_records ADD COLUMN approval_id TEXT;
      ALTER TABLE idempotency_records ADD COLUMN origin_request_id TEXT;
      ALTER TABLE idempotency_records ADD COLUMN owner TEXT;
      ALTER TABLE idempotency_records ADD COLUMN context TEXT;
      ALTER TABLE idempotency_records ADD COLUMN resolution TEXT;
      -- An approval backs at most one write that may have reached the broker, whatever key the callers use:
      -- two concurrent submits with one approval and two keys cannot both get past the pending row.
      CREATE UNIQUE INDEX idempotency_one_write_per_approval ON idempotency_records (approval_id)
        WHERE approval_id IS NOT NULL AND status <> 'failed_after_writer';
      CREATE INDEX idempotency_pending ON idempotency_records (status) WHERE status = 'pending_writer';

      ALTER TABLE order_backlog ADD COLUMN client_order_id TEXT;
      ALTER TABLE order_backlog ADD COLUMN origin_request_id TEXT;
      ALTER TABLE order_backlog ADD COLUMN role TEXT;

      -- One row per write that reached the broker, for the live limit counters (trading day, frequency
      -- window, notional) and for reports; the idempotency records hold results, this holds what counts.
      CREATE TABLE order_ledger (
        id INTEGER PRIMARY KEY,
        account_id_hash TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
        operation TEXT NOT NULL CHECK (operation IN ('submit', 'bracket_submit', 'modify')),
        trading_day TEXT NOT NULL,
        submitted_at INTEGER NOT NULL,
        orders INTEGER NOT NULL CHECK (orders >= 1),
        notional TEXT NOT NULL,
        currency TEXT NOT NULL,
        idempotency_key_hash TEXT NOT NULL UNIQUE
      ) STRICT;
      CREATE INDEX order_ledger_account ON order_ledger (account_id_hash, mode, trading_day, submitted_at);

      -- Arming covers the live configuration it was given under; a different one later disarms.
      ALTER TABLE live_arming ADD COLUMN config_hash TEXT;

      -- Wrong operator PINs, to throttle guessing (times only; never the PIN or who typed it).
      CREATE TABLE operator_pin_failures (at INTEGER NOT NULL) STRICT;
    `,
  },
  {
    version: 3,
    description: "sidecar relay: pairings (remote side), the paired remote (sidecar side), relay status",
    sql: `
      -- Remote gateway: one row per pairing code the operator issued, through claim, approval and its end.
      -- The code itself is never stored: code_lookup is its public first group (to find the row and count
      -- wrong attempts), code_hash a keyed hash of the whole code. The user is the remote MCP principal
      -- (oauth:<keyed hash of issuer and subject>), never the raw subject. The sidecar's public key is
      -- public material (raw Ed25519, base64url); private keys never reach a store.
      CREATE TABLE relay_pairings (
        pairing_id TEXT PRIMARY KEY,
        code_lookup TEXT NOT NULL,
        code_hash TEXT NOT NULL,
        user_principal TEXT NOT NULL,
        remote_instance_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'claimed', 'active', 'revoked', 'expired', 'locked')),
        attempts INTEGER NOT NULL DEFAULT 0,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        code_expires_at INTEGER NOT NULL,
        sidecar_id TEXT,
        sidecar_public_key TEXT,
        public_key_sha256 TEXT,
        sidecar_tiers TEXT,
        claimed_at INTEGER,
        approve_before INTEGER,
        approved_at INTEGER,
        approved_by TEXT,
        expires_at INTEGER,
        ended_at INTEGER,
        ended_by TEXT,
        end_reason TEXT
      ) STRICT;
      -- A lookup group is unique among the codes that can still be claimed; ended rows may repeat it.
      CREATE UNIQUE INDEX relay_pairings_open_code ON relay_pairings (code_lookup) WHERE status = 'pending';
      CREATE INDEX relay_pairings_user ON relay_pairings (user_principal, status);
      -- One key, at most one approved pairing: a newer approval of the same key ends the older one.
      CREATE UNIQUE INDEX relay_pairings_active_key ON relay_pairings (public_key_sha256) WHERE status = 'active';

      -- Sidecar: the remote gateway(s) this sidecar paired with, with the remote's public key so the sidecar
      -- can check that messages come from the remote it paired with.
      CREATE TABLE relay_remotes (
        pairing_id TEXT PRIMARY KEY,
        remote_url TEXT NOT NULL,
        remote_instance_id TEXT NOT NULL,
        remote_public_key TEXT NOT NULL,
        sidecar_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('claimed', 'active', 'revoked')),
        claimed_at INTEGER NOT NULL,
        approve_before INTEGER,
        approved_at INTEGER,
        expires_at INTEGER,
        ended_at INTEGER,
        ended_by TEXT,
        end_reason TEXT
      ) STRICT;

      -- What a running relay process (sidecar run, or the remote's relay endpoint) last reported, so that
      -- "sidecar status" in another process can show the session, the last heartbeat and the calls in flight.
      CREATE TABLE relay_status (
        pairing_id TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('sidecar', 'remote')),
        relay_session_id TEXT,
        state TEXT NOT NULL,
        connected_at INTEGER,
        last_heartbeat_at INTEGER,
        in_flight INTEGER NOT NULL DEFAULT 0,
        process_id INTEGER,
        detail TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (pairing_id, side)
      ) STRICT;
    `,
  },
  {
    version: 4,
    description: "audit chain without the event_id index",
    sql: `
      -- No query looks events up by event_id through an index (export and review filter the verified log
      -- as they walk it), and a UUIDv7 from our own generator does not repeat: the UNIQUE index of version 1
      -- only cost a b-tree page written and synced on every append, about a fifth of the WAL pages of an
      -- order flow. The chain hash covers event_id, so a duplicated or edited id is still caught by
      -- verification. Rebuilding is the only way SQLite drops a column constraint: one copy of the log, in
      -- the migration's transaction, so a crash leaves the store at version 3 and the next open tries again.
      CREATE TABLE audit_events_v4 (
        sequence INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        key_id TEXT NOT NULL,
        request_id TEXT NOT NULL,
        account_id_hash TEXT,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        chain_hash TEXT NOT NULL
      ) STRICT;
      INSERT INTO audit_events_v4 (sequence, event_id, event_type, timestamp, key_id, request_id,
          account_id_hash, payload, prev_hash, chain_hash)
        SELECT sequence, event_id, event_type, timestamp, key_id, request_id, account_id_hash, payload,
          prev_hash, chain_hash
        FROM audit_events ORDER BY sequence;
      DROP TABLE audit_events;
      ALTER TABLE audit_events_v4 RENAME TO audit_events;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

function currentVersion(db: DatabaseSync): number {
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as
    | { version: number | null }
    | undefined;
  return row?.version ?? 0;
}

function tooNew(version: number): GatewayError {
  return new GatewayError("AUDIT_WRITE_FAILED", {
    message: `The store has schema version ${version}, newer than this gateway understands (${LATEST_SCHEMA_VERSION}).`,
    userAction: "Upgrade ibkr-agent-gateway, or point it at a store written by this version.",
    retryable: false,
  });
}

/** Applies pending migrations; returns the schema version afterwards. Safe to call on every open. */
export function applyMigrations(db: DatabaseSync, nowIso: string): number {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at_iso TEXT NOT NULL) STRICT",
  );
  if (currentVersion(db) >= LATEST_SCHEMA_VERSION) return checkedVersion(db);
  db.exec("BEGIN IMMEDIATE");
  try {
    const insert = db.prepare(
      "INSERT INTO schema_version (version, description, applied_at_iso) VALUES (?, ?, ?)",
    );
    let version = currentVersion(db);
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue;
      db.exec(migration.sql);
      insert.run(migration.version, migration.description, nowIso);
      version = migration.version;
    }
    db.exec("COMMIT");
    return version;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** For read-only opens: the store must already be at the version this code reads. */
export function checkedVersion(db: DatabaseSync): number {
  let version = 0;
  try {
    version = currentVersion(db);
  } catch {
    version = 0;
  }
  if (version > LATEST_SCHEMA_VERSION) throw tooNew(version);
  if (version < LATEST_SCHEMA_VERSION) {
    throw new GatewayError("AUDIT_WRITE_FAILED", {
      message: `The store has schema version ${version}; this gateway needs ${LATEST_SCHEMA_VERSION}.`,
      userAction: "Open the store once without read-only mode so its migrations run.",
      retryable: false,
    });
  }
  return version;
}
