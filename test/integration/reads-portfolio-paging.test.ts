// Position pages of an account holding more than 100 positions (simulator scenario many-positions: the three
// seeded stocks plus 230 AAPL options, December 2028, strikes 150 to 435 in 2.5 steps, call and put).
import { describe, expect, it } from "vitest";
import { callOk, testGateway } from "../support/gateway.ts";

const ACCOUNT = "DU1234567";
/** Far more pages than the scenario holds: a walk that never ends is a failure, not a hang. */
const MAX_PAGES = 10;

type Page = { page: number; positions: Record<string, unknown>[]; has_more: boolean };

describe("positions of an account with more than 100 positions", () => {
  it("pages by 100 until a page is not full, each position exactly once", async () => {
    const { gateway, sim } = await testGateway({ scenario: "many-positions" });
    const pages: Page[] = [];
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const result = (await callOk(gateway, "ibkr_positions_list", { account_id: ACCOUNT, page })) as Page;
      pages.push(result);
      if (!result.has_more) break;
    }
    expect(pages.map((p) => [p.page, p.positions.length, p.has_more])).toEqual([
      [0, 100, true],
      [1, 100, true],
      [2, 33, false],
    ]);
    const ids = pages.flatMap((p) => p.positions.map((position) => position.contract_id as string));
    expect(new Set(ids).size).toBe(233);
    // The broker orders by conid: the stocks first, then the options by strike, call before put.
    expect(ids.slice(0, 3)).toEqual(["265598", "272093", "756733"]);
    expect(pages[0]?.positions[3]).toMatchObject({
      symbol: "AAPL",
      description: "AAPL 20281215 150 C",
      asset_class: "option",
      quantity: "1",
      average_price: "10",
      average_cost: "1000",
      multiplier: "100",
      expiry: "2028-12-15",
      strike: "150",
      right: "call",
      underlying_contract_id: "265598",
    });
    expect(pages[2]?.positions.at(-1)).toMatchObject({ strike: "435", right: "put" });
    // One page per call, read from the broker's cache (nothing asked it to rebuild).
    expect(sim.control.count("getPositions")).toBe(3);
    expect(sim.control.count("invalidatePositions")).toBe(0);
  });

  it("shows the first 100 in the snapshot and says there are more", async () => {
    const { gateway, sim } = await testGateway({ scenario: "many-positions" });
    const snapshot = await callOk(gateway, "ibkr_portfolio_snapshot", { account_id: ACCOUNT });
    expect((snapshot.positions as unknown[]).length).toBe(100);
    expect(snapshot.positions_truncated).toBe(true);
    expect(sim.control.count("getPositions")).toBe(2);
  });

  it("does not call a snapshot of exactly 100 positions truncated", async () => {
    const { gateway, sim } = await testGateway({ scenario: "many-positions" });
    // Close 133 of the options in the simulator's book (what closing fills leave behind: quantity 0), before
    // the broker first builds its position list.
    const book = sim.state.accounts.get(ACCOUNT);
    const options = [...(book?.positions.values() ?? [])].filter((p) => p.conid >= 600_000_000);
    for (const position of options.slice(97)) position.quantity = 0;

    const snapshot = await callOk(gateway, "ibkr_portfolio_snapshot", { account_id: ACCOUNT });
    expect((snapshot.positions as unknown[]).length).toBe(100);
    expect(snapshot.positions_truncated).toBe(false);
    // Page 0 was full, so page 1 was read to know; it was empty.
    expect(sim.control.count("getPositions")).toBe(2);

    // The list cannot know without asking: a full page says has_more, the next one is empty.
    const first = await callOk(gateway, "ibkr_positions_list", { account_id: ACCOUNT });
    expect(first.has_more).toBe(true);
    const second = await callOk(gateway, "ibkr_positions_list", { account_id: ACCOUNT, page: 1 });
    expect(second).toMatchObject({ page: 1, positions: [], has_more: false });
  });
});
