// The MCP conformance server scenarios against our HTTP server (what `npm run conformance` runs), so CI
// covers them: every scenario the tool knows runs, the ones that pass are exactly the ones not listed in
// expected-failures.yaml, and the verdict really does fail on an unexpected failure and on an unexpected
// pass (a stale entry), not only report them.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  EXPECTED_FAILURES_FILE,
  knownScenarios,
  readExpectedFailures,
  runConformance,
} from "./conformance.ts";

describe("MCP conformance server scenarios", () => {
  it("match the expected failures, each of which gives a reason", async () => {
    const known = await knownScenarios();
    const expected = readExpectedFailures(readFileSync(EXPECTED_FAILURES_FILE, "utf8"), known);
    const run = await runConformance({ expectedFailures: expected });
    expect(run.unexpectedFailures).toEqual([]);
    expect(run.unexpectedPasses).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outcomes.map((o) => o.scenario).sort()).toEqual([...known].sort());
    expect(
      run.outcomes
        .filter((o) => o.passed)
        .map((o) => o.scenario)
        .sort(),
    ).toEqual([
      "dns-rebinding-protection",
      "ping",
      "server-initialize",
      "server-sse-multiple-streams",
      "server-sse-polling",
      "tools-list",
    ]);
    // server-sse-polling checks SSE priming events; we answer POSTs with JSON, so it finds nothing to check.
    expect(run.outcomes.find((o) => o.scenario === "server-sse-polling")?.succeeded).toBe(0);
    expect(run.outcomes.find((o) => o.scenario === "dns-rebinding-protection")?.succeeded).toBe(2);
  }, 120_000);

  it("fails on a scenario that passes while listed as an expected failure", async () => {
    const run = await runConformance({
      scenario: "ping",
      expectedFailures: [{ scenario: "ping", reason: "listed on purpose" }],
    });
    expect(run.unexpectedPasses).toEqual(["ping"]);
    expect(run.exitCode).toBe(1);
  }, 60_000);

  it("fails on a scenario that fails without being listed", async () => {
    const run = await runConformance({ scenario: "prompts-list", expectedFailures: [] });
    expect(run.unexpectedFailures).toEqual(["prompts-list"]);
    expect(run.outcomes[0]?.problems).toEqual([
      "FAILURE prompts-list: Failed: MCP error -32601: Method not found",
    ]);
    expect(run.exitCode).toBe(1);
  }, 60_000);
});

describe("the expected-failures file", () => {
  const known = ["ping", "prompts-list"];
  it("needs a reason for every entry", () => {
    expect(() => readExpectedFailures("server:\n  - scenario: prompts-list\n", known, "f.yaml")).toThrow(
      "f.yaml: server[0] (prompts-list) gives no reason",
    );
    expect(() => readExpectedFailures("server:\n  - prompts-list\n", known, "f.yaml")).toThrow(
      "f.yaml: server[0] has no scenario",
    );
  });
  it("names only scenarios the tool knows, once each", () => {
    expect(() =>
      readExpectedFailures("server:\n  - scenario: prompt-list\n    reason: typo\n", known, "f.yaml"),
    ).toThrow("f.yaml: server[0]: the conformance tool has no server scenario prompt-list");
    expect(() =>
      readExpectedFailures(
        "server:\n  - { scenario: ping, reason: a }\n  - { scenario: ping, reason: b }\n",
        known,
        "f.yaml",
      ),
    ).toThrow("f.yaml: server[1]: ping is listed twice");
  });
});
