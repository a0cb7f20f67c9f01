// Text for people of the sidecar commands: the pairing tables, the fingerprint to compare, and the next step
// after each action. --json prints the same data as JSON (the command modules decide which).
import type {
  ClaimedPairing,
  CreatedPairing,
  PairingView,
  RemotePairingView,
  UnpairResult,
} from "../../sidecar/index.ts";
import { facts } from "../render/format.ts";
import { renderTable } from "../render/table.ts";

/** A principal as a table cell: its kind and the start of its hash, enough to tell users apart. */
function shortUser(user: string): string {
  return user.startsWith("oauth:") ? `oauth:${user.slice(6, 18)}…` : user;
}

/** The relay endpoint next to the MCP resource (the same server serves both), for the instructions. */
export function relayUrlHint(resource: string | undefined): string {
  const url = resource === undefined ? null : URL.parse("/relay", resource);
  return url === null ? "https://<this gateway>/relay" : url.href;
}

export function renderCreated(created: CreatedPairing, user: string, relayUrl: string): string {
  const p = created.pairing;
  return [
    `Pairing code for user ${user}: ${created.code}`,
    "",
    facts([
      ["Pairing id", p.pairing_id],
      ["Code valid until", p.code_expires_at],
      ["This gateway's fingerprint", created.remote_fingerprint],
    ]),
    "",
    "Give the code (and this gateway's fingerprint) to the user over a channel you trust. On the machine",
    "that runs their Client Portal Gateway they run:",
    `  ibkr-agent sidecar pair ${created.code} --remote ${relayUrl}`,
    "It prints the sidecar's fingerprint. Compare it with the one in `ibkr-agent sidecar pairing list`, then:",
    `  ibkr-agent sidecar pairing approve ${p.pairing_id} --fingerprint <the sidecar's fingerprint>`,
    "The code is shown only now; it is not stored.",
  ].join("\n");
}

export function renderPairingList(pairings: readonly PairingView[]): string {
  if (pairings.length === 0) {
    return "No pairings. Issue a code with `ibkr-agent sidecar pairing create --user SUBJECT`.";
  }
  const table = renderTable(pairings, [
    { header: "PAIRING", value: (p) => p.pairing_id },
    { header: "STATUS", value: (p) => p.status },
    { header: "USER", value: (p) => shortUser(p.user) },
    { header: "SIDECAR FINGERPRINT", value: (p) => p.fingerprint ?? "-" },
    { header: "TIERS", value: (p) => (p.accepted_tiers ?? []).join(",") || "-" },
    {
      header: "UNTIL",
      value: (p) =>
        p.status === "pending"
          ? p.code_expires_at
          : p.status === "claimed"
            ? (p.approve_before ?? "-")
            : (p.expires_at ?? p.ended_at ?? "-"),
    },
  ]);
  const waiting = pairings.filter((p) => p.status === "claimed");
  const hint =
    waiting.length === 0
      ? ""
      : `\n\n${waiting.length} awaiting approval: compare the fingerprint with the one the sidecar printed, then run\n  ibkr-agent sidecar pairing approve PAIRING --fingerprint FINGERPRINT`;
  return `${table}${hint}`;
}

export function renderApproved(pairing: PairingView, replaced: string | undefined): string {
  return [
    `Approved ${pairing.pairing_id}: the sidecar ${pairing.sidecar_id ?? ""} now serves ${shortUser(pairing.user)} until ${pairing.expires_at ?? "-"}.`,
    ...(replaced !== undefined ? [`It replaces ${replaced}, which is revoked.`] : []),
    "The sidecar connects with `ibkr-agent sidecar run`; revoke at any time with",
    `  ibkr-agent sidecar pairing revoke ${pairing.pairing_id} --reason "..."`,
  ].join("\n");
}

export function renderRevoked(pairing: PairingView, changed: boolean): string {
  return changed
    ? `Revoked ${pairing.pairing_id}. Its relay sessions end; calls of that user get SIDECAR_PAIRING_REQUIRED until a new pairing is approved.`
    : `${pairing.pairing_id} had ended already (${pairing.status}); nothing changed.`;
}

export function renderClaimed(claimed: ClaimedPairing): string {
  return [
    `Claimed pairing ${claimed.pairing.pairing_id} at ${claimed.pairing.remote_url}.`,
    "",
    facts([
      ["This sidecar's fingerprint", claimed.sidecar_fingerprint],
      ["Remote gateway's fingerprint", claimed.remote_fingerprint],
      ["Approve before", claimed.pairing.approve_before],
    ]),
    "",
    "Now compare fingerprints with the remote gateway's operator (by phone or in person, not by a channel an",
    "attacker could change): they must see this sidecar's fingerprint in `ibkr-agent sidecar pairing list`,",
    "and the remote's fingerprint above must be the one they gave you. If both match, they approve with:",
    `  ${claimed.approve_command}`,
    "Then start the relay here with `ibkr-agent sidecar run`.",
  ].join("\n");
}

export function renderUnpaired(result: UnpairResult): string {
  const remote =
    result.remote === "notified"
      ? "The remote gateway was told and revoked it too."
      : result.remote === "not_notified"
        ? "The remote gateway was not told (--local-only); ask its operator to revoke it."
        : `The remote gateway could not be told (${result.remote_error?.code ?? "unknown"}): ask its operator to run \`ibkr-agent sidecar pairing revoke ${result.pairing.pairing_id}\`.`;
  return [
    `Unpaired ${result.pairing.pairing_id} (${result.pairing.remote_url}). This sidecar no longer connects to it.`,
    remote,
  ].join("\n");
}

export interface StatusReport {
  readonly role: "remote" | "sidecar" | "disabled";
  readonly profile: string;
  readonly identity: { readonly fingerprint: string; readonly id: string; readonly key_file: string } | null;
  readonly pairings?: readonly PairingView[];
  readonly pairing?: RemotePairingView | null;
  /** What the running relay process last reported ([transport] hook; null when it never ran). */
  readonly relay?: Record<string, unknown> | null;
  readonly relay_sessions?: readonly Record<string, unknown>[];
  readonly next_step?: string;
}

export function renderStatus(report: StatusReport): string {
  const lines: string[] = [];
  lines.push(
    facts([
      ["Role", report.role === "remote" ? "remote gateway (relay)" : report.role],
      ["Profile", report.profile],
      ["Fingerprint", report.identity?.fingerprint ?? "(no key yet: made by the first pairing)"],
      [report.role === "remote" ? "Instance id" : "Sidecar id", report.identity?.id],
    ]),
  );
  if (report.role === "remote") {
    const active = (report.pairings ?? []).filter((p) => p.status === "active");
    lines.push("", `Active pairings: ${active.length}`);
    if (active.length > 0) lines.push(renderPairingList(active));
    const sessions = report.relay_sessions ?? [];
    lines.push("", sessions.length === 0 ? "Relay sessions: none reported." : "Relay sessions:");
    if (sessions.length > 0) {
      lines.push(
        renderTable(sessions, [
          { header: "PAIRING", value: (s) => String(s.pairing_id ?? "-") },
          { header: "STATE", value: (s) => String(s.state ?? "-") },
          { header: "LAST HEARTBEAT", value: (s) => String(s.last_heartbeat_at ?? "-") },
          { header: "IN FLIGHT", value: (s) => String(s.in_flight ?? 0), align: "right" },
        ]),
      );
    }
  }
  if (report.role === "sidecar") {
    const p = report.pairing;
    lines.push(
      "",
      p === null || p === undefined
        ? "Not paired."
        : facts([
            ["Pairing", `${p.pairing_id} (${p.status})`],
            ["Remote", p.remote_url],
            ["Remote fingerprint", p.remote_fingerprint],
            [
              "Pairing expires",
              p.expires_at ?? (p.status === "claimed" ? "set when the remote confirms" : "-"),
            ],
          ]),
    );
    const relay = report.relay;
    lines.push(
      "",
      relay === null || relay === undefined
        ? "Relay: not running (start it with `ibkr-agent sidecar run`)."
        : facts([
            ["Relay", `${String(relay.state)}${relay.alive === false ? " (process gone)" : ""}`],
            ["Session", relay.relay_session_id ?? "-"],
            ["Last heartbeat", relay.last_heartbeat_received_at ?? relay.last_heartbeat_sent_at ?? "-"],
            ["Calls in flight", relay.in_flight ?? 0],
            ["Updated", relay.updated_at],
          ]),
    );
  }
  if (report.next_step !== undefined) lines.push("", report.next_step);
  return lines.join("\n");
}
