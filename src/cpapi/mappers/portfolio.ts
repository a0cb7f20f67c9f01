// Balances, P&L and positions. /portfolio/{id}/summary keys are lowercase metric names whose money sits in
// `amount` (text metrics use `value`); plain keys are account totals, -s / -c suffixes the securities and
// commodities segments. The ledger is keyed by currency plus BASE, with epoch-second timestamps.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { add } from "../../core/decimal.ts";
import {
  assetClassOf,
  cappedText,
  compact,
  contractId,
  currency,
  dateFromCompact,
  exchange,
  invalid,
  isRecord,
  type NotReady,
  newestMs,
  notReady,
  positiveDecimal,
  requireArray,
  requireContractId,
  requireDecimal,
  requireRecord,
  sameAccount,
  symbol,
  text,
  type WireRecord,
  wireDecimal,
} from "./common.ts";

export type AccountSummaryResult = Omit<ToolOutput<"ibkr_account_summary">, "source">;
export type PnlDailyResult = Omit<ToolOutput<"ibkr_pnl_daily">, "source">;
export type PnlRealtimeResult = Omit<ToolOutput<"ibkr_pnl_realtime">, "source">;
export type PositionsListResult = Omit<ToolOutput<"ibkr_positions_list">, "source">;
export type PortfolioSnapshotResult = Omit<ToolOutput<"ibkr_portfolio_snapshot">, "source">;
export type Position = PositionsListResult["positions"][number];
export type Money = { amount: string; currency: string };

export const POSITIONS_PAGE_SIZE = 100;

export interface AccountContext {
  /** The account asked for; bodies that name another account are refused. */
  readonly accountId: string;
  /** Base currency from /portfolio/accounts (`currency`), when the workflow has it. */
  readonly baseCurrency?: string;
}

// ---------------------------------------------------------------------------------------------- summary

interface SummaryEntry {
  readonly amount: string;
  readonly currency: string | undefined;
  readonly timestamp: unknown;
}

/** One summary metric: `amount` for money, `value` when a build puts the number there; isNull is absent. */
function summaryEntry(body: WireRecord, key: string): SummaryEntry | undefined {
  const entry = body[key];
  if (!isRecord(entry) || entry.isNull === true) return undefined;
  const amount = wireDecimal(entry.amount) ?? wireDecimal(entry.value);
  if (amount === undefined) return undefined;
  return { amount, currency: currency(entry.currency), timestamp: entry.timestamp };
}

/** A total, or when a build only sends segments, the sum of the -s and -c segments. */
function summaryMetric(body: WireRecord, key: string): SummaryEntry | undefined {
  const total = summaryEntry(body, key);
  if (total !== undefined) return total;
  const segments = [summaryEntry(body, `${key}-s`), summaryEntry(body, `${key}-c`)].filter(
    (e): e is SummaryEntry => e !== undefined,
  );
  if (segments.length === 0) return undefined;
  return {
    amount: segments.reduce((sum, e) => add(sum, e.amount), "0"),
    currency: segments[0]?.currency,
    timestamp: segments[0]?.timestamp,
  };
}

interface SummaryFigures {
  readonly baseCurrency: string;
  readonly money: (key: string) => Money | undefined;
  readonly asOf: string | undefined;
}

function summaryFigures(summary: unknown, ctx: AccountContext): SummaryFigures {
  const op = "getAccountSummary";
  const body = requireRecord(summary, op);
  const code = isRecord(body.accountcode) ? text(body.accountcode.value) : undefined;
  if (code !== undefined && !sameAccount(code, ctx.accountId))
    throw invalid(op, "accountcode", "other_account");
  const net = summaryMetric(body, "netliquidation");
  if (net === undefined) throw invalid(op, "netliquidation");
  const baseCurrency = currency(ctx.baseCurrency) ?? net.currency;
  if (baseCurrency === undefined) throw invalid(op, "netliquidation.currency");
  const stamps = Object.values(body).map((e) => (isRecord(e) ? e.timestamp : undefined));
  const newest = newestMs(stamps);
  return {
    baseCurrency,
    money: (key) => {
      const m = summaryMetric(body, key);
      return m === undefined ? undefined : { amount: m.amount, currency: m.currency ?? baseCurrency };
    },
    asOf: newest === undefined ? undefined : toRfc3339(newest),
  };
}

/** ibkr_account_summary from getAccountSummary. A figure the broker does not report is left out. */
export function mapAccountSummary(summary: unknown, ctx: AccountContext): AccountSummaryResult {
  const f = summaryFigures(summary, ctx);
  const net = f.money("netliquidation");
  if (net === undefined) throw invalid("getAccountSummary", "netliquidation");
  return compact({
    account_id: ctx.accountId,
    base_currency: f.baseCurrency,
    net_liquidation: net,
    total_cash: f.money("totalcashvalue"),
    settled_cash: f.money("settledcash"),
    buying_power: f.money("buyingpower"),
    available_funds: f.money("availablefunds"),
    excess_liquidity: f.money("excessliquidity"),
    initial_margin: f.money("initmarginreq"),
    maintenance_margin: f.money("maintmarginreq"),
    gross_position_value: f.money("grosspositionvalue"),
    equity_with_loan: f.money("equitywithloanvalue"),
    as_of: f.asOf,
  });
}

// ----------------------------------------------------------------------------------------------- ledger

interface LedgerRow {
  readonly key: string;
  readonly entry: WireRecord;
}

function ledgerRows(
  ledger: unknown,
  ctx: AccountContext,
): { base: WireRecord | undefined; rows: LedgerRow[] } {
  const op = "getAccountLedger";
  const body = requireRecord(ledger, op);
  let base: WireRecord | undefined;
  const rows: LedgerRow[] = [];
  for (const [key, entry] of Object.entries(body)) {
    if (!isRecord(entry)) continue;
    const code = text(entry.acctcode);
    if (code !== undefined && !sameAccount(code, ctx.accountId))
      throw invalid(op, "acctcode", "other_account");
    if (key.toUpperCase() === "BASE") base = entry;
    else if (currency(key) !== undefined) rows.push({ key: key.toUpperCase(), entry });
  }
  return { base, rows };
}

/** Base currency: the context's, else the single currency row at rate 1 (the BASE row says only "BASE"). */
function ledgerBaseCurrency(rows: readonly LedgerRow[], ctx: AccountContext): string {
  const known = currency(ctx.baseCurrency);
  if (known !== undefined) return known;
  const atPar = rows.filter((r) => wireDecimal(r.entry.exchangerate) === "1");
  if (atPar.length === 1 && atPar[0] !== undefined) return atPar[0].key;
  throw invalid("getAccountLedger", "currency");
}

/**
 * ibkr_pnl_daily from getAccountLedger. Totals come from the BASE row (base currency); when a build omits it
 * and the account holds only its base currency, that row is the total.
 */
export function mapPnlDaily(ledger: unknown, ctx: AccountContext): PnlDailyResult {
  const op = "getAccountLedger";
  const { base, rows } = ledgerRows(ledger, ctx);
  const baseCurrency = ledgerBaseCurrency(rows, ctx);
  const totals = base ?? (rows.length === 1 && rows[0]?.key === baseCurrency ? rows[0].entry : undefined);
  if (totals === undefined) throw invalid(op, "BASE");
  const byCurrency = rows.map(({ key, entry }) =>
    compact({
      currency: key,
      realized_pnl: requireDecimal(entry.realizedpnl, op, `${key}.realizedpnl`),
      unrealized_pnl: requireDecimal(entry.unrealizedpnl, op, `${key}.unrealizedpnl`),
      cash_balance: requireDecimal(entry.cashbalance, op, `${key}.cashbalance`),
      exchange_rate: wireDecimal(entry.exchangerate),
    }),
  );
  const newest = newestMs([totals.timestamp, ...rows.map((r) => r.entry.timestamp)]);
  return compact({
    account_id: ctx.accountId,
    base_currency: baseCurrency,
    realized_pnl: {
      amount: requireDecimal(totals.realizedpnl, op, "BASE.realizedpnl"),
      currency: baseCurrency,
    },
    unrealized_pnl: {
      amount: requireDecimal(totals.unrealizedpnl, op, "BASE.unrealizedpnl"),
      currency: baseCurrency,
    },
    by_currency: byCurrency,
    as_of: newest === undefined ? undefined : toRfc3339(newest),
  });
}

/** Cash per currency from the ledger (the BASE row is a total, not a currency). */
export function mapCashBalances(ledger: unknown, ctx: AccountContext): Money[] {
  const { rows } = ledgerRows(ledger, ctx);
  return rows.map(({ key, entry }) => ({
    amount: requireDecimal(entry.cashbalance, "getAccountLedger", `${key}.cashbalance`),
    currency: key,
  }));
}

// ------------------------------------------------------------------------------------------ realtime P&L

export interface PnlRealtimeContext extends AccountContext {
  readonly baseCurrency: string;
  /** When the figures were read: the wire carries no timestamp, and the broker recomputes every few seconds. */
  readonly nowMs: number;
}

/**
 * ibkr_pnl_realtime from getPartitionedPnl. The first request after login answers {"upnl":{}}: that, or no
 * row for the account yet, gives NotReady "pnl_cold" so the workflow asks again (then MARKET_DATA_INCOMPLETE).
 * Rows are keyed "<account>.Core"; REST spells excess liquidity `el`, the websocket `uel`.
 */
export function mapPnlRealtime(pnl: unknown, ctx: PnlRealtimeContext): PnlRealtimeResult | NotReady {
  const op = "getPartitionedPnl";
  const body = requireRecord(pnl, op);
  const upnl = body.upnl;
  if (upnl === undefined || upnl === null) throw invalid(op, "upnl");
  const rows = requireRecord(upnl, op, "upnl");
  const prefix = `${ctx.accountId.toUpperCase()}.`;
  const keys = Object.keys(rows).filter((k) => k.toUpperCase().startsWith(prefix));
  const key = keys.find((k) => k.toUpperCase() === `${prefix}CORE`) ?? keys[0];
  const row = key === undefined ? undefined : rows[key];
  if (row === undefined) return notReady("pnl_cold");
  if (!isRecord(row)) throw invalid(op, "upnl.row");
  const ccy = currency(ctx.baseCurrency);
  if (ccy === undefined) throw invalid(op, "currency");
  const required = (value: unknown, field: string): Money => ({
    amount: requireDecimal(value, op, field),
    currency: ccy,
  });
  const optional = (value: unknown): Money | undefined => {
    const amount = wireDecimal(value);
    return amount === undefined ? undefined : { amount, currency: ccy };
  };
  return compact({
    account_id: ctx.accountId,
    base_currency: ccy,
    daily_pnl: required(row.dpl, "dpl"),
    unrealized_pnl: required(row.upl, "upl"),
    net_liquidation: required(row.nl, "nl"),
    excess_liquidity: optional(row.el ?? row.uel),
    market_value: optional(row.mv),
    as_of: toRfc3339(ctx.nowMs),
  });
}

// -------------------------------------------------------------------------------------------- positions

/** Position expiry "20260619"; a month-only spelling has no day, is not a Date and is left out. */
function expiryOf(row: WireRecord): string | undefined {
  return dateFromCompact(row.expiry) ?? dateFromCompact(row.lastTradingDay);
}

function rightOf(value: unknown): "call" | "put" | undefined {
  const t = text(value)?.toUpperCase();
  if (t === "C" || t === "CALL") return "call";
  if (t === "P" || t === "PUT") return "put";
  return undefined;
}

/** One /portfolio/{id}/positions row. Multiplier 0/null (stocks) and strike 0 (non-options) are left out. */
export function mapPosition(value: unknown, ctx: AccountContext): Position {
  const op = "getPositions";
  const row = requireRecord(value, op, "position");
  const acct = text(row.acctId);
  if (acct !== undefined && !sameAccount(acct, ctx.accountId)) throw invalid(op, "acctId", "other_account");
  const ccy = currency(row.currency);
  if (ccy === undefined) throw invalid(op, "currency");
  const assetClass = assetClassOf(row.assetClass, row.type);
  const isOption = assetClass === "option";
  const und = contractId(row.undConid);
  return compact({
    contract_id: requireContractId(row.conid, op, "conid"),
    symbol: symbol(row.ticker) ?? symbol(row.contractDesc),
    description: cappedText(row.contractDesc, 256),
    asset_class: assetClass,
    currency: ccy,
    quantity: requireDecimal(row.position, op, "position"),
    average_price: wireDecimal(row.avgPrice),
    average_cost: wireDecimal(row.avgCost),
    market_price: wireDecimal(row.mktPrice),
    market_value: requireDecimal(row.mktValue, op, "mktValue"),
    unrealized_pnl: wireDecimal(row.unrealizedPnl),
    realized_pnl: wireDecimal(row.realizedPnl),
    multiplier: positiveDecimal(row.multiplier),
    expiry: expiryOf(row),
    strike: isOption ? positiveDecimal(row.strike) : undefined,
    right: isOption ? rightOf(row.putOrCall) : undefined,
    underlying_contract_id: und,
    listing_exchange: exchange(row.listingExchange),
  });
}

export interface PositionsPageContext extends AccountContext {
  readonly page: number;
}

/**
 * ibkr_positions_list from one getPositions page. A full page (100 rows) sets has_more: the broker pages by
 * 100 and gives no total, so the next page may still be empty.
 */
export function mapPositionsPage(body: unknown, ctx: PositionsPageContext): PositionsListResult {
  const rows = requireArray(body, "getPositions");
  const positions = rows.slice(0, POSITIONS_PAGE_SIZE).map((row) => mapPosition(row, ctx));
  return {
    account_id: ctx.accountId,
    page: ctx.page,
    page_size: POSITIONS_PAGE_SIZE,
    positions,
    has_more: rows.length >= POSITIONS_PAGE_SIZE,
  };
}

export interface PortfolioSnapshotContext extends AccountContext {
  /** Set when the workflow looked at page 1: true when it held positions. Otherwise a full page means more. */
  readonly morePositions?: boolean;
}

/**
 * ibkr_portfolio_snapshot from getAccountSummary, getAccountLedger and getPositions page 0.
 */
export function mapPortfolioSnapshot(
  summary: unknown,
  ledger: unknown,
  positions: unknown,
  ctx: PortfolioSnapshotContext,
): PortfolioSnapshotResult {
  const f = summaryFigures(summary, ctx);
  const net = f.money("netliquidation");
  if (net === undefined) throw invalid("getAccountSummary", "netliquidation");
  const page = mapPositionsPage(positions, { ...ctx, page: 0 });
  return compact({
    account_id: ctx.accountId,
    base_currency: f.baseCurrency,
    net_liquidation: net,
    total_cash: f.money("totalcashvalue"),
    buying_power: f.money("buyingpower"),
    excess_liquidity: f.money("excessliquidity"),
    initial_margin: f.money("initmarginreq"),
    maintenance_margin: f.money("maintmarginreq"),
    cash_balances: mapCashBalances(ledger, { ...ctx, baseCurrency: f.baseCurrency }),
    positions: page.positions,
    positions_truncated: ctx.morePositions ?? page.has_more,
    as_of: f.asOf,
  });
}
