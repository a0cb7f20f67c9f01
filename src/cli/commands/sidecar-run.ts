// `ibkr-agent sidecar run`: the long-running daemon beside the user's Client Portal Gateway. It composes this
// machine's gateway (its config, scopes, kill switch, live policy and audit log), keeps the broker session
// alive and reconciles its orders as every long-running front door does, and connects out to the paired
// remote's relay endpoint (src/sidecar/daemon.ts). It prints one line when it starts (JSON with --json) and
// one when the relay session is up, publishes its status for `sidecar status`, and stops on SIGINT/SIGTERM.
import { readFileSync } from "node:fs";
import type { Argv } from "yargs";
import { GatewayError } from "../../core/gateway-error.ts";
import type { Output } from "../output.ts";

interface RunArgs {
  config?: string;
}

/** The WebSocket URL of a remote's relay endpoint: wss only (https is read as wss), /relay by default. */
export function relayWebSocketUrl(remoteUrl: string): string {
  const url = new URL(remoteUrl);
  if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "wss:") {
    throw new GatewayError("CONFIG_SIDECAR_FORBIDDEN", {
      message: `sidecar.remote_url must be https or wss, not ${url.protocol.replace(":", "")}.`,
    });
  }
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/relay";
  url.search = "";
  url.hash = "";
  return url.toString();
}

async function run(args: RunArgs, output: Output): Promise<void> {
  const [{ composeGateway, startReconcileLoop }, daemonModule, identityModule, pairingsModule, statusModule] =
    await Promise.all([
      import("../../gateway/index.ts"),
      import("../../sidecar/daemon.ts"),
      import("../../sidecar/identity.ts"),
      import("../../sidecar/relay-pairings.ts"),
      import("../../sidecar/relay-status.ts"),
    ]);
  const { createRelayAuditor } = await import("../../sidecar/relay-audit.ts");
  const { relayLimits } = await import("../../sidecar/relay-backend.ts");
  const { systemClock } = await import("../../core/clock.ts");
  const { uuidv7 } = await import("../../core/ids.ts");
  const gateway = await composeGateway({
    frontDoor: "relay",
    ...(typeof args.config === "string" && args.config !== "" ? { file: args.config } : {}),
  });
  try {
    const { config, paths } = gateway.loaded;
    const sidecar = config.sidecar;
    if (
      !sidecar.enabled ||
      !config.safety.sidecar_enabled ||
      config.broker.backend === "relay" ||
      sidecar.remote_url === undefined
    ) {
      throw new GatewayError("CONFIG_SIDECAR_FORBIDDEN", {
        message:
          "This machine is not configured as a sidecar: it needs sidecar.enabled, safety.sidecar_enabled and sidecar.remote_url, on a broker backend other than relay.",
      });
    }
    const url = relayWebSocketUrl(sidecar.remote_url);
    const identity = identityModule.loadOrCreateIdentity(paths);
    const pairing = pairingsModule.localPairing(gateway.store);
    if (pairing === undefined) {
      throw new GatewayError("SIDECAR_PAIRING_REQUIRED", {
        message: "This sidecar is not paired with a remote gateway.",
        userAction:
          "Ask the remote's operator for a pairing code, then run `ibkr-agent sidecar pair CODE --remote URL` here.",
      });
    }
    const caFile = (sidecar as { remote_ca_file?: string }).remote_ca_file;
    const statusPath = statusModule.sidecarStatusPath(paths.profileDir);
    const clock = systemClock;
    let announced = false;
    // The pairing ended for good (the daemon has stopped connecting): the error the command exits with.
    let endedWith: GatewayError | null = null;
    let onEnded: (() => void) | undefined;
    const daemon = daemonModule.startDaemon({
      gateway,
      url,
      ...(caFile !== undefined ? { ca: readFileSync(caFile) } : {}),
      privateKey: identity.privateKey,
      publicKey: identity.publicKeyRaw,
      sidecarId: identity.sidecarId,
      pairing: () => pairingsModule.localPairing(gateway.store),
      acceptedTiers: sidecar.accepted_tiers,
      audit: createRelayAuditor(gateway.store, clock, gateway.logger),
      clock,
      logger: gateway.logger,
      limits: relayLimits(gateway.loaded),
      onConfirmed: (pairingId, expiresAt) => {
        gateway.store.remotePairings.markActive(pairingId, clock.now(), expiresAt);
      },
      // The remote revoked the pairing (or it expired): end the local record too, then stop (below).
      onPairingEnded: (ended) => {
        pairingsModule.endLocalPairing(
          gateway.store,
          { pairingId: ended.pairingId, reason: ended.reason, at: clock.now() },
          {
            requestId: `req_${uuidv7(clock)}`,
            sessionId: gateway.sessionId,
            principal: daemonModule.relayPrincipal(identity.sidecarId),
          },
        );
        endedWith = ended.error;
        onEnded?.();
      },
      publish: (status) => {
        statusModule.writeSidecarStatus(statusPath, status);
        if (status.state === "connected" && !announced) {
          announced = true;
          if (!output.json)
            output.note(`relay session ${status.relay_session_id} is up; forwarded calls run here`);
        }
      },
    });
    gateway.broker.client.session.startKeepAlive();
    const reconciler = startReconcileLoop(gateway);
    const started = {
      state: "starting",
      pid: process.pid,
      remote_url: url,
      sidecar_id: identity.sidecarId,
      fingerprint: identity.fingerprint,
      accepted_tiers: sidecar.accepted_tiers,
      status_file: statusPath,
    };
    // One line, like `mcp serve --transport http --json`: a supervisor reads it as the process starts.
    if (output.json) output.text(JSON.stringify(started));
    else {
      output.text(`sidecar ${identity.sidecarId} (fingerprint ${identity.fingerprint})`);
      output.text(`connecting to ${url}; accepts ${sidecar.accepted_tiers.join(", ")} tools over the relay`);
      output.text("stop with Ctrl-C; `ibkr-agent sidecar status` shows the session");
    }
    // Runs until SIGINT/SIGTERM, or until the pairing ended for good (then exits with that error).
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      onEnded = stop;
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      if (endedWith !== null) stop();
    });
    await daemon.stop();
    await reconciler.stop();
    if (endedWith !== null) throw endedWith as GatewayError;
  } finally {
    await gateway.close();
  }
}

/** Registers `run` under the `sidecar` command (the pairing commands register the rest). */
export function registerSidecarRun(yargs: Argv, output: () => Output): Argv {
  return yargs.command(
    "run",
    "Run the sidecar daemon: connect out to the paired remote gateway and run its forwarded calls here",
    (y) =>
      y
        .example("$0 sidecar run", "Keep this running beside the Client Portal Gateway")
        .example("$0 sidecar run --json", "One JSON line at start (for supervisors)"),
    (argv) => run(argv as unknown as RunArgs, output()),
  );
}
