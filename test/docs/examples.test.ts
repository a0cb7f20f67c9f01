// Every `ibkr-agent` example in the README and docs/ runs as written on the simulator, so the docs cannot go
// stale. Examples run in the order of their file, each file in a fresh state directory and working
// directory, with the environment lines (`export NAME=...`) of its blocks applied. Skipped, with the reason in
// SKIP below: commands that run until stopped, and commands that need a real Client Portal Gateway.

import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, run } from "../support/run.ts";

interface Example {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

const SKIP: readonly [RegExp, string][] = [
  [/^ibkr-agent simulator(?!.*--list-scenarios)/, "runs until stopped"],
  [/^ibkr-agent mcp serve(?!.*--describe)/, "serves MCP until the client goes away"],
  [/^ibkr-agent sidecar run\b/, "relays until stopped"],
  [/--follow/, "follows the log until stopped"],
  [/^ibkr-agent record\b/, "needs a real Client Portal Gateway"],
  [/[<>]|\.\.\./, "a placeholder for the reader to fill in"],
];

/** Files whose examples assume a configuration the page itself describes. */
const SETUP: Readonly<Record<string, string>> = {
  "docs/audit.md": [
    "audit:",
    "  secret_env: IBKR_AGENT_AUDIT_SECRET",
    "auth:",
    "  enabled_scopes: [ibkr:health:read, ibkr:audit:read, ibkr:audit:export, ibkr:audit:admin]",
    "",
  ].join("\n"),
  // The paper configuration the runbook shows (keep the two equal).
  "docs/operator-runbook.md": [
    "audit:",
    "  secret_env: IBKR_AGENT_AUDIT_SECRET",
    "auth:",
    "  enabled_scopes:",
    ...[
      "ibkr:health:read",
      "ibkr:accounts:read",
      "ibkr:portfolio:read",
      "ibkr:positions:read",
      "ibkr:marketdata:read",
      "ibkr:orders:read",
      "ibkr:risk:read",
      "ibkr:audit:read",
      "ibkr:audit:export",
      "ibkr:orders:preview",
      "ibkr:approvals:create",
      "ibkr:orders:paper:submit",
      "ibkr:orders:paper:cancel",
      "ibkr:orders:paper:modify",
      "ibkr:safety:engage",
    ].map((scope) => `    - ${scope}`),
    "safety:",
    "  paper_trading_enabled: true",
    "order_preview:",
    "  enabled: true",
    "paper_trading:",
    "  enabled: true",
    "  allowed_accounts: [DU1234567]",
    "",
  ].join("\n"),
  // The remote gateway's configuration of the sidecar page (its examples run on the relay side).
  "docs/sidecar.md": [
    "audit:",
    "  secret_env: IBKR_AGENT_AUDIT_SECRET",
    "broker:",
    "  backend: relay",
    "safety:",
    "  remote_mcp_enabled: true",
    "  sidecar_enabled: true",
    "remote_mcp:",
    "  enabled: true",
    "  resource: https://gateway.example.com/mcp",
    "  issuer: https://auth.example.com/",
    "  jwks_url: https://auth.example.com/.well-known/jwks.json",
    "  allowed_scopes: [ibkr:health:read, ibkr:accounts:read]",
    "sidecar:",
    "  enabled: true",
    "",
  ].join("\n"),
  // The incident responder's configuration: audit procedures, the account list and the kill switch.
  "docs/incident-review.md": [
    "audit:",
    "  secret_env: IBKR_AGENT_AUDIT_SECRET",
    "auth:",
    "  enabled_scopes: [ibkr:health:read, ibkr:accounts:read, ibkr:orders:read, ibkr:audit:read,",
    "    ibkr:audit:export, ibkr:audit:admin, ibkr:safety:engage]",
    "",
  ].join("\n"),
};

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "reference" ? [] : markdownFiles(path);
    return name.endsWith(".md") ? [path] : [];
  });
}

function examplesOf(file: string): Example[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const out: Example[] = [];
  let inShell = false;
  lines.forEach((raw, index) => {
    const fence = /^\s*```(\w*)/.exec(raw);
    if (fence) {
      inShell = !inShell && ["sh", "bash", "shell", "console"].includes(fence[1] ?? "");
      return;
    }
    if (!inShell) return;
    const text = raw
      .trim()
      .replace(/^\$\s+/, "")
      .replace(/\s+#.*$/, "")
      .trim();
    if (/^(ibkr-agent|node src\/cli\/bin\.ts|export )/.test(text)) {
      out.push({ file: relative(ROOT, file), line: index + 1, text });
    }
  });
  return out;
}

/** Splits a command line like a shell would for these examples: spaces, and single or double quotes. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

const files = [join(ROOT, "README.md"), ...markdownFiles(join(ROOT, "docs"))];
const byFile = files
  .map((file) => [relative(ROOT, file), examplesOf(file)] as const)
  .filter(([, ex]) => ex.length > 0);

describe("documentation examples", () => {
  it("finds examples in the README and the docs", () => {
    const count = byFile.reduce(
      (sum, [, examples]) => sum + examples.filter((e) => !e.text.startsWith("export ")).length,
      0,
    );
    expect(count).toBeGreaterThan(60);
  });

  // Files run side by side (each has its own state directory): much of a file's time is waiting on pacing.
  it.concurrent.each(byFile)(
    "%s: every example runs as written",
    async (file, examples) => {
      const cwd = mkdtempSync(join(tmpdir(), "ibkr-docs-"));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        IBKR_AGENT_HOME: join(cwd, "state"),
        IBKR_AGENT_AUDIT_SECRET: randomBytes(32).toString("hex"),
      };
      delete env.IBKR_AGENT_CONFIG;
      const setup = SETUP[file];
      if (setup !== undefined) {
        writeFileSync(join(cwd, "setup.yaml"), setup);
        env.IBKR_AGENT_CONFIG = join(cwd, "setup.yaml");
      }
      const failures: string[] = [];
      try {
        for (const example of examples) {
          const skip = SKIP.find(([pattern]) => pattern.test(example.text));
          if (skip !== undefined) continue;
          if (example.text.startsWith("export ")) {
            const [name, ...rest] = example.text.slice("export ".length).split("=");
            const value = rest.join("=").replace(/^"|"$/g, "");
            env[name as string] = value.includes("$(openssl rand -hex 32)")
              ? randomBytes(32).toString("hex")
              : value.replaceAll("$PWD", cwd);
            continue;
          }
          const args = words(example.text.replace(/^(ibkr-agent|node src\/cli\/bin\.ts)\s*/, ""));
          const result = await run(process.execPath, [join(ROOT, "src/cli/bin.ts"), ...args], {
            cwd,
            env,
            timeoutMs: 60_000,
          });
          if (result.code !== 0) {
            failures.push(
              `${example.file}:${example.line} \`${example.text}\` exited ${result.code}: ${result.stderr.slice(0, 300)}`,
            );
          }
        }
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
      expect(failures).toEqual([]);
    },
    600_000,
  );
});
