// A full day of paper trading on the in-process simulator, on virtual time: from the open, previews,
// approvals and submits (limits, a stop, a bracket), fills as prices move, a modify, a cancel, the brokerage
// session dropping at midday and a person logging in again, orders placed after it, a DAY order expiring at the
// close, and a reconciliation pass every five simulated minutes (as the MCP server's loop would run it). At
// the end every view must tell the same story as the test's own journal: positions move by exactly the fills,
// every order's lifecycle is a gapless chain ending where the broker says it ended, nothing was placed twice,
// the reconciliation backlog is empty and the audit chain verifies.
//
// Prices are set before every step that depends on them and every working order keeps a margin of a few
// dollars from the price of the moment, so the deterministic price path between steps cannot cross one.
import { beforeAll, describe, expect, it } from "vitest";
import type { AuditEventRecord } from "../../src/store/index.ts";
import { callOk, testGateway } from "../support/gateway.ts";
import { PAPER_ACCOUNT, paperConfig } from "../support/orders.ts";

const MINUTE = 60_000;
/** Tuesday 2026-12-01 09:30 in New York: the regular session opens. */
const OPEN = Date.UTC(2026, 11, 1, 14, 30);
const ACCOUNT = { account_id: PAPER_ACCOUNT };
const NEUTRAL = { AAPL: 265, MSFT: 480, SPY: 680 } as const;

type Symbol = keyof typeof NEUTRAL;

/** What the test did with one broker order, and how it must have ended. */
interface Journal {
  readonly label: string;
  readonly symbol: Symbol;
  readonly side: "buy" | "sell";
  readonly brokerOrderId: string;
  readonly clientOrderId: string | null;
  readonly final: "filled" | "cancelled";
  /** Shares filled by the end of the day. */
  readonly filled: number;
}

interface Day {
  readonly journal: Journal[];
  readonly startPositions: Record<string, string>;
  readonly endPositions: Record<string, string>;
  readonly executions: Record<string, unknown>[];
  readonly sessionOrders: Record<string, unknown>[];
  readonly history: Record<string, unknown>[];
  readonly events: AuditEventRecord[];
  readonly verified: { chain_valid: boolean; events_scanned: number };
  readonly backlog: number;
  readonly reconcilePasses: number;
  readonly brokerOrders: { orderId: number; cOID: string | null; status: string; filled: number }[];
  readonly placeOrdersRequests: number;
  readonly rawIdInAudit: boolean;
}

let day: Day;

beforeAll(async () => {
  const { gateway, sim, clock } = await testGateway({ config: paperConfig(), startAt: OPEN });
  const journal: Journal[] = [];
  const origin = {
    kind: "system" as const,
    context: { ...gateway.store.systemContext(), principal: "system:reconciler" },
  };
  let reconcilePasses = 0;
  const price = (prices: Partial<Record<Symbol, number>>) => {
    for (const [symbol, value] of Object.entries(prices)) sim.control.setPrice(symbol, value);
  };
  /** Simulated time passes in five-minute steps: a keep-alive read and a reconciliation pass each. */
  const wait = async (minutes: number) => {
    for (let left = minutes; left > 0; left -= 5) {
      sim.control.advance(Math.min(5, left) * MINUTE);
      await callOk(gateway, "ibkr_backend_status");
      const report = await gateway.procedures.reconciler.once(origin);
      expect(report.ran).toBe(true);
      reconcilePasses += 1;
    }
  };
  const until = async (hour: number, minute: number) =>
    wait(Math.round((Date.UTC(2026, 11, 1, hour + 5, minute) - clock.now()) / MINUTE));
  const positions = async () => {
    const listed = await callOk(gateway, "ibkr_positions_list", { ...ACCOUNT, refresh: true });
    return Object.fromEntries(
      (listed.positions as { symbol: string; quantity: string }[]).map((p) => [p.symbol, p.quantity]),
    );
  };
  const approved = async (tool: string, order: Record<string, unknown>) => {
    const preview = await callOk(gateway, tool, { ...ACCOUNT, ...order });
    const approval = await callOk(gateway, "ibkr_approvals_create", {
      ...ACCOUNT,
      preview_id: preview.preview_id,
    });
    return String(approval.approval_id);
  };
  const submit = async (
    label: string,
    order: { symbol: Symbol; side: "buy" | "sell" } & Record<string, unknown>,
    final: Journal["final"],
    filled: number,
  ) => {
    price({ [order.symbol]: NEUTRAL[order.symbol] });
    const approvalId = await approved("ibkr_order_preview", { time_in_force: "day", ...order });
    const result = await callOk(gateway, "ibkr_paper_order_submit", {
      ...ACCOUNT,
      approval_id: approvalId,
      idempotency_key: `day-${label}`,
    });
    expect(result.replayed).toBe(false);
    journal.push({
      label,
      symbol: order.symbol,
      side: order.side,
      brokerOrderId: String(result.broker_order_id),
      clientOrderId: String(result.client_order_id),
      final,
      filled,
    });
    return String(result.broker_order_id);
  };

  const startPositions = await positions();
  await wait(1);

  // 09:31 - 09:35: the morning's orders.
  await submit(
    "aapl-buy",
    { symbol: "AAPL", side: "buy", quantity: "10", order_type: "limit", limit_price: "261" },
    "filled",
    10,
  );
  await submit(
    "msft-stop",
    { symbol: "MSFT", side: "sell", quantity: "50", order_type: "stop", stop_price: "470" },
    "filled",
    50,
  );
  price({ SPY: NEUTRAL.SPY });
  const bracketApproval = await approved("ibkr_bracket_order_preview", {
    symbol: "SPY",
    side: "buy",
    quantity: "20",
    entry_limit_price: "675",
    take_profit_limit_price: "690",
    stop_loss_stop_price: "665",
  });
  const bracket = await callOk(gateway, "ibkr_paper_bracket_order_submit", {
    ...ACCOUNT,
    approval_id: bracketApproval,
    idempotency_key: "day-spy-bracket",
  });
  const legs = bracket.legs as { role: string; broker_order_id: string }[];
  expect(legs.map((leg) => leg.role)).toEqual(["entry", "take_profit", "stop_loss"]);
  const legOf = (role: string) => String(legs.find((leg) => leg.role === role)?.broker_order_id);
  journal.push(
    {
      label: "spy-entry",
      symbol: "SPY",
      side: "buy",
      brokerOrderId: legOf("entry"),
      clientOrderId: String(bracket.client_order_id),
      final: "filled",
      filled: 20,
    },
    {
      label: "spy-take-profit",
      symbol: "SPY",
      side: "sell",
      brokerOrderId: legOf("take_profit"),
      clientOrderId: null,
      final: "filled",
      filled: 20,
    },
    {
      label: "spy-stop-loss",
      symbol: "SPY",
      side: "sell",
      brokerOrderId: legOf("stop_loss"),
      clientOrderId: null,
      final: "cancelled",
      filled: 0,
    },
  );
  const toCancel = await submit(
    "aapl-low-bid",
    { symbol: "AAPL", side: "buy", quantity: "15", order_type: "limit", limit_price: "258" },
    "cancelled",
    0,
  );
  const toModify = await submit(
    "msft-bid",
    { symbol: "MSFT", side: "buy", quantity: "30", order_type: "limit", limit_price: "467" },
    "filled",
    25,
  );

  // 10:00 AAPL dips under the first bid.
  await until(10, 0);
  price({ AAPL: 260 });
  await wait(5);
  price({ AAPL: NEUTRAL.AAPL });

  // 10:15 the MSFT bid becomes 25 shares at 466; 10:20 the low AAPL bid is cancelled.
  await until(10, 15);
  price({ MSFT: NEUTRAL.MSFT });
  const modified = await callOk(gateway, "ibkr_paper_order_modify", {
    ...ACCOUNT,
    broker_order_id: toModify,
    idempotency_key: "day-msft-modify",
    quantity: "25",
    limit_price: "466",
  });
  expect(modified.replayed).toBe(false);
  await until(10, 20);
  const cancelled = await callOk(gateway, "ibkr_paper_order_cancel", {
    ...ACCOUNT,
    broker_order_id: toCancel,
    idempotency_key: "day-aapl-cancel",
  });
  expect(cancelled.replayed).toBe(false);

  // 10:30 MSFT falls through the stop (and stays above the bid); 11:00 SPY reaches the bracket's entry;
  // 11:30 MSFT reaches the bid; 12:00 SPY rises to the take-profit, which cancels the stop-loss.
  await until(10, 30);
  price({ MSFT: 469 });
  await wait(5);
  price({ MSFT: NEUTRAL.MSFT });
  await until(11, 0);
  price({ SPY: 674 });
  await wait(5);
  price({ SPY: NEUTRAL.SPY });
  await until(11, 30);
  price({ MSFT: 465 });
  await wait(5);
  price({ MSFT: NEUTRAL.MSFT });
  await until(12, 0);
  price({ SPY: 691 });
  await wait(5);
  price({ SPY: NEUTRAL.SPY });
  await until(12, 30);

  // 12:30 the brokerage session drops; a person logs in again a few minutes later (a new session).
  sim.control.dropBrokerage();
  sim.control.advance(3 * MINUTE);
  sim.control.login();
  await wait(5);

  // The afternoon, in the new session: an AAPL sale that fills and an SPY bid left to expire at the close.
  await submit(
    "aapl-sell",
    { symbol: "AAPL", side: "sell", quantity: "5", order_type: "limit", limit_price: "268" },
    "filled",
    5,
  );
  await submit(
    "spy-bid",
    { symbol: "SPY", side: "buy", quantity: "5", order_type: "limit", limit_price: "670" },
    "cancelled",
    0,
  );
  await until(13, 30);
  price({ AAPL: 269 });
  await wait(5);
  price({ AAPL: NEUTRAL.AAPL });
  // Past the close (16:00): DAY orders end.
  await until(16, 10);

  const executions = (await callOk(gateway, "ibkr_executions_list", ACCOUNT)).executions as Record<
    string,
    unknown
  >[];
  const sessionOrders = (await callOk(gateway, "ibkr_orders_list", ACCOUNT)).orders as Record<
    string,
    unknown
  >[];
  const history = (await callOk(gateway, "ibkr_orders_history", ACCOUNT)).orders as Record<string, unknown>[];
  const endPositions = await positions();
  const events = [...gateway.store.exportEvents()];
  day = {
    journal,
    startPositions,
    endPositions,
    executions,
    sessionOrders,
    history,
    events,
    verified: gateway.store.verify(),
    backlog: gateway.store.backlog.list().length,
    reconcilePasses,
    brokerOrders: sim.state.orders.all().map((o) => ({
      orderId: o.orderId,
      cOID: o.cOID,
      status: o.status,
      filled: o.filled,
    })),
    placeOrdersRequests: sim.control.count("placeOrders"),
    rawIdInAudit: JSON.stringify(events).includes(PAPER_ACCOUNT),
  };
});

const byType = (type: string) => day.events.filter((event) => event.event_type === type);
const signed = (side: unknown, quantity: unknown) => (side === "buy" ? 1 : -1) * Number(quantity);

describe("a full day of paper trading, then every view agrees", () => {
  it("positions moved by exactly the day's fills", () => {
    expect(day.startPositions).toEqual({ AAPL: "200", MSFT: "60", SPY: "20" });
    expect(day.endPositions).toEqual({ AAPL: "205", MSFT: "35", SPY: "20" });
    for (const symbol of Object.keys(NEUTRAL)) {
      const moved = day.executions
        .filter((e) => e.symbol === symbol)
        .reduce((sum, e) => sum + signed(e.side, e.quantity), 0);
      expect(moved).toBe(Number(day.endPositions[symbol]) - Number(day.startPositions[symbol]));
    }
  });

  it("the executions are the fills of the journal's orders, order by order", () => {
    const filledBy = new Map<string, number>();
    for (const e of day.executions) {
      filledBy.set(
        String(e.broker_order_id),
        (filledBy.get(String(e.broker_order_id)) ?? 0) + Number(e.quantity),
      );
    }
    expect(Object.fromEntries(filledBy)).toEqual(
      Object.fromEntries(day.journal.filter((j) => j.filled > 0).map((j) => [j.brokerOrderId, j.filled])),
    );
    for (const e of day.executions) {
      const order = day.journal.find((j) => j.brokerOrderId === e.broker_order_id);
      expect({ symbol: e.symbol, side: e.side }).toEqual({ symbol: order?.symbol, side: order?.side });
    }
  });

  it("the broker holds each order once: one placeOrders per submit, no cOID twice", () => {
    // Seven submits, one of them a bracket of three linked orders.
    expect(day.placeOrdersRequests).toBe(7);
    expect(day.brokerOrders.map((o) => String(o.orderId)).sort()).toEqual(
      day.journal.map((j) => j.brokerOrderId).sort(),
    );
    const coids = day.brokerOrders.map((o) => o.cOID).filter((c) => c !== null);
    expect(new Set(coids).size).toBe(coids.length);
    expect(coids.sort()).toEqual(
      day.journal.flatMap((j) => (j.clientOrderId === null ? [] : [j.clientOrderId])).sort(),
    );
    for (const j of day.journal) {
      const held = day.brokerOrders.find((o) => String(o.orderId) === j.brokerOrderId);
      expect({ label: j.label, status: held?.status, filled: held?.filled }).toEqual({
        label: j.label,
        status: j.final === "filled" ? "Filled" : "Cancelled",
        filled: j.filled,
      });
    }
  });

  it("orders list and history show what the broker still keeps of the day", () => {
    // After the midday session change the session lists only the afternoon's orders ...
    expect(day.sessionOrders.map((o) => [o.broker_order_id, o.status, o.filled_quantity]).sort()).toEqual(
      day.journal
        .filter((j) => j.label === "aapl-sell" || j.label === "spy-bid")
        .map((j) => [j.brokerOrderId, j.final, String(j.filled)])
        .sort(),
    );
    // ... and the history adds the morning's orders that filled, rebuilt from their executions (cancelled
    // orders of an earlier session are gone from the broker's answers).
    const expected = day.journal
      .filter((j) => j.filled > 0 || j.label === "spy-bid")
      .map((j) => [
        j.brokerOrderId,
        j.final,
        String(j.filled),
        j.label === "aapl-sell" || j.label === "spy-bid" ? "session" : "fills_only",
      ]);
    expect(day.history.map((o) => [o.broker_order_id, o.status, o.filled_quantity, o.detail]).sort()).toEqual(
      expected.sort(),
    );
  });

  it("every order's lifecycle in the audit is one chain from its submit to how it ended", () => {
    const submitted = byType("order_submitted");
    expect(submitted.map((e) => e.result_status)).toEqual(Array(7).fill("completed"));
    expect(submitted.flatMap((e) => e.metadata.broker_order_ids as string[]).sort()).toEqual(
      day.journal.map((j) => j.brokerOrderId).sort(),
    );
    expect(byType("approval_consumed").length).toBe(7);
    for (const j of day.journal) {
      const changes = byType("order_lifecycle_changed").filter(
        (e) => e.metadata.broker_order_id === j.brokerOrderId,
      );
      const steps = changes.map((e) => [e.metadata.previous_status, e.metadata.current_status]);
      expect({ label: j.label, last: steps.at(-1)?.[1] }).toEqual({ label: j.label, last: j.final });
      // Each change starts where the one before it ended, and no change repeats a status.
      for (let i = 0; i < steps.length; i += 1) {
        const [previous, current] = steps[i] as [string, string];
        expect(previous).not.toBe(current);
        if (i > 0) expect(previous).toBe(steps[i - 1]?.[1]);
      }
      expect(steps[0]?.[0]).toBe("open");
      expect(changes.filter((e) => e.metadata.terminal === true).length).toBe(1);
      if (j.final === "filled") {
        expect(changes.at(-1)?.metadata.filled_quantity).toBe(String(j.filled));
      }
    }
  });

  it("the modify and the cancel are recorded once each, for the orders the test changed", () => {
    const modifyOf = day.journal.find((j) => j.label === "msft-bid")?.brokerOrderId;
    const cancelOf = day.journal.find((j) => j.label === "aapl-low-bid")?.brokerOrderId;
    expect(
      byType("order_modified").map((e) => [
        e.metadata.broker_order_id,
        e.metadata.quantity,
        e.metadata.limit_price,
      ]),
    ).toEqual([[modifyOf, "25", "466"]]);
    expect(byType("order_cancel_requested").map((e) => e.metadata.broker_order_id)).toEqual([cancelOf]);
    expect(byType("order_outcome_uncertain")).toEqual([]);
  });

  it("the backlog is empty, the audit chain verifies and no raw account id reached it", () => {
    expect(day.reconcilePasses).toBeGreaterThan(70);
    expect(day.backlog).toBe(0);
    expect(day.verified.chain_valid).toBe(true);
    expect(day.verified.events_scanned).toBe(day.events.length);
    expect(day.rawIdInAudit).toBe(false);
  });
});
