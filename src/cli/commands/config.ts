// `ibkr-agent config init|validate|show|schema|set-pin`: write a starter file, list every problem of a
// file with its key path, print the effective configuration with secrets redacted, print the JSON Schema
// for editors, and store the operator PIN as a hash.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseDocument, stringify } from "yaml";
import type { Argv } from "yargs";
import {
  type ConfigProblem,
  configJsonSchemaText,
  hashOperatorPin,
  installedSchemaPath,
  type LoadedConfig,
  loadConfig,
  MIN_SECRET_BYTES,
  redactConfig,
  STARTER_AUDIT_SECRET_ENV,
  starterConfig,
  validateConfigText,
} from "../../config/index.ts";
import { GatewayError, isGatewayError } from "../../core/gateway-error.ts";
import type { Output } from "../output.ts";

interface GlobalArgs {
  config?: string;
}

function problemsOf(error: unknown): ConfigProblem[] {
  if (!isGatewayError(error)) return [];
  const problems = (error.details as { problems?: unknown } | undefined)?.problems;
  return Array.isArray(problems) ? (problems as ConfigProblem[]) : [];
}

function printProblems(output: Output, problems: readonly ConfigProblem[]): void {
  for (const p of problems) output.text(`  ${p.path === "" ? "(file)" : p.path}: ${p.problem}`);
}

function init(output: Output, args: { out: string; force: boolean }): void {
  const out = resolve(args.out);
  if (existsSync(out) && !args.force) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `${out} already exists; it was left unchanged.`,
      userAction: "Pass --force to overwrite it, or choose another file with --out.",
      details: { field: "out" },
    });
  }
  const text = starterConfig({ schemaRef: installedSchemaPath() ?? "docs/config.schema.json" });
  const problems = validateConfigText(text, {}, { checkEnvironment: false });
  if (problems.length > 0) {
    // The starter is part of the product; a starter that does not validate is our bug, not the user's.
    throw new GatewayError("INTERNAL_ERROR", { message: "The starter configuration does not validate." });
  }
  writeFileSync(out, text, { mode: 0o600 });
  const nextSteps = [
    `export ${STARTER_AUDIT_SECRET_ENV}="$(openssl rand -hex ${MIN_SECRET_BYTES})"`,
    `export IBKR_AGENT_CONFIG=${JSON.stringify(out)}`,
    "ibkr-agent config validate",
  ];
  if (output.json) {
    output.data({ written: out, next_steps: nextSteps });
    return;
  }
  output.text(`Wrote ${out}. Next:`);
  for (const step of nextSteps) output.text(`  ${step}`);
}

function validate(output: Output, args: GlobalArgs): void {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ file: args.config });
  } catch (error) {
    if (!output.json) {
      const problems = problemsOf(error);
      if (problems.length > 0) {
        output.text(`${problems.length === 1 ? "1 problem" : `${problems.length} problems`}:`);
        printProblems(output, problems);
      }
    }
    throw error;
  }
  if (output.json) {
    output.data({ valid: true, source: loaded.source, profile: loaded.paths.profile, problems: [] });
    return;
  }
  output.text(
    loaded.source === "defaults"
      ? "No config file: the safe defaults are in use (simulator, read scopes). Nothing to fix."
      : `${loaded.source} is valid (backend ${loaded.config.broker.backend}, profile ${loaded.paths.profile}).`,
  );
}

function secretStatus(loaded: LoadedConfig): Record<string, unknown>[] {
  if (loaded.secrets.mode === "generated-file") {
    return [
      {
        key: "audit",
        file: loaded.paths.auditSecretPath,
        exists: existsSync(loaded.paths.auditSecretPath ?? ""),
      },
    ];
  }
  return loaded.secrets.names.map((name) => {
    const value = process.env[name.env];
    return {
      key: name.key,
      env: name.env,
      set: value !== undefined && Buffer.byteLength(value, "utf8") >= MIN_SECRET_BYTES,
    };
  });
}

function show(output: Output, args: GlobalArgs): void {
  const loaded = loadConfig({ file: args.config, checkEnvironment: false });
  const config = redactConfig(loaded.config);
  const secrets = secretStatus(loaded);
  if (output.json) {
    output.data({ source: loaded.source, origin: loaded.origin, paths: loaded.paths, secrets, config });
    return;
  }
  output.text(`# source: ${loaded.source === "defaults" ? "no config file (safe defaults)" : loaded.source}`);
  output.text(`# profile: ${loaded.paths.profile} (${loaded.paths.profileDir})`);
  for (const secret of secrets) {
    output.text(
      secret.env !== undefined
        ? `# secret ${String(secret.key)}: $${String(secret.env)} (${secret.set ? "set" : "NOT SET or too short"})`
        : `# secret audit: generated file ${String(secret.file)}${secret.exists ? "" : " (created on first run)"}`,
    );
  }
  output.text(stringify(config, { lineWidth: 0 }).trimEnd());
}

async function readPin(): Promise<string> {
  const { createInterface } = await import("node:readline");
  const { Writable } = await import("node:stream");
  const tty = process.stdin.isTTY === true;
  // A muted output keeps the PIN off the screen when typed at a terminal.
  const muted = new Writable({
    write: (_chunk, _encoding, done) => {
      done();
    },
  });
  const lines = createInterface({ input: process.stdin, output: muted, terminal: tty });
  const ask = (prompt: string) =>
    new Promise<string>((resolvePin) => {
      if (tty) process.stderr.write(prompt);
      lines.once("line", (line) => {
        if (tty) process.stderr.write("\n");
        resolvePin(line);
      });
      lines.once("close", () => resolvePin(""));
    });
  try {
    const pin = await ask("Operator PIN (not shown): ");
    if (tty && (await ask("Again: ")) !== pin) {
      throw new GatewayError("INPUT_INVALID_ARGUMENT", {
        message: "The two PINs differ; nothing was changed.",
        details: { field: "pin" },
      });
    }
    return pin;
  } finally {
    lines.close();
  }
}

async function setPin(output: Output, args: GlobalArgs): Promise<void> {
  const file = args.config ?? process.env.IBKR_AGENT_CONFIG;
  if (file === undefined || file === "") {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "set-pin writes into a config file, and none is in use.",
      userAction: "Pass --config FILE (or set IBKR_AGENT_CONFIG); create one with `ibkr-agent config init`.",
      details: { field: "config" },
    });
  }
  const path = resolve(file);
  // Refuse to edit a file that is already broken: the result could not be checked either.
  loadConfig({ file: path, checkEnvironment: false });
  const hash = hashOperatorPin(await readPin());
  const doc = parseDocument(readFileSync(path, "utf8"));
  doc.setIn(["operator", "pin_hash"], hash);
  const text = doc.toString();
  const problems = validateConfigText(text, process.env, { checkEnvironment: false, file: path });
  if (problems.length > 0) {
    throw new GatewayError("INTERNAL_ERROR", {
      message: "The file would not validate after setting the PIN.",
    });
  }
  writeFileSync(path, text);
  if (output.json) output.data({ written: path, key: "operator.pin_hash" });
  else output.text(`Stored the PIN's hash in ${path} (operator.pin_hash).`);
}

export function configCommand(yargs: Argv, output: () => Output): Argv {
  return yargs.command("config", "Create, check and show the configuration file", (config) =>
    config
      .command(
        "init",
        "Write a commented starter configuration file",
        (y) =>
          y
            .option("out", { type: "string", default: "ibkr-agent.yaml", describe: "File to write" })
            .option("force", { type: "boolean", default: false, describe: "Overwrite an existing file" }),
        (argv) => init(output(), { out: String(argv.out), force: argv.force === true }),
      )
      .command(
        "validate",
        "Check the configuration and list every problem with its key path",
        (y) => y,
        (argv) => validate(output(), argv as GlobalArgs),
      )
      .command(
        "show",
        "Print the effective configuration (defaults filled in, secrets redacted)",
        (y) => y,
        (argv) => show(output(), argv as GlobalArgs),
      )
      .command(
        "schema",
        "Print the JSON Schema of the configuration file (for editors)",
        (y) => y,
        () => output().text(configJsonSchemaText().trimEnd()),
      )
      .command(
        "set-pin",
        "Store the operator PIN (read from the terminal or stdin) as a hash in the config file",
        (y) => y,
        (argv) => setPin(output(), argv as GlobalArgs),
      )
      .demandCommand(1, "Name a config subcommand: init, validate, show, schema or set-pin."),
  );
}
