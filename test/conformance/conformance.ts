// Runs the server scenarios of @modelcontextprotocol/conformance against our Streamable HTTP MCP server
// (server.ts: local mode on the in-process simulator) and judges them against expected-failures.yaml. The
// verdict is the tool's own baseline check: it fails on a scenario that fails (or warns) without being
// listed, and on a listed scenario that passes (a stale entry). Our file adds a reason to every entry; it
// is checked here (every entry has a reason, names a scenario the tool knows, and appears once) and handed
// to the tool in the tool's plain format. Everything is local: the tool, the server and the simulator.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { startConformanceTarget } from "./server.ts";

export const EXPECTED_FAILURES_FILE = join(import.meta.dirname, "expected-failures.yaml");

export interface ExpectedFailure {
  readonly scenario: string;
  readonly reason: string;
}

export interface ScenarioOutcome {
  readonly scenario: string;
  /** The tool's rule: a scenario fails when any of its checks is a FAILURE or a WARNING. */
  readonly passed: boolean;
  /** The messages of its failed or warning checks. */
  readonly problems: readonly string[];
  /** Checks that succeeded; 0 with no problems means the scenario found nothing to check (only INFO). */
  readonly succeeded: number;
  /** Its informational notes, e.g. why nothing was checked. */
  readonly notes: readonly string[];
  /** The reason from the expected-failures file, when it is listed there. */
  readonly expectedReason?: string;
}

export interface ConformanceRun {
  /** The tool's exit code: 0 when every outcome matched the expected failures. */
  readonly exitCode: number;
  readonly outcomes: readonly ScenarioOutcome[];
  /** Failed without being expected. */
  readonly unexpectedFailures: readonly string[];
  /** Expected to fail but passed. */
  readonly unexpectedPasses: readonly string[];
  /** What the tool printed (stdout and stderr). */
  readonly output: string;
}

export interface ConformanceOptions {
  readonly expectedFailures?: readonly ExpectedFailure[];
  /** One scenario instead of the whole suite. */
  readonly scenario?: string;
  /** Where the tool's output goes as it runs, besides being collected. */
  readonly echo?: (text: string) => void;
}

function toolEntry(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("@modelcontextprotocol/conformance/package.json");
  const { bin } = JSON.parse(readFileSync(manifest, "utf8")) as { bin: Record<string, string> };
  return join(dirname(manifest), bin.conformance ?? "dist/index.js");
}

async function runTool(
  args: readonly string[],
  echo?: (text: string) => void,
): Promise<{ code: number; output: string }> {
  // The same Node that runs us (the pinned one under npm run / npx), never whatever is on PATH.
  const child = spawn(process.execPath, [toolEntry(), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output += text;
    echo?.(text);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exit) => resolve(exit ?? 1));
  });
  return { code, output };
}

/** The server scenarios this version of the tool knows (all suites). */
export async function knownScenarios(): Promise<string[]> {
  const { code, output } = await runTool(["list", "--server"]);
  if (code !== 0) throw new Error(`conformance list failed:\n${output}`);
  return [...output.matchAll(/^\s+- (\S+)/gm)].map((match) => match[1] as string);
}

/** Reads and checks the expected-failures file: a reason for each entry, known scenarios, no duplicates. */
export function readExpectedFailures(
  text: string,
  known: readonly string[],
  file = EXPECTED_FAILURES_FILE,
): ExpectedFailure[] {
  const document = parse(text) as { server?: unknown } | null;
  const entries = document?.server;
  if (!Array.isArray(entries)) throw new Error(`${file}: expected a list under server:`);
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const { scenario, reason } = (entry ?? {}) as { scenario?: unknown; reason?: unknown };
    const where = `${file}: server[${index}]`;
    if (typeof scenario !== "string" || scenario === "") throw new Error(`${where} has no scenario`);
    if (typeof reason !== "string" || reason.trim() === "")
      throw new Error(`${where} (${scenario}) gives no reason`);
    if (!known.includes(scenario))
      throw new Error(`${where}: the conformance tool has no server scenario ${scenario}`);
    if (seen.has(scenario)) throw new Error(`${where}: ${scenario} is listed twice`);
    seen.add(scenario);
    return { scenario, reason: reason.trim() };
  });
}

/** checks.json of each scenario, found under the tool's output directory (server-<scenario>-<timestamp>). */
function outcomesIn(dir: string, known: readonly string[], expected: readonly ExpectedFailure[]) {
  const byLength = [...known].sort((a, b) => b.length - a.length);
  const outcomes: ScenarioOutcome[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const scenario = byLength.find((name) => entry.startsWith(`server-${name}-`));
    if (scenario === undefined) continue;
    const checks = JSON.parse(readFileSync(join(dir, entry, "checks.json"), "utf8")) as {
      id: string;
      status: string;
      errorMessage?: string;
      details?: { message?: unknown };
    }[];
    const problems = checks
      .filter((check) => check.status === "FAILURE" || check.status === "WARNING")
      .map((check) => `${check.status} ${check.id}: ${check.errorMessage ?? ""}`.trim());
    const notes = checks
      .filter((check) => check.status === "INFO" && typeof check.details?.message === "string")
      .map((check) => String(check.details?.message));
    const reason = expected.find((failure) => failure.scenario === scenario)?.reason;
    outcomes.push({
      scenario,
      passed: problems.length === 0,
      problems,
      succeeded: checks.filter((check) => check.status === "SUCCESS").length,
      notes,
      ...(reason !== undefined ? { expectedReason: reason } : {}),
    });
  }
  return outcomes;
}

export async function runConformance(options: ConformanceOptions = {}): Promise<ConformanceRun> {
  const known = await knownScenarios();
  const expected =
    options.expectedFailures ?? readExpectedFailures(readFileSync(EXPECTED_FAILURES_FILE, "utf8"), known);
  const work = mkdtempSync(join(tmpdir(), "ibkr-conformance-"));
  const target = await startConformanceTarget();
  try {
    const baseline = join(work, "baseline.yaml");
    writeFileSync(baseline, stringify({ server: expected.map((failure) => failure.scenario) }));
    const results = join(work, "results");
    const { code, output } = await runTool(
      [
        "server",
        "--url",
        target.url,
        ...(options.scenario !== undefined ? ["--scenario", options.scenario] : ["--suite", "all"]),
        "--expected-failures",
        baseline,
        "--output-dir",
        results,
      ],
      options.echo,
    );
    const outcomes = outcomesIn(results, known, expected);
    return {
      exitCode: code,
      outcomes,
      unexpectedFailures: outcomes
        .filter((o) => !o.passed && o.expectedReason === undefined)
        .map((o) => o.scenario),
      unexpectedPasses: outcomes
        .filter((o) => o.passed && o.expectedReason !== undefined)
        .map((o) => o.scenario),
      output,
    };
  } finally {
    await target.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A readable table of the outcomes: what passed, what failed as expected (and why), what did not. */
export function renderOutcomes(run: ConformanceRun): string {
  const width = Math.max(...run.outcomes.map((o) => o.scenario.length), 8);
  const lines = run.outcomes.map((o) => {
    const verdict = o.passed
      ? o.expectedReason !== undefined
        ? "PASS (listed as an expected failure: remove it)"
        : o.succeeded === 0
          ? `pass, nothing to check${o.notes.length > 0 ? `: ${o.notes.join("; ")}` : ""}`
          : "pass"
      : o.expectedReason === undefined
        ? `FAIL (unexpected): ${o.problems.join("; ")}`
        : `expected failure: ${o.expectedReason}`;
    return `  ${o.scenario.padEnd(width)}  ${verdict}`;
  });
  const passed = run.outcomes.filter((o) => o.passed).length;
  const expectedFailed = run.outcomes.filter((o) => !o.passed && o.expectedReason !== undefined).length;
  const ok = run.exitCode === 0;
  return [
    "MCP conformance, server scenarios (@modelcontextprotocol/conformance):",
    ...lines,
    "",
    `${passed} passed, ${expectedFailed} failed as expected, ${run.unexpectedFailures.length} failed unexpectedly, ${run.unexpectedPasses.length} passed unexpectedly.`,
    ok ? "Conformance matches the expected failures." : "Conformance does NOT match the expected failures.",
  ].join("\n");
}
