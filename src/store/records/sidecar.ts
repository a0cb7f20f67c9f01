// The sidecar relay's records: pairings on the remote gateway, the paired remote on the sidecar, and the
// status a running relay process reports for `sidecar status` in other processes. State changes are single
// conditional UPDATEs, so two processes racing on one pairing (two claims, an approval and a revoke) cannot
// both win. The rules of the lifecycle live in src/sidecar/pairing.ts; these only keep the rows honest: no
// code, no raw subject and no private key is accepted. Times are Unix milliseconds.
import type { DatabaseSync } from "node:sqlite";
import { checkHash, refuse } from "./common.ts";

export type PairingStatus = "pending" | "claimed" | "active" | "revoked" | "expired" | "locked";

/** Who ended a pairing, as relay_pairing_revoked names it. */
export type PairingEndedBy = "remote_operator" | "sidecar_owner" | "expiry" | "attempts";

export interface PairingRecord {
  readonly pairingId: string;
  /** The public first group of the code (finds the row; not a secret on its own). */
  readonly codeLookup: string;
  /** Keyed hash of the whole code. */
  readonly codeHash: string;
  /** The remote MCP principal the pairing serves (oauth:<hash>), never the raw subject. */
  readonly userPrincipal: string;
  readonly remoteInstanceId: string;
  readonly status: PairingStatus;
  readonly attempts: number;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly codeExpiresAt: number;
  readonly sidecarId: string | null;
  /** Raw Ed25519 public key, base64url (public material). */
  readonly sidecarPublicKey: string | null;
  readonly publicKeySha256: string | null;
  /** Tiers the sidecar said it accepts when it claimed (informational; the sidecar enforces its own). */
  readonly sidecarTiers: readonly string[] | null;
  readonly claimedAt: number | null;
  readonly approveBefore: number | null;
  readonly approvedAt: number | null;
  readonly approvedBy: string | null;
  readonly expiresAt: number | null;
  readonly endedAt: number | null;
  readonly endedBy: PairingEndedBy | null;
  readonly endReason: string | null;
}

export interface NewPairing {
  readonly pairingId: string;
  readonly codeLookup: string;
  readonly codeHash: string;
  readonly userPrincipal: string;
  readonly remoteInstanceId: string;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly codeExpiresAt: number;
}

export interface PairingClaim {
  readonly sidecarId: string;
  readonly sidecarPublicKey: string;
  readonly publicKeySha256: string;
  readonly sidecarTiers: readonly string[];
  readonly claimedAt: number;
  readonly approveBefore: number;
}

export interface Pairings {
  insert(pairing: NewPairing): void;
  get(pairingId: string): PairingRecord | null;
  /** The pending pairing whose code starts with this group, if any (expired or not). */
  pendingByLookup(codeLookup: string): PairingRecord | null;
  /** Counts a wrong code; locks the pairing at maxAttempts. Returns the attempts so far and whether it locked. */
  recordWrongCode(pairingId: string, maxAttempts: number, at: number): { attempts: number; locked: boolean };
  /** pending -> claimed while the code is valid; false when another claim (or expiry) came first. */
  claim(pairingId: string, claim: PairingClaim): boolean;
  /**
   * claimed -> active while the approval window is open; ends an older active pairing of the same key in
   * the same step (the caller runs this inside a store transaction and audits both). Returns the id of the
   * pairing it replaced, or false when the approval did not apply.
   */
  approve(
    pairingId: string,
    approval: { at: number; by: string; expiresAt: number },
  ): { replaced: string | null } | false;
  /** Ends a pairing that has not ended yet (pending, claimed or active); false when it had. */
  end(
    pairingId: string,
    end: { at: number; by: PairingEndedBy; reason: string; status: "revoked" | "expired" },
  ): boolean;
  /** Newest first. */
  list(filter?: {
    statuses?: readonly PairingStatus[];
    userPrincipal?: string;
    limit?: number;
  }): PairingRecord[];
  /** Active pairings of one user that have not expired at `now`, newest approval first. */
  activeForUser(userPrincipal: string, now: number): PairingRecord[];
  /** The active, unexpired pairing of a sidecar key (raw base64url), if any. */
  activeByPublicKey(sidecarPublicKey: string, now: number): PairingRecord | null;
  /** Rows whose time ran out but whose status does not say so yet (for the expiry sweep). */
  overdue(now: number): PairingRecord[];
}

interface PairingRow {
  pairing_id: string;
  code_lookup: string;
  code_hash: string;
  user_principal: string;
  remote_instance_id: string;
  status: PairingStatus;
  attempts: number;
  created_by: string;
  created_at: number;
  code_expires_at: number;
  sidecar_id: string | null;
  sidecar_public_key: string | null;
  public_key_sha256: string | null;
  sidecar_tiers: string | null;
  claimed_at: number | null;
  approve_before: number | null;
  approved_at: number | null;
  approved_by: string | null;
  expires_at: number | null;
  ended_at: number | null;
  ended_by: PairingEndedBy | null;
  end_reason: string | null;
}

const PRINCIPAL = /^oauth:[0-9a-f]{64}$/;
const RAW_PUBLIC_KEY = /^[A-Za-z0-9_-]{43}$/;
const ID = /^[a-z]{2,8}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkId(name: string, value: string): void {
  if (typeof value !== "string" || !ID.test(value)) throw refuse(`${name} must be a prefixed UUID`);
}

function checkPrincipal(value: string): void {
  if (typeof value !== "string" || !PRINCIPAL.test(value)) {
    throw refuse("userPrincipal must be a principal (oauth:<hash>), never a raw subject");
  }
}

function checkPublicKey(value: string): void {
  if (typeof value !== "string" || !RAW_PUBLIC_KEY.test(value)) {
    throw refuse("a public key must be a raw Ed25519 key in base64url (never a private key)");
  }
}

export function createPairings(db: DatabaseSync): Pairings {
  const insert = db.prepare(
    `INSERT INTO relay_pairings (pairing_id, code_lookup, code_hash, user_principal, remote_instance_id, status,
       created_by, created_at, code_expires_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
  );
  const select = db.prepare("SELECT * FROM relay_pairings WHERE pairing_id = ?");
  const byLookup = db.prepare("SELECT * FROM relay_pairings WHERE code_lookup = ? AND status = 'pending'");
  const wrongCode = db.prepare(
    `UPDATE relay_pairings SET attempts = attempts + 1,
       status = CASE WHEN attempts + 1 >= ? THEN 'locked' ELSE status END,
       ended_at = CASE WHEN attempts + 1 >= ? THEN ? ELSE ended_at END,
       ended_by = CASE WHEN attempts + 1 >= ? THEN 'attempts' ELSE ended_by END
     WHERE pairing_id = ? AND status = 'pending' RETURNING attempts, status`,
  );
  const claim = db.prepare(
    `UPDATE relay_pairings SET status = 'claimed', sidecar_id = ?, sidecar_public_key = ?, public_key_sha256 = ?,
       sidecar_tiers = ?, claimed_at = ?, approve_before = ?
     WHERE pairing_id = ? AND status = 'pending' AND code_expires_at > ?`,
  );
  const activeOfKey = db.prepare(
    "SELECT pairing_id FROM relay_pairings WHERE public_key_sha256 = ? AND status = 'active' AND pairing_id <> ?",
  );
  const endReplaced = db.prepare(
    `UPDATE relay_pairings SET status = 'revoked', ended_at = ?, ended_by = 'remote_operator', end_reason = ?
     WHERE pairing_id = ? AND status = 'active'`,
  );
  const approve = db.prepare(
    `UPDATE relay_pairings SET status = 'active', approved_at = ?, approved_by = ?, expires_at = ?
     WHERE pairing_id = ? AND status = 'claimed' AND approve_before > ?`,
  );
  const end = db.prepare(
    `UPDATE relay_pairings SET status = ?, ended_at = ?, ended_by = ?, end_reason = ?
     WHERE pairing_id = ? AND status IN ('pending', 'claimed', 'active')`,
  );
  const activeOfUser = db.prepare(
    `SELECT * FROM relay_pairings WHERE user_principal = ? AND status = 'active' AND expires_at > ?
     ORDER BY approved_at DESC, rowid DESC`,
  );
  const activeByKey = db.prepare(
    "SELECT * FROM relay_pairings WHERE sidecar_public_key = ? AND status = 'active' AND expires_at > ?",
  );
  const overdue = db.prepare(
    `SELECT * FROM relay_pairings WHERE (status = 'pending' AND code_expires_at <= ?)
       OR (status = 'claimed' AND approve_before <= ?) OR (status = 'active' AND expires_at <= ?)
     ORDER BY created_at, rowid`,
  );
  const all = db.prepare("SELECT * FROM relay_pairings ORDER BY created_at DESC, rowid DESC LIMIT ?");
  return {
    insert(pairing) {
      checkId("pairingId", pairing.pairingId);
      checkId("remoteInstanceId", pairing.remoteInstanceId);
      checkHash("codeHash", pairing.codeHash);
      checkPrincipal(pairing.userPrincipal);
      if (!/^[A-Z2-7]{4}$/.test(pairing.codeLookup)) throw refuse("codeLookup must be one code group");
      if (!(pairing.codeExpiresAt > pairing.createdAt)) throw refuse("a code must expire after it is issued");
      insert.run(
        pairing.pairingId,
        pairing.codeLookup,
        pairing.codeHash,
        pairing.userPrincipal,
        pairing.remoteInstanceId,
        pairing.createdBy,
        pairing.createdAt,
        pairing.codeExpiresAt,
      );
    },
    get(pairingId) {
      const row = select.get(pairingId) as PairingRow | undefined;
      return row ? toPairing(row) : null;
    },
    pendingByLookup(codeLookup) {
      const row = byLookup.get(codeLookup) as PairingRow | undefined;
      return row ? toPairing(row) : null;
    },
    recordWrongCode(pairingId, maxAttempts, at) {
      const row = wrongCode.get(maxAttempts, maxAttempts, at, maxAttempts, pairingId) as
        | { attempts: number; status: PairingStatus }
        | undefined;
      return row === undefined
        ? { attempts: 0, locked: false }
        : { attempts: row.attempts, locked: row.status === "locked" };
    },
    claim(pairingId, c) {
      checkId("sidecarId", c.sidecarId);
      checkPublicKey(c.sidecarPublicKey);
      checkHash("publicKeySha256", c.publicKeySha256);
      const changes = claim.run(
        c.sidecarId,
        c.sidecarPublicKey,
        c.publicKeySha256,
        JSON.stringify([...c.sidecarTiers]),
        c.claimedAt,
        c.approveBefore,
        pairingId,
        c.claimedAt,
      ).changes;
      return Number(changes) === 1;
    },
    approve(pairingId, approval) {
      const current = select.get(pairingId) as PairingRow | undefined;
      if (current === undefined || current.public_key_sha256 === null) return false;
      const older = activeOfKey.get(current.public_key_sha256, pairingId) as
        | { pairing_id: string }
        | undefined;
      if (older !== undefined) {
        endReplaced.run(approval.at, `replaced by ${pairingId}`, older.pairing_id);
      }
      const changes = approve.run(
        approval.at,
        approval.by,
        approval.expiresAt,
        pairingId,
        approval.at,
      ).changes;
      if (Number(changes) !== 1) return false;
      return { replaced: older?.pairing_id ?? null };
    },
    end(pairingId, e) {
      const changes = end.run(e.status, e.at, e.by, e.reason.slice(0, 500), pairingId).changes;
      return Number(changes) === 1;
    },
    list(filter = {}) {
      const limit = Math.min(Math.max(filter.limit ?? 200, 1), 1000);
      // Filters are few and applied in memory over the newest rows: pairings are counted in dozens.
      return (all.all(5000) as unknown as PairingRow[])
        .map(toPairing)
        .filter((p) => filter.statuses === undefined || filter.statuses.includes(p.status))
        .filter((p) => filter.userPrincipal === undefined || p.userPrincipal === filter.userPrincipal)
        .slice(0, limit);
    },
    activeForUser: (userPrincipal, now) =>
      (activeOfUser.all(userPrincipal, now) as unknown as PairingRow[]).map(toPairing),
    activeByPublicKey(sidecarPublicKey, now) {
      const row = activeByKey.get(sidecarPublicKey, now) as PairingRow | undefined;
      return row ? toPairing(row) : null;
    },
    overdue: (now) => (overdue.all(now, now, now) as unknown as PairingRow[]).map(toPairing),
  };
}

function toPairing(row: PairingRow): PairingRecord {
  return {
    pairingId: row.pairing_id,
    codeLookup: row.code_lookup,
    codeHash: row.code_hash,
    userPrincipal: row.user_principal,
    remoteInstanceId: row.remote_instance_id,
    status: row.status,
    attempts: row.attempts,
    createdBy: row.created_by,
    createdAt: row.created_at,
    codeExpiresAt: row.code_expires_at,
    sidecarId: row.sidecar_id,
    sidecarPublicKey: row.sidecar_public_key,
    publicKeySha256: row.public_key_sha256,
    sidecarTiers: row.sidecar_tiers === null ? null : (JSON.parse(row.sidecar_tiers) as string[]),
    claimedAt: row.claimed_at,
    approveBefore: row.approve_before,
    approvedAt: row.approved_at,
    approvedBy: row.approved_by,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    endedBy: row.ended_by,
    endReason: row.end_reason,
  };
}

// --- sidecar side -------------------------------------------------------------------------------

export type RemoteStatus = "claimed" | "active" | "revoked";

export interface RemotePairingRecord {
  readonly pairingId: string;
  /** The remote's relay endpoint as paired (https or wss, no credentials). */
  readonly remoteUrl: string;
  readonly remoteInstanceId: string;
  /** The remote's raw Ed25519 public key, base64url: messages from the remote must verify against it. */
  readonly remotePublicKey: string;
  readonly sidecarId: string;
  readonly status: RemoteStatus;
  readonly claimedAt: number;
  readonly approveBefore: number | null;
  readonly approvedAt: number | null;
  readonly expiresAt: number | null;
  readonly endedAt: number | null;
  readonly endedBy: PairingEndedBy | null;
  readonly endReason: string | null;
}

export interface NewRemotePairing {
  readonly pairingId: string;
  readonly remoteUrl: string;
  readonly remoteInstanceId: string;
  readonly remotePublicKey: string;
  readonly sidecarId: string;
  readonly claimedAt: number;
  readonly approveBefore: number;
}

export interface RemotePairings {
  insert(remote: NewRemotePairing): void;
  get(pairingId: string): RemotePairingRecord | null;
  /** The newest pairing that has not been revoked (claimed or active), if any. */
  current(): RemotePairingRecord | null;
  /** The remote confirmed the approval (at the relay handshake): claimed -> active, with its expiry. */
  markActive(pairingId: string, at: number, expiresAt: number): boolean;
  /** Ends a pairing locally; false when it had ended already. */
  revoke(pairingId: string, end: { at: number; by: PairingEndedBy; reason: string }): boolean;
  /** Newest first. */
  list(limit?: number): RemotePairingRecord[];
}

interface RemoteRow {
  pairing_id: string;
  remote_url: string;
  remote_instance_id: string;
  remote_public_key: string;
  sidecar_id: string;
  status: RemoteStatus;
  claimed_at: number;
  approve_before: number | null;
  approved_at: number | null;
  expires_at: number | null;
  ended_at: number | null;
  ended_by: PairingEndedBy | null;
  end_reason: string | null;
}

export function createRemotePairings(db: DatabaseSync): RemotePairings {
  const insert = db.prepare(
    `INSERT INTO relay_remotes (pairing_id, remote_url, remote_instance_id, remote_public_key, sidecar_id, status,
       claimed_at, approve_before) VALUES (?, ?, ?, ?, ?, 'claimed', ?, ?)`,
  );
  const select = db.prepare("SELECT * FROM relay_remotes WHERE pairing_id = ?");
  const current = db.prepare(
    "SELECT * FROM relay_remotes WHERE status <> 'revoked' ORDER BY claimed_at DESC, rowid DESC LIMIT 1",
  );
  const markActive = db.prepare(
    `UPDATE relay_remotes SET status = 'active', approved_at = COALESCE(approved_at, ?), expires_at = ?
     WHERE pairing_id = ? AND status IN ('claimed', 'active')`,
  );
  const revoke = db.prepare(
    `UPDATE relay_remotes SET status = 'revoked', ended_at = ?, ended_by = ?, end_reason = ?
     WHERE pairing_id = ? AND status <> 'revoked'`,
  );
  const all = db.prepare("SELECT * FROM relay_remotes ORDER BY claimed_at DESC, rowid DESC LIMIT ?");
  return {
    insert(remote) {
      checkId("pairingId", remote.pairingId);
      checkId("remoteInstanceId", remote.remoteInstanceId);
      checkId("sidecarId", remote.sidecarId);
      checkPublicKey(remote.remotePublicKey);
      const url = URL.parse(remote.remoteUrl);
      if (url === null || url.username !== "" || url.password !== "" || url.search !== "") {
        throw refuse("remoteUrl must be a URL without credentials or query");
      }
      insert.run(
        remote.pairingId,
        remote.remoteUrl,
        remote.remoteInstanceId,
        remote.remotePublicKey,
        remote.sidecarId,
        remote.claimedAt,
        remote.approveBefore,
      );
    },
    get(pairingId) {
      const row = select.get(pairingId) as RemoteRow | undefined;
      return row ? toRemote(row) : null;
    },
    current() {
      const row = current.get() as RemoteRow | undefined;
      return row ? toRemote(row) : null;
    },
    markActive: (pairingId, at, expiresAt) => Number(markActive.run(at, expiresAt, pairingId).changes) === 1,
    revoke: (pairingId, e) => Number(revoke.run(e.at, e.by, e.reason.slice(0, 500), pairingId).changes) === 1,
    list: (limit = 100) =>
      (all.all(Math.min(Math.max(limit, 1), 1000)) as unknown as RemoteRow[]).map(toRemote),
  };
}

function toRemote(row: RemoteRow): RemotePairingRecord {
  return {
    pairingId: row.pairing_id,
    remoteUrl: row.remote_url,
    remoteInstanceId: row.remote_instance_id,
    remotePublicKey: row.remote_public_key,
    sidecarId: row.sidecar_id,
    status: row.status,
    claimedAt: row.claimed_at,
    approveBefore: row.approve_before,
    approvedAt: row.approved_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    endedBy: row.ended_by,
    endReason: row.end_reason,
  };
}

// --- relay status (written by the running relay process, read by `sidecar status`) ---------------

export type RelaySide = "sidecar" | "remote";

export interface RelayStatusRecord {
  readonly pairingId: string;
  readonly side: RelaySide;
  readonly relaySessionId: string | null;
  /** The transport's own vocabulary, e.g. connecting, connected, reconnecting, unavailable, stopped. */
  readonly state: string;
  readonly connectedAt: number | null;
  readonly lastHeartbeatAt: number | null;
  readonly inFlight: number;
  readonly processId: number | null;
  /** A short, non-secret note (e.g. the last close reason). */
  readonly detail: string | null;
  readonly updatedAt: number;
}

export interface RelayStatusTable {
  /** Replaces the row of (pairingId, side). */
  put(status: RelayStatusRecord): void;
  get(pairingId: string, side: RelaySide): RelayStatusRecord | null;
  list(side?: RelaySide): RelayStatusRecord[];
  remove(pairingId: string, side: RelaySide): void;
}

interface StatusRow {
  pairing_id: string;
  side: RelaySide;
  relay_session_id: string | null;
  state: string;
  connected_at: number | null;
  last_heartbeat_at: number | null;
  in_flight: number;
  process_id: number | null;
  detail: string | null;
  updated_at: number;
}

export function createRelayStatus(db: DatabaseSync): RelayStatusTable {
  const put = db.prepare(
    `INSERT OR REPLACE INTO relay_status (pairing_id, side, relay_session_id, state, connected_at,
       last_heartbeat_at, in_flight, process_id, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const select = db.prepare("SELECT * FROM relay_status WHERE pairing_id = ? AND side = ?");
  const all = db.prepare("SELECT * FROM relay_status ORDER BY updated_at DESC");
  const remove = db.prepare("DELETE FROM relay_status WHERE pairing_id = ? AND side = ?");
  return {
    put(s) {
      if (!/^[a-z_]{1,32}$/.test(s.state)) throw refuse("a relay state must be a short lowercase word");
      put.run(
        s.pairingId,
        s.side,
        s.relaySessionId,
        s.state,
        s.connectedAt,
        s.lastHeartbeatAt,
        s.inFlight,
        s.processId,
        s.detail === null ? null : s.detail.slice(0, 200),
        s.updatedAt,
      );
    },
    get(pairingId, side) {
      const row = select.get(pairingId, side) as StatusRow | undefined;
      return row ? toStatus(row) : null;
    },
    list: (side) =>
      (all.all() as unknown as StatusRow[])
        .map(toStatus)
        .filter((s) => side === undefined || s.side === side),
    remove: (pairingId, side) => {
      remove.run(pairingId, side);
    },
  };
}

function toStatus(row: StatusRow): RelayStatusRecord {
  return {
    pairingId: row.pairing_id,
    side: row.side,
    relaySessionId: row.relay_session_id,
    state: row.state,
    connectedAt: row.connected_at,
    lastHeartbeatAt: row.last_heartbeat_at,
    inFlight: row.in_flight,
    processId: row.process_id,
    detail: row.detail,
    updatedAt: row.updated_at,
  };
}
