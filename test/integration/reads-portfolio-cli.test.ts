// The portfolio tools from a spawned ibkr-agent process with no configuration (the built-in simulator on the
// real clock, so prices are whatever the simulated market says now: only the seeded holdings are checked).
import { describe, expect, it } from "vitest";
import { tempHome } from "../support/gateway.ts";
import { cli } from "../support/run.ts";

const BANNER = "SIMULATED DATA from the built-in simulator - not a real IBKR account.";
const HEADER =
  "SYMBOL  DESCRIPTION  CONTRACT ID  QUANTITY  AVERAGE PRICE  MARKET PRICE  MARKET VALUE  UNREALIZED PNL";

/** The table of a result block: header, rule and rows. */
function table(stdout: string, title: string): string[] {
  const block = stdout.split("\n\n").find((part) => part.startsWith(title));
  if (block === undefined) throw new Error(`no "${title}" block in:\n${stdout}`);
  return block
    .split("\n")
    .slice(1)
    .filter((line) => line !== "");
}

/** Where each column of the rule line starts and ends. */
function columnSpans(rule: string): [number, number][] {
  return [...rule.matchAll(/-+/g)].map((m) => [m.index, m.index + m[0].length]);
}

describe("ibkr-agent positions list", () => {
  it("prints an aligned table under the SIMULATED banner", async () => {
    const run = await cli(["positions", "list", "--account", "DU1234567"], { IBKR_AGENT_HOME: tempHome() });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toBe(BANNER);
    expect(run.stdout).toContain("page size:  100\nhas more:   false");
    const [header = "", rule = "", ...rows] = table(run.stdout, "Positions (3):");
    // Header cells pad to the widest value, so compare word by word, then check every row against the rule.
    expect(header.split(/\s{2,}/)).toEqual(HEADER.split(/\s{2,}/));
    const spans = columnSpans(rule);
    expect(spans.length).toBe(8);
    for (const row of rows) {
      expect(row.length).toBeLessThanOrEqual(rule.length);
      // Text columns start at their column; number columns end at its right edge.
      for (const [index, [start, end]] of spans.entries()) {
        const cell = row.slice(start, end);
        expect(cell.trim().length, `column ${index} of "${row}"`).toBeGreaterThan(0);
        if (index < 2) expect(cell.startsWith(" ")).toBe(false);
        else expect(cell.endsWith(" ")).toBe(false);
      }
    }
    // The seeded holdings: symbol, description, conid, quantity and average price do not move with the market.
    const fixed = rows.map((row) => row.split(/\s+/).slice(0, 5));
    expect(fixed).toEqual([
      ["AAPL", "AAPL", "265598", "200", "251.3"],
      ["MSFT", "MSFT", "272093", "60", "482.12"],
      ["SPY", "SPY", "756733", "20", "655.04"],
    ]);
  });

  it("prints the tool's result as JSON with --json", async () => {
    const run = await cli(["positions", "list", "--account", "DU1234567", "--json"], {
      IBKR_AGENT_HOME: tempHome(),
    });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      account_id: "DU1234567",
      page: 0,
      page_size: 100,
      has_more: false,
      source: { backend: "simulator", simulated: true },
    });
    const positions = result.positions as Record<string, unknown>[];
    expect(positions.map((p) => [p.contract_id, p.asset_class, p.quantity, p.average_price])).toEqual([
      ["265598", "stock", "200", "251.3"],
      ["272093", "stock", "60", "482.12"],
      ["756733", "etf", "20", "655.04"],
    ]);
    expect(positions.every((p) => typeof p.market_value === "string")).toBe(true);
  });
});

describe("ibkr-agent portfolio snapshot", () => {
  it("formats money with digit groups, two decimals and the currency", async () => {
    const run = await cli(["portfolio", "snapshot", "--account", "DU1234567"], {
      IBKR_AGENT_HOME: tempHome(),
    });
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toBe(BANNER);
    // No fills in a fresh simulator: the cash is the seeded 880,000 USD.
    expect(run.stdout).toContain("\ntotal cash:          880,000.00 USD\n");
    expect(run.stdout).toMatch(/\nnet liquidation: {5}\d{1,3}(,\d{3})*\.\d{2} USD\n/);
    expect(run.stdout).toContain("positions truncated: false");
    expect(table(run.stdout, "Positions (3):")[0]?.split(/\s{2,}/)).toEqual(HEADER.split(/\s{2,}/));
  });
});
