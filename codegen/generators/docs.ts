// Reference pages: contracts -> docs/reference/*.md. Written for a person looking up a tool, scope, error code
// or audit event; regenerated and freshness-checked like the code, so the docs cannot drift from what runs.
import type { Contracts } from "../contracts.ts";
import type { GeneratedFile } from "../emit.ts";
import { listOperations } from "./cpapi.ts";
import { cliFlags, methodName, publishedSchema } from "./tools.ts";

const GENERATOR = "codegen/generators/docs.ts";

function cell(text: unknown): string {
  return String(text ?? "")
    .replace(/\s+/g, " ")
    .replaceAll("|", "\\|")
    .trim();
}

function typeOf(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => `\`${v}\``).join(" \\| ");
  if (schema.type === "array") return `list of ${typeOf((schema.items ?? {}) as Record<string, unknown>)}`;
  if (schema.type === "string" && schema.pattern && String(schema.description ?? "").includes("decimal")) {
    return "decimal string";
  }
  if (schema.format) return `${schema.type} (${schema.format})`;
  return String(schema.type ?? "any");
}

export function generateDocs(contracts: Contracts): GeneratedFile[] {
  return [
    toolsPage(contracts),
    scopesPage(contracts),
    errorsPage(contracts),
    auditPage(contracts),
    cpapiPage(contracts),
  ];
}

function toolsPage(contracts: Contracts): GeneratedFile {
  const lines = [
    "# Tool reference",
    "",
    `${contracts.tools.length} tools. Each is callable as an MCP tool, an SDK method and a CLI command, always through the same`,
    "validation, scope check, gates and audit. Money and quantities are exact decimal strings.",
    "",
    "| Tool | CLI | Scope | Tier |",
    "| --- | --- | --- | --- |",
    ...contracts.tools.map(
      (tool) =>
        `| [\`${tool.name}\`](#${tool.name}) | \`ibkr-agent ${tool.cli.command}\` | \`${tool.scope}\` | ${tool.tier} |`,
    ),
    "",
  ];
  for (const tool of contracts.tools) {
    const input = publishedSchema(tool.input, contracts.defs);
    const properties = (input.properties ?? {}) as Record<string, Record<string, unknown>>;
    const required = new Set((input.required ?? []) as string[]);
    const flags = new Map(cliFlags(tool).map((flag) => [flag.property, flag]));
    lines.push(`## ${tool.name}`, "", `**${tool.title}**`, "", tool.description.trim(), "");
    lines.push(
      `- Scope: \`${tool.scope}\` (${tool.tier})`,
      `- SDK: \`gateway.${methodName(tool.name)}(…)\``,
      `- CLI: \`ibkr-agent ${tool.cli.command}\`${tool.cli.guard ? ` (needs \`--${tool.cli.guard}\`)` : ""}`,
      `- Broker calls: ${tool.broker.length > 0 ? tool.broker.map((id) => `\`${id}\``).join(", ") : "none"}`,
      `- Errors: ${tool.errors.map((code) => `[\`${code}\`](errors.md#${code.toLowerCase()})`).join(", ")}`,
      "",
    );
    if (Object.keys(properties).length > 0) {
      lines.push("| Argument | CLI | Type | Required | Description |", "| --- | --- | --- | --- | --- |");
      for (const [name, schema] of Object.entries(properties)) {
        const flag = flags.get(name);
        const cli = flag?.positional ? `<${flag.flag}>` : `--${flag?.flag ?? name}`;
        lines.push(
          `| \`${name}\` | \`${cli}\` | ${cell(typeOf(schema))} | ${required.has(name) ? "yes" : "no"} | ${cell(schema.description)} |`,
        );
      }
      lines.push("");
    } else {
      lines.push("No arguments.", "");
    }
    lines.push("Example:", "", "```json", JSON.stringify(tool.examples[0]?.input ?? {}), "```", "");
  }
  return {
    path: "docs/reference/tools.md",
    content: lines.join("\n"),
    generator: GENERATOR,
    sources: ["contracts/tools/*.yaml"],
  };
}

function scopesPage(contracts: Contracts): GeneratedFile {
  const lines = ["# Scope reference", "", "| Tier | Meaning |", "| --- | --- |"];
  for (const tier of contracts.tiers) lines.push(`| ${tier.name} | ${cell(tier.description)} |`);
  lines.push("", "| Scope | Tier | Tools | Description |", "| --- | --- | --- | --- |");
  for (const scope of [...contracts.scopes].sort((a, b) => a.name.localeCompare(b.name))) {
    const tools = contracts.tools
      .filter((tool) => tool.scope === scope.name)
      .map((tool) => `\`${tool.name}\``);
    lines.push(`| \`${scope.name}\` | ${scope.tier} | ${tools.join(", ")} | ${cell(scope.description)} |`);
  }
  return {
    path: "docs/reference/scopes.md",
    content: lines.join("\n"),
    generator: GENERATOR,
    sources: ["contracts/scopes.yaml", "contracts/tools/*.yaml"],
  };
}

function errorsPage(contracts: Contracts): GeneratedFile {
  const lines = [
    "# Error reference",
    "",
    "Every failure carries a stable code, a message and an action to take. The CLI exits with the code's group:",
    "",
    "| Group | Exit code |",
    "| --- | --- |",
    ...Object.entries(contracts.exitCodes).map(([group, exit]) => `| ${group} | ${exit} |`),
    "",
  ];
  for (const error of [...contracts.errors].sort((a, b) => a.code.localeCompare(b.code))) {
    lines.push(
      `## ${error.code}`,
      "",
      cell(error.message),
      "",
      `- What to do: ${cell(error.user_action)}`,
      `- Retryable: ${error.retryable ? "yes" : "no"}; CLI exit ${contracts.exitCodes[error.group]}; HTTP ${error.http}; MCP: ${error.mcp}`,
      "",
    );
  }
  lines.push("## Refusal reasons", "", "Reported inside a refusal, under the parent code.", "");
  lines.push("| Reason | Parent | Meaning | What to do |", "| --- | --- | --- | --- |");
  for (const reason of [...contracts.refusalReasons].sort((a, b) => a.code.localeCompare(b.code))) {
    lines.push(
      `| \`${reason.code}\` | \`${reason.parent}\` | ${cell(reason.message)} | ${cell(reason.user_action)} |`,
    );
  }
  lines.push("", "## Retired codes", "", "Never raised again and never reused.", "");
  lines.push("| Code | Replaced by | Why |", "| --- | --- | --- |");
  for (const entry of contracts.retired) {
    lines.push(
      `| \`${entry.code}\` | ${entry.replaced_by ? `\`${entry.replaced_by}\`` : "-"} | ${cell(entry.reason)} |`,
    );
  }
  return {
    path: "docs/reference/errors.md",
    content: lines.join("\n"),
    generator: GENERATOR,
    sources: ["contracts/errors.yaml"],
  };
}

function auditPage(contracts: Contracts): GeneratedFile {
  const { fields, event_types } = contracts.auditEvents;
  const lines = [
    "# Audit event reference",
    "",
    "## Envelope",
    "",
    "| Field | Type | Required | Description |",
  ];
  lines.push("| --- | --- | --- | --- |");
  for (const field of fields) {
    lines.push(
      `| \`${field.name}\` | ${field.type} | ${field.required ? "yes" : "no"} | ${cell(field.description)} |`,
    );
  }
  lines.push(
    "",
    "## Event types",
    "",
    "| Event | Category | Description | Metadata |",
    "| --- | --- | --- | --- |",
  );
  for (const type of [...event_types].sort((a, b) => a.name.localeCompare(b.name))) {
    const metadata = (type.metadata ?? []).map((entry) => `\`${entry.name}\``).join(", ");
    lines.push(`| \`${type.name}\` | ${type.category} | ${cell(type.description)} | ${metadata} |`);
  }
  return {
    path: "docs/reference/audit-events.md",
    content: lines.join("\n"),
    generator: GENERATOR,
    sources: ["contracts/audit-events.yaml"],
  };
}

function cpapiPage(contracts: Contracts): GeneratedFile {
  const lines = [
    "# CPAPI operations",
    "",
    "The Client Portal Web API endpoints the gateway calls, with the pacing and pre-conditions it applies.",
    "",
    "| Operation | Method and path | Pacing | Requires | Stability |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const op of listOperations(contracts)) {
    const pacing = op.pacing
      ? "concurrent" in op.pacing
        ? `${op.pacing.concurrent} concurrent`
        : `${op.pacing.rate} per ${op.pacing.per_seconds} s`
      : "global only";
    lines.push(
      `| \`${op.operationId}\` | \`${op.method} ${op.path}\` | ${pacing} | ${op.requires.join(", ") || "-"} | ${op.stability} |`,
    );
  }
  return {
    path: "docs/reference/cpapi.md",
    content: lines.join("\n"),
    generator: GENERATOR,
    sources: contracts.cpapi.map((doc) => doc.file),
  };
}
