// `ibkr-agent audit ...`: the hand-written audit commands, mounted beside the two generated tool commands.
//
// - `audit tail` and `audit export` stay the generated tool commands, extended by one flag each: --follow
//   keeps printing new events; --out writes an export file with its signed manifest instead of returning
//   one page. The extension reuses the generated module (its flags and its handler), so the contract stays
//   the only definition of the tool's flags. yargs keeps one handler per command name, so registering the
//   extension replaces the generated handler; it registers hidden (describe: false) because the generated
//   registration already listed the command, with the contract's description, in `audit --help`.
// - verify, anchor, rotate-key, purge and backup are operator procedures
//   (src/workflows/audit/procedures.ts), which check the scope and record every run, denied ones too.
//   This module only turns flags into requests and results into text or --json.
import { stringify } from "yaml";
import type { Argv, CommandModule } from "yargs";
import { type ParsedArgs, TOOL_COMMANDS } from "../../../generated/bindings/cli.gen.ts";
import { TOOLS, type ToolName, type ToolOutput } from "../../../generated/tools/registry.gen.ts";
import type { CallContext } from "../../core/call-context.ts";
import { isGatewayError } from "../../core/gateway-error.ts";
import {
  type AuditEventView,
  type AuditProcedures,
  createAuditProcedures,
  type Gateway,
} from "../../gateway/index.ts";
import type { RegisterCommand } from "../command-table.ts";
import { withCliGateway } from "../open-gateway.ts";
import type { Output } from "../output.ts";
import { formatValue } from "../render/result.ts";
import { createToolRunner } from "../run-tool.ts";

/** How often `audit tail --follow` looks for new events. */
const FOLLOW_POLL_MS = 1000;

type Args = ParsedArgs & { config?: string };

interface Session {
  readonly gateway: Gateway;
  readonly procedures: AuditProcedures;
  readonly context: CallContext;
}

/** Opens the gateway for one audit command, runs it with the store's audit procedures, and closes it. */
function withSession<T>(argv: Args, command: string, fn: (session: Session) => Promise<T>): Promise<T> {
  return withCliGateway(argv, command, ({ gateway, context }) =>
    fn({ gateway, procedures: createAuditProcedures(gateway.store), context }),
  );
}

/** Aligned `label: value` lines. */
function facts(rows: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${formatValue(value)}`).join("\n");
}

function range(from: number | null, to: number | null): string {
  if (from === null || to === null || to < from) return "none";
  return from === to ? `${from}` : `${from}-${to}`;
}

function string(argv: Args, flag: string): string | undefined {
  const value = argv[flag];
  return typeof value === "string" ? value : undefined;
}

function generatedModule(tool: ToolName, output: () => Output): CommandModule<object, ParsedArgs> {
  const command = TOOL_COMMANDS.find((entry) => entry.tool === tool);
  if (command === undefined) throw new Error(`${tool} has no generated command`);
  return command.module(createToolRunner(output));
}

/** The generated tool command with extra flags and a hand-written path taken when `takes(argv)`. */
function extended(
  tool: ToolName,
  output: () => Output,
  flags: (yargs: Argv) => Argv,
  takes: (argv: Args) => boolean,
  handle: (argv: Args) => Promise<void>,
): CommandModule<object, ParsedArgs> {
  const generated = generatedModule(tool, output);
  const builder = generated.builder as (yargs: Argv) => Argv;
  const handler = generated.handler as (argv: Args) => Promise<void>;
  // Hidden commands get no description in their own --help; give it back the contract's.
  const usage = `$0 ${TOOLS[tool].cli.command.join(" ")}\n\n${String(generated.describe)}`;
  return {
    command: generated.command as string,
    describe: false,
    builder: (yargs) => flags(builder(yargs)).usage(usage) as Argv<ParsedArgs>,
    handler: (argv) => (takes(argv as Args) ? handle(argv as Args) : handler(argv as Args)),
  };
}

// --- tail --follow ------------------------------------------------------------------------------------

function followLine(event: AuditEventView): string {
  return [
    String(event.sequence).padStart(7),
    event.timestamp,
    event.event_type.padEnd(20),
    (event.tool ?? "-").padEnd(24),
    event.decision.padEnd(6),
    event.result_status,
    event.error_code ?? "",
  ]
    .join("  ")
    .trimEnd();
}

/** Resolves waits early once Ctrl+C (or SIGTERM) arrives, so the follow loop ends cleanly. */
function stopOnSignal() {
  let stopped = false;
  let wake: (() => void) | undefined;
  const onSignal = () => {
    stopped = true;
    wake?.();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    /** Waits ms; true when a stop signal came. */
    wait(ms: number): Promise<boolean> {
      if (stopped) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(stopped), ms);
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
    },
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

async function follow(argv: Args, output: () => Output): Promise<void> {
  const stop = stopOnSignal();
  try {
    await withSession(argv, "audit tail --follow", async ({ gateway, procedures, context }) => {
      // The follow opens with one ordinary, audited tool call; the polls after it only read.
      const args = typeof argv.limit === "number" ? { limit: argv.limit } : {};
      const outcome = await gateway.dispatch("ibkr_audit_tail", args, context);
      if (!outcome.ok) throw outcome.error;
      const tail = outcome.result as ToolOutput<"ibkr_audit_tail">;
      const out = output();
      const print = (events: readonly AuditEventView[]) => {
        for (const event of events) out.text(out.json ? JSON.stringify(event) : followLine(event));
      };
      if (!out.json) {
        process.stderr.write(
          `Following the audit log, verified through sequence ${tail.verified_through_sequence}. Press Ctrl+C to stop.\n`,
        );
      }
      print(tail.events);
      let last = tail.verified_through_sequence;
      while (!(await stop.wait(FOLLOW_POLL_MS))) {
        const batch = procedures.followBatch(context, last);
        print(batch.events);
        last = Math.max(last, batch.verified_through_sequence);
      }
    });
  } finally {
    stop.dispose();
  }
}

// --- export --out --------------------------------------------------------------------------------------

async function exportFile(argv: Args, output: () => Output): Promise<void> {
  const file = string(argv, "out") as string;
  const manifest = await withSession(argv, "audit export --out", ({ procedures, context }) => {
    const since = string(argv, "since");
    const until = string(argv, "until");
    const afterSequence = argv["after-sequence"];
    const limit = argv.limit;
    return procedures.exportToFile(context, file, {
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(typeof afterSequence === "number" ? { afterSequence } : {}),
      ...(typeof limit === "number" ? { limit } : {}),
    });
  });
  const out = output();
  const manifestFile = `${file}.manifest.json`;
  if (out.json) {
    out.data({ file, manifest_file: manifestFile, manifest });
    return;
  }
  out.text(
    `Exported ${manifest.count} events (sequences ${range(manifest.first_sequence, manifest.last_sequence)}) to ${file}.`,
  );
  out.text(
    facts([
      ["manifest", manifestFile],
      ["sha256", manifest.sha256],
      ["key ids", manifest.key_ids],
    ]),
  );
  out.text(`Keep both files together. Check them with: ibkr-agent audit verify --export ${file}`);
}

// --- verify --------------------------------------------------------------------------------------------

async function verify(argv: Args, output: () => Output): Promise<void> {
  const exportPath = string(argv, "export");
  if (exportPath !== undefined) {
    const result = await withSession(argv, "audit verify --export", ({ procedures, context }) =>
      procedures.verifyExport(context, exportPath),
    );
    const out = output();
    if (out.json) {
      out.data(result);
      return;
    }
    const { manifest } = result;
    out.text(`Export intact: ${exportPath} matches its signed manifest.`);
    out.text(
      facts([
        ["events checked", result.events_checked],
        ["sequences", range(manifest.first_sequence, manifest.last_sequence)],
        ["key ids", manifest.key_ids],
        ["export id", manifest.export_id],
      ]),
    );
    return;
  }
  const anchorPath = string(argv, "anchor");
  try {
    const report = await withSession(argv, "audit verify", ({ procedures, context }) =>
      procedures.verify(context, anchorPath === undefined ? {} : { anchorPath }),
    );
    const out = output();
    if (out.json) {
      out.data(report);
      return;
    }
    out.text("Audit chain intact.");
    out.text(
      facts([
        ["events scanned", report.events_scanned],
        ["sequences", range(report.from_sequence, report.to_sequence)],
        ["key ids", report.key_ids],
        ["checkpoints checked", report.checkpoints_checked],
        ["anchor checked", anchorPath === undefined ? "no anchor given" : report.anchor_checked],
      ]),
    );
  } catch (error) {
    // A break: the facts go to stdout for the operator, the error (exit code 2) to stderr as usual.
    const report = isGatewayError(error) && error.code === "AUDIT_CHAIN_INVALID" ? error.details : undefined;
    if (report !== undefined && !output().json) {
      output().text("Audit chain BROKEN.");
      output().text(
        facts([
          ["first break sequence", report.first_break_sequence],
          ["break kind", report.break_kind],
          ["first break event id", report.first_break_event_id],
          ["reason", report.reason],
          ["events verified", report.events_scanned],
        ]),
      );
    }
    throw error;
  }
}

// --- anchor --------------------------------------------------------------------------------------------

async function anchor(argv: Args, output: () => Output): Promise<void> {
  const file = string(argv, "out");
  const out = output();
  const result = await withSession(argv, "audit anchor", ({ procedures, context }) =>
    procedures.anchor(
      context,
      file !== undefined
        ? { kind: "file", path: file }
        : { kind: "stdout", write: (text) => out.text(text.trimEnd()) },
    ),
  );
  if (file === undefined) return;
  if (out.json) {
    out.data({ file, anchor: result.anchor, audit_event_id: result.audit_event_id });
    return;
  }
  out.text(`Anchored sequence ${result.anchor.sequence} in ${file}.`);
  out.text("Keep it where this machine's gateway cannot change it; check against it with:");
  out.text(`  ibkr-agent audit verify --anchor ${file}`);
}

// --- rotate-key ----------------------------------------------------------------------------------------

async function rotateKey(argv: Args, output: () => Output): Promise<void> {
  const secretEnv = string(argv, "new-secret-env") as string;
  const keyId = string(argv, "new-key-id") as string;
  const { result, nextAudit, oldEnv } = await withSession(
    argv,
    "audit rotate-key",
    async ({ gateway, procedures, context }) => {
      const audit = gateway.loaded.config.audit;
      const configuredEnvs = [audit.secret_env, ...audit.previous_secrets.map((p) => p.secret_env)].filter(
        (name): name is string => name !== undefined,
      );
      const rotated = await procedures.rotateKey(context, {
        secretEnv,
        secret: process.env[secretEnv],
        keyId,
        configuredEnvs,
      });
      // Without a config file the old secret is the generated file; it must move into a variable first.
      const previousEnv = audit.secret_env ?? "IBKR_AGENT_AUDIT_SECRET_PREVIOUS";
      return {
        result: rotated,
        oldEnv: audit.secret_env,
        nextAudit: {
          secret_env: secretEnv,
          key_id: keyId,
          previous_secrets: [
            { key_id: rotated.previous_key_id, secret_env: previousEnv },
            ...audit.previous_secrets.map((p) => ({ key_id: p.key_id, secret_env: p.secret_env })),
          ],
        },
      };
    },
  );
  const steps = [
    "Change the audit section of the config file as shown (keep its other keys).",
    oldEnv === undefined
      ? `Put the old secret (the profile's audit-secret file) in ${nextAudit.previous_secrets[0]?.secret_env} and keep it: events under ${result.previous_key_id} verify only with it.`
      : `Keep ${oldEnv} set: events under ${result.previous_key_id} verify only with it.`,
    `Restart every other gateway process (MCP servers); one still writing with ${result.previous_key_id} refuses to write.`,
    "Write a new anchor: ibkr-agent audit anchor --out FILE",
  ];
  const out = output();
  if (out.json) {
    out.data({ ...result, next_config: { audit: nextAudit }, next_steps: steps });
    return;
  }
  out.text(`Rotated the audit key: ${result.previous_key_id} -> ${result.new_key_id}.`);
  if (result.live_disarmed) out.text("Live trading was disarmed; arm it again after checking.");
  out.text("Next:");
  steps.forEach((step, index) => {
    out.text(`  ${index + 1}. ${step}`);
    if (index === 0) {
      for (const line of stringify({ audit: nextAudit }).trimEnd().split("\n")) out.text(`       ${line}`);
    }
  });
}

// --- purge ---------------------------------------------------------------------------------------------

async function purge(argv: Args, output: () => Output): Promise<void> {
  const anchorFile = string(argv, "anchor-out");
  const { result, anchored } = await withSession(argv, "audit purge", async ({ procedures, context }) => {
    const purged = await procedures.purge(context, {
      before: string(argv, "before") as string,
      exportPath: string(argv, "export") as string,
    });
    // A new anchor right after the purge: older anchors name events that no longer exist.
    const written =
      anchorFile === undefined
        ? undefined
        : await procedures.anchor(context, { kind: "file", path: anchorFile });
    return { result: purged, anchored: written };
  });
  const out = output();
  const summary = {
    events_purged: result.events_purged,
    from_sequence: result.from_sequence,
    to_sequence: result.to_sequence,
    base_sequence: result.base_sequence,
    ...(anchored !== undefined ? { anchor_file: anchorFile, anchor: anchored.anchor } : {}),
  };
  if (out.json) {
    out.data(summary);
    return;
  }
  if (result.events_purged === 0) out.text("Nothing to purge: no event is older than --before.");
  else {
    out.text(
      `Purged ${result.events_purged} events (sequences ${range(result.from_sequence, result.to_sequence)}). Verification now starts from the signed base at sequence ${result.base_sequence}.`,
    );
  }
  if (anchored !== undefined) out.text(`Anchored sequence ${anchored.anchor.sequence} in ${anchorFile}.`);
  else out.text("Write a new anchor now: ibkr-agent audit anchor --out FILE");
}

// --- search --------------------------------------------------------------------------------------------

async function search(argv: Args, output: () => Output): Promise<void> {
  const text = (name: string) => string(argv, name);
  const query = {
    ...(text("request-id") !== undefined ? { requestId: text("request-id") } : {}),
    ...(text("event-id") !== undefined ? { eventId: text("event-id") } : {}),
    ...(text("account") !== undefined ? { accountId: text("account") } : {}),
    ...(text("account-hash") !== undefined ? { accountIdHash: text("account-hash") } : {}),
    ...(text("tool") !== undefined ? { tool: text("tool") } : {}),
    ...(text("type") !== undefined ? { eventType: text("type") } : {}),
    ...(text("since") !== undefined ? { since: text("since") } : {}),
    ...(text("until") !== undefined ? { until: text("until") } : {}),
    ...(typeof argv.limit === "number" ? { limit: argv.limit } : {}),
  };
  const result = await withSession(argv, "audit search", ({ procedures, context }) =>
    procedures.search(context, query),
  );
  const out = output();
  if (out.json) {
    // One event per line, like an export, so the output feeds jq directly.
    for (const event of result.events) out.text(JSON.stringify(event));
    return;
  }
  if (result.account_id_hash !== undefined) out.text(`account hash: ${result.account_id_hash}`);
  if (result.events.length === 0) {
    out.text(`No event matches (${result.scanned} checked, chain verified).`);
    return;
  }
  for (const event of result.events) out.text(`${followLine(event)}  ${event.request_id}`);
  out.text(
    `${result.events.length} events${result.truncated ? " (more matched: raise --limit or narrow the search)" : ""} of ${result.scanned} checked; the chain verified before the search.`,
  );
}

// --- backup --------------------------------------------------------------------------------------------

async function backup(argv: Args, output: () => Output): Promise<void> {
  const file = string(argv, "out") as string;
  const result = await withSession(argv, "audit backup", ({ procedures, context }) =>
    procedures.backup(context, file),
  );
  const out = output();
  if (out.json) {
    out.data(result);
    return;
  }
  out.text(`Backed up the store to ${file}: every event through sequence ${result.to_sequence}.`);
  out.text(
    facts([
      ["pages", result.pages],
      ["sha256", result.sha256],
    ]),
  );
}

// --- registration ----------------------------------------------------------------------------------------

export const auditCommands: RegisterCommand = (group, output) => {
  group.command(
    extended(
      "ibkr_audit_tail",
      output,
      (yargs) =>
        yargs.option("follow", {
          type: "boolean",
          describe: "Keep printing new events (verified) as they arrive, until Ctrl+C",
        }),
      (argv) => argv.follow === true,
      (argv) => follow(argv, output),
    ),
  );
  group.command(
    extended(
      "ibkr_audit_export",
      output,
      (yargs) =>
        yargs
          .option("out", {
            type: "string",
            describe:
              "Write the whole range to this new JSONL file, with a signed FILE.manifest.json beside it",
          })
          .option("format", {
            type: "string",
            choices: ["jsonl"],
            describe: "Format of the --out file (jsonl, the only one)",
          })
          .implies("format", "out"),
      (argv) => argv.out !== undefined,
      (argv) => exportFile(argv, output),
    ),
  );
  group.command(
    "verify",
    "Verify the whole audit chain in one pass (exit 2 on a break), or an export file against its manifest",
    (yargs) =>
      yargs
        .option("export", { type: "string", describe: "Check this export file against its manifest instead" })
        .option("anchor", {
          type: "string",
          describe: "Also check the chain against this anchor file kept outside the database",
        })
        .conflicts("export", "anchor"),
    (argv) => verify(argv as Args, output),
  );
  group.command(
    "search",
    "Find the events of one incident (by request id, event id, account, tool or event type), after verifying the chain",
    (yargs) =>
      yargs
        .option("request-id", {
          type: "string",
          describe: "Events of one call (req_...), its workflow events included",
        })
        .option("event-id", {
          type: "string",
          describe: "One event by its id (as errors and results quote it)",
        })
        .option("account", {
          type: "string",
          describe: "Events about this account (compared by its keyed hash)",
        })
        .option("account-hash", { type: "string", describe: "Events with this account_id_hash" })
        .option("tool", { type: "string", describe: "Events of this tool, e.g. ibkr_paper_order_submit" })
        .option("type", { type: "string", describe: "Events of this type, e.g. order_submitted" })
        .option("since", { type: "string", describe: "From this RFC 3339 time" })
        .option("until", { type: "string", describe: "Before this RFC 3339 time" })
        .option("limit", { type: "number", describe: "Most events to print (default 1000)" })
        .example("ibkr-agent audit search --type order_submitted --since 2026-12-01T00:00:00Z", "")
        .example("ibkr-agent audit search --request-id req_0193... --json | jq .", ""),
    (argv) => search(argv as Args, output),
  );
  group.command(
    "anchor",
    "Write the current signed head of the audit log, to keep outside the database",
    (yargs) =>
      yargs.option("out", { type: "string", describe: "Write it to this new file (default: print it)" }),
    (argv) => anchor(argv as Args, output),
  );
  group.command(
    "rotate-key",
    "Continue the audit log under a new secret (needs ibkr:audit:admin)",
    (yargs) =>
      yargs
        .option("new-secret-env", {
          type: "string",
          demandOption: true,
          describe:
            "Environment variable holding the new secret (at least 32 bytes); never the secret itself",
        })
        .option("new-key-id", {
          type: "string",
          demandOption: true,
          describe: "Key id of the new secret, for example k2; an id used before is refused",
        }),
    (argv) => rotateKey(argv as Args, output),
  );
  group.command(
    "purge",
    "Delete events older than the retention period after a verified export (needs ibkr:audit:admin)",
    (yargs) =>
      yargs
        .option("before", {
          type: "string",
          demandOption: true,
          describe: "Purge events before this RFC 3339 time, which must be before the retention cut-off",
        })
        .option("export", {
          type: "string",
          demandOption: true,
          describe: "An export (with its manifest) that covers every event to purge",
        })
        .option("anchor-out", { type: "string", describe: "Then write a new anchor to this new file" }),
    (argv) => purge(argv as Args, output),
  );
  group.command(
    "backup",
    "Copy the store with SQLite's online backup API (needs ibkr:audit:admin)",
    (yargs) =>
      yargs.option("out", { type: "string", demandOption: true, describe: "The backup file to create" }),
    (argv) => backup(argv as Args, output),
  );
};
