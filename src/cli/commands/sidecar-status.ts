// `ibkr-agent sidecar status`: on either end, the relay identity and fingerprint, the pairings (remote) or
// the paired remote (sidecar), and what the running relay process last reported. That last part is written
// by the relay itself, in another process: the sidecar daemon's status file (src/sidecar/relay-status.ts)
// and, on the remote, the relay_status rows of the store. This command only reads.
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../../generated/bindings/cli.gen.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { pairingView, remotePairingView } from "../../sidecar/index.ts";
import { daemonAlive, readSidecarStatus } from "../../sidecar/relay-status.ts";
import type { Output } from "../output.ts";
import { renderStatus, type StatusReport } from "./sidecar-render.ts";
import { type SidecarState, withSidecarState } from "./sidecar-state.ts";

function remoteReport(state: SidecarState): StatusReport {
  const { store, loaded, identity, clock } = state;
  const now = clock.now();
  const pairings = store.relayPairings
    .list({ statuses: ["pending", "claimed", "active"] })
    .map((pairing) => pairingView(pairing, now));
  const sessions = store.relayStatus.list("remote").map((s) => ({
    pairing_id: s.pairingId,
    state: s.state,
    ...(s.relaySessionId !== null ? { relay_session_id: s.relaySessionId } : {}),
    ...(s.lastHeartbeatAt !== null ? { last_heartbeat_at: toRfc3339(s.lastHeartbeatAt) } : {}),
    in_flight: s.inFlight,
    updated_at: toRfc3339(s.updatedAt),
  }));
  return {
    role: "remote",
    profile: loaded.paths.profile,
    identity:
      identity === undefined
        ? null
        : { fingerprint: identity.fingerprint, id: identity.remoteInstanceId, key_file: identity.path },
    pairings,
    relay_sessions: sessions,
    ...(pairings.length === 0
      ? { next_step: "Issue a pairing code with `ibkr-agent sidecar pairing create --user SUBJECT`." }
      : {}),
  };
}

function sidecarReport(state: SidecarState): StatusReport {
  const { store, loaded, identity, clock } = state;
  const current = store.remotePairings.current();
  const status = readSidecarStatus(loaded.paths.profileDir);
  const relay = status === null ? null : { ...status, alive: daemonAlive(status) };
  const pairing = current === null ? null : remotePairingView(current, clock.now());
  const enabled = loaded.config.sidecar.enabled && loaded.config.safety.sidecar_enabled;
  const next = !enabled
    ? "The relay is off: set sidecar.enabled, safety.sidecar_enabled and sidecar.remote_url (docs/sidecar.md)."
    : pairing === null
      ? "Pair with `ibkr-agent sidecar pair CODE` (ask the remote gateway's operator for a code)."
      : relay === null || relay.alive === false
        ? "Start the relay with `ibkr-agent sidecar run`."
        : undefined;
  return {
    role: enabled ? "sidecar" : "disabled",
    profile: loaded.paths.profile,
    identity:
      identity === undefined
        ? null
        : { fingerprint: identity.fingerprint, id: identity.sidecarId, key_file: identity.path },
    pairing,
    relay,
    ...(next !== undefined ? { next_step: next } : {}),
  };
}

async function status(argv: ParsedArgs, output: Output): Promise<void> {
  const report = await withSidecarState(argv, "sidecar status", { createIdentity: false }, (state) =>
    state.loaded.config.broker.backend === "relay" ? remoteReport(state) : sidecarReport(state),
  );
  if (output.json) output.data(report);
  else output.text(renderStatus(report));
}

export function statusCommand(yargs: Argv, output: () => Output): Argv {
  return yargs.command(
    "status",
    "Either end: this profile's relay fingerprint, its pairings or paired remote, the relay session, last heartbeat and calls in flight",
    (y) =>
      y
        .example("$0 sidecar status", "A summary")
        .example("$0 sidecar status --json", "The same as JSON")
        .epilogue(
          "Reads only; contacts nothing. Session, heartbeat and in-flight figures are what the running relay (`sidecar run`, or the remote's `mcp serve`) last wrote; a relay that died shows as not running.",
        ),
    (argv) => status(argv as ParsedArgs, output()),
  );
}
