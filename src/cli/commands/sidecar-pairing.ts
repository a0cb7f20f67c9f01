// `ibkr-agent sidecar pairing create|approve|list|revoke`: the remote gateway operator's side of pairing
// (a profile of broker.backend relay). The lifecycle and its checks live in src/sidecar/pairing.ts; this
// module parses flags, asks for the operator PIN where the core needs it, and prints.
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../../generated/bindings/cli.gen.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import {
  createPairingService,
  type PairingService,
  type PairingStatus,
  relayUserPrincipal,
  requireRelayRole,
} from "../../sidecar/index.ts";
import type { Output } from "../output.ts";
import { askOperatorPin } from "../pin-prompt.ts";
import { reasonOf, reasonOption } from "../reason-flag.ts";
import {
  relayUrlHint,
  renderApproved,
  renderCreated,
  renderPairingList,
  renderRevoked,
} from "./sidecar-render.ts";
import { type SidecarState, withSidecarState } from "./sidecar-state.ts";

const REMOTE_STATE = { createIdentity: true, check: requireRelayRole };

const STATUSES: readonly PairingStatus[] = ["pending", "claimed", "active", "revoked", "expired", "locked"];

function service(state: SidecarState): PairingService {
  const { loaded, store, identity } = state;
  if (identity === undefined) throw new GatewayError("INTERNAL_ERROR", { message: "No relay identity." });
  return createPairingService({
    store,
    config: loaded.config,
    identity,
    userPrincipal: relayUserPrincipal(loaded, store),
    clock: state.clock,
  });
}

function stringArg(argv: ParsedArgs, name: string): string {
  const value = argv[name];
  return typeof value === "string" ? value : String(value ?? "");
}

async function create(argv: ParsedArgs, output: Output): Promise<void> {
  const user = stringArg(argv, "user");
  const ttl = argv.ttl === undefined ? undefined : Number(argv.ttl);
  const { created, relayUrl } = await withSidecarState(
    argv,
    "sidecar pairing create",
    REMOTE_STATE,
    (state) => ({
      created: service(state).create(
        { user, ...(ttl !== undefined ? { ttlSeconds: ttl } : {}) },
        state.context,
      ),
      relayUrl: relayUrlHint(state.loaded.config.remote_mcp.resource),
    }),
  );
  if (output.json) output.data(created);
  else output.text(renderCreated(created, user, relayUrl));
}

async function approve(argv: ParsedArgs, output: Output): Promise<void> {
  const pairingId = stringArg(argv, "pairing");
  const fingerprint = stringArg(argv, "fingerprint");
  const approved = await withSidecarState(argv, "sidecar pairing approve", REMOTE_STATE, async (state) => {
    const pairings = service(state);
    // The PIN is asked only of a person at a terminal with a PIN configured; the core refuses everyone else.
    const ask = state.context.interactive === true && state.loaded.config.operator.pin_hash !== undefined;
    const proof = ask ? { pin: await askOperatorPin() } : undefined;
    return pairings.approve({ pairingId, fingerprint }, state.context, proof);
  });
  if (output.json) output.data(approved);
  else output.text(renderApproved(approved.pairing, approved.replaced_pairing_id));
}

async function list(argv: ParsedArgs, output: Output): Promise<void> {
  const statuses = Array.isArray(argv.status) ? (argv.status as PairingStatus[]) : undefined;
  const user = typeof argv.user === "string" ? argv.user : undefined;
  const pairings = await withSidecarState(argv, "sidecar pairing list", REMOTE_STATE, (state) =>
    service(state).list({
      ...(statuses !== undefined ? { statuses } : {}),
      ...(user !== undefined ? { user } : {}),
    }),
  );
  if (output.json) output.data({ pairings });
  else output.text(renderPairingList(pairings));
}

async function revoke(argv: ParsedArgs, output: Output): Promise<void> {
  const pairingId = stringArg(argv, "pairing");
  const reason = reasonOf(argv);
  const revoked = await withSidecarState(argv, "sidecar pairing revoke", REMOTE_STATE, (state) =>
    service(state).revoke({ pairingId, reason }, state.context),
  );
  if (output.json) output.data(revoked);
  else output.text(renderRevoked(revoked.pairing, revoked.changed));
}

const REMOTE_ONLY =
  "Runs on the remote gateway: its configuration has broker.backend relay, sidecar.enabled and remote MCP (docs/sidecar.md).";

export function pairingCommands(yargs: Argv, output: () => Output): Argv {
  return yargs.command(
    "pairing",
    "Remote gateway operator: issue, approve, list and revoke sidecar pairings",
    (pairing) =>
      pairing
        .command(
          "create",
          "Issue a one-time pairing code bound to one user (the subject of their token); shown once, never stored",
          (y) =>
            y
              .option("user", {
                type: "string",
                demandOption: true,
                requiresArg: true,
                describe:
                  "The user's token subject: the value of the claim remote_mcp.subject_claim names (sub by default)",
              })
              .option("ttl", {
                type: "number",
                requiresArg: true,
                describe:
                  "Seconds the code can be claimed (60 up to sidecar.pairing.code_ttl_seconds, which is also the default)",
              })
              .example(
                "$0 sidecar pairing create --user 248289761001",
                "A code for that user, valid 10 minutes",
              )
              .example("$0 sidecar pairing create --user alice --ttl 300 --json", "Valid 5 minutes, as JSON")
              .epilogue(
                `${REMOTE_ONLY} CLI only and audited (relay_pairing_created). Wrong codes count against the pairing; after sidecar.pairing.max_attempts it locks.`,
              ),
          (argv) => create(argv as ParsedArgs, output()),
        )
        .command(
          "approve <pairing>",
          "Approve a claimed pairing after comparing the sidecar's fingerprint (operator: terminal and PIN)",
          (y) =>
            y
              .positional("pairing", {
                type: "string",
                describe: "Pairing id (pairing-...)",
                demandOption: true,
              })
              .option("fingerprint", {
                type: "string",
                demandOption: true,
                requiresArg: true,
                describe:
                  "The fingerprint the sidecar printed, typed in full (case, spaces and dashes do not matter)",
              })
              .example(
                "$0 sidecar pairing approve pairing-0193... --fingerprint ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567",
                "Bind the sidecar's key to the user",
              )
              .epilogue(
                `${REMOTE_ONLY} Needs a person at an interactive terminal and the operator PIN (\`ibkr-agent config set-pin\`); from a pipe or a script it refuses with APPROVAL_HUMAN_REQUIRED. A fingerprint that does not match is refused (SIDECAR_FINGERPRINT_MISMATCH) and audited. The approval lasts sidecar.pairing.ttl_days.`,
              ),
          (argv) => approve(argv as ParsedArgs, output()),
        )
        .command(
          "list",
          "The pairings of this gateway, newest first, with status, user, sidecar fingerprint and expiry",
          (y) =>
            y
              .option("status", {
                type: "array",
                string: true,
                choices: STATUSES,
                describe: "Only pairings in these states",
              })
              .option("user", {
                type: "string",
                requiresArg: true,
                describe: "Only this user's (token subject)",
              })
              .example("$0 sidecar pairing list --status claimed", "The claims awaiting approval")
              .epilogue(`${REMOTE_ONLY} Users appear as their principal (oauth:<hash>), never by name.`),
          (argv) => list(argv as ParsedArgs, output()),
        )
        .command(
          "revoke <pairing>",
          "Revoke a pairing at once: its relay sessions end and the user's calls stop reaching that sidecar",
          (y) =>
            reasonOption(
              y.positional("pairing", {
                type: "string",
                describe: "Pairing id (pairing-...)",
                demandOption: true,
              }),
              "Why it is revoked (3 to 500 characters), recorded in the audit log",
            )
              .example('$0 sidecar pairing revoke pairing-0193... --reason "laptop lost"', "Revoke it")
              .epilogue(`${REMOTE_ONLY} Needs no PIN: it only takes a right away. CLI only and audited.`),
          (argv) => revoke(argv as ParsedArgs, output()),
        )
        .demandCommand(1, "Name a pairing subcommand: create, approve, list or revoke."),
  );
}
