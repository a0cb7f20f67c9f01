// The CLI as a user meets it: spawned as a process, with real exit codes and output streams.
import { describe, expect, it } from "vitest";
import { cli } from "../support/run.ts";

describe("ibkr-agent CLI", () => {
  it("prints complete help", async () => {
    const result = await cli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("ibkr-agent <command> [options]");
    expect(result.stdout).toContain("--json");
    expect(result.stdout).toContain("tools");
  });

  it("lists the tools with a summary line", async () => {
    const result = await cli(["tools", "list"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^TOOL\s+TIER\s+SCOPE\s+COMMAND$/m);
    expect(result.stdout).toMatch(
      /^ibkr_accounts_list\s+read\s+ibkr:accounts:read\s+ibkr-agent accounts list$/m,
    );
    expect(result.stdout).toContain("46 tools, 27 scopes,");
  });

  it("prints stable JSON with --json", async () => {
    const result = await cli(["tools", "list", "--json"]);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as { summary: Record<string, number>; tools: { name: string }[] };
    expect(body.summary.tools).toBe(46);
    expect(body.summary.scopes).toBe(27);
    expect(body.tools.map((tool) => tool.name)).toContain("ibkr_kill_switch_engage");
  });

  it("shows one tool", async () => {
    const result = await cli(["tools", "show", "ibkr_account_summary"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Scope:   ibkr:portfolio:read (read)");
    expect(result.stdout).toContain("--account");
  });

  it("answers an unknown tool with a stable code, an action and exit 2", async () => {
    const text = await cli(["tools", "show", "ibkr_nope"]);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain("Error INPUT_UNKNOWN_TOOL");
    expect(text.stderr).toContain("What to do:");
    const json = await cli(["tools", "show", "ibkr_nope", "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { code: "INPUT_UNKNOWN_TOOL", retryable: false, audit_event_id: null },
    });
  });

  it("exits 2 on an unknown command and says how to get help", async () => {
    const result = await cli(["no-such-command"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Run ibkr-agent --help for usage.");
  });
});
