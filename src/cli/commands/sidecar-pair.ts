// `ibkr-agent sidecar pair CODE [--remote URL]` and `ibkr-agent sidecar unpair`: the sidecar owner's side of
// pairing, on the machine that runs the Client Portal Gateway. The work is in src/sidecar/pairing-client.ts.
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../../generated/bindings/cli.gen.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import { claimPairing, requireSidecarRole, unpairLocal } from "../../sidecar/index.ts";
import type { Output } from "../output.ts";
import { reasonOf, reasonOption } from "../reason-flag.ts";
import { renderClaimed, renderUnpaired } from "./sidecar-render.ts";
import { withSidecarState } from "./sidecar-state.ts";

async function pair(argv: ParsedArgs, output: Output): Promise<void> {
  const code = typeof argv.code === "string" ? argv.code : String(argv.code ?? "");
  const claimed = await withSidecarState(
    argv,
    "sidecar pair",
    { createIdentity: true, check: requireSidecarRole },
    (state) => {
      if (state.identity === undefined)
        throw new GatewayError("INTERNAL_ERROR", { message: "No relay identity." });
      return claimPairing(
        {
          config: state.loaded.config,
          store: state.store,
          identity: state.identity,
          code,
          ...(typeof argv.remote === "string" ? { remote: argv.remote } : {}),
          ...(typeof argv["remote-fingerprint"] === "string"
            ? { expectRemoteFingerprint: argv["remote-fingerprint"] }
            : {}),
          clock: state.clock,
        },
        state.context,
      );
    },
  );
  if (output.json) output.data(claimed);
  else output.text(renderClaimed(claimed));
}

async function unpair(argv: ParsedArgs, output: Output): Promise<void> {
  const reason = reasonOf(argv);
  const result = await withSidecarState(argv, "sidecar unpair", { createIdentity: false }, (state) =>
    unpairLocal(
      {
        config: state.loaded.config,
        store: state.store,
        identity: state.identity,
        reason,
        notifyRemote: argv["local-only"] !== true,
        clock: state.clock,
      },
      state.context,
    ),
  );
  if (output.json) output.data(result);
  else output.text(renderUnpaired(result));
}

export function pairCommands(yargs: Argv, output: () => Output): Argv {
  return yargs
    .command(
      "pair <code>",
      "On the user's machine: claim a pairing code at the remote gateway with this sidecar's key and print the fingerprint to compare",
      (y) =>
        y
          .positional("code", {
            type: "string",
            demandOption: true,
            describe: "The code the remote gateway's operator gave you (XXXX-XXXX-XXXX-XXXX)",
          })
          .option("remote", {
            type: "string",
            requiresArg: true,
            describe:
              "The remote gateway's relay endpoint, e.g. https://gateway.example.com/relay (default sidecar.remote_url)",
          })
          .option("remote-fingerprint", {
            type: "string",
            requiresArg: true,
            describe:
              "The remote gateway's fingerprint as its operator told you; a remote with another key is refused",
          })
          .example("$0 sidecar pair K7QF-3M2X-T2HD-R6WB", "Claim the code at sidecar.remote_url")
          .example(
            "$0 sidecar pair K7QF-3M2X-T2HD-R6WB --remote https://gateway.example.com/relay",
            "Claim it at that gateway",
          )
          .epilogue(
            "Needs sidecar.enabled and safety.sidecar_enabled in this machine's configuration (not a relay gateway). The first run makes this profile's Ed25519 key pair (relay-identity.pem, 0600, in the profile directory). Only the public key and the code are sent, over HTTPS (sidecar.remote_ca_file for a private CA). Then the remote's operator approves after comparing the fingerprint.",
          ),
      (argv) => pair(argv as ParsedArgs, output()),
    )
    .command(
      "unpair",
      "On the user's machine: end this sidecar's pairing now, and tell the remote gateway (signed) so it revokes it too",
      (y) =>
        reasonOption(y, "Why (3 to 500 characters), recorded in the audit logs of both sides")
          .option("local-only", {
            type: "boolean",
            describe: "Do not contact the remote gateway (its operator then revokes it there)",
          })
          .example('$0 sidecar unpair --reason "moving to a new laptop"', "Unpair and tell the remote")
          .epilogue(
            "The local pairing ends even when the remote cannot be reached; the output says whether the remote was told.",
          ),
      (argv) => unpair(argv as ParsedArgs, output()),
    );
}
