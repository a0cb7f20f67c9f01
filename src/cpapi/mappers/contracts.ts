// Contract lookup and option chains from the security-definition endpoints. /iserver/secdef/search answers
// conid as a string, no currency and no top-level secType (the first section names it); the currency and the
// exchanges a contract routes to come from /iserver/contract/{conid}/info (snake_case). Option chains combine
// the search's expiry months, /secdef/strikes of one month and /secdef/info per strike.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { compare } from "../../core/decimal.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import {
  type AssetClass,
  assetClassOf,
  cappedText,
  compact,
  contractId,
  currency,
  dateFromCompact,
  exchange,
  invalid,
  isRecord,
  positiveDecimal,
  requireArray,
  requireContractId,
  requireRecord,
  symbol,
  text,
  type WireRecord,
} from "./common.ts";

export type ContractsSearchResult = Omit<ToolOutput<"ibkr_contracts_search">, "source">;
export type ContractResolveResult = Omit<ToolOutput<"ibkr_contract_resolve">, "source">;
export type OptionsChainResult = Omit<ToolOutput<"ibkr_options_chain">, "source">;
export type SearchCandidate = ContractsSearchResult["candidates"][number];

export const MAX_SEARCH_CANDIDATES = 50;

interface SearchItem {
  readonly contractId: string;
  readonly symbol: string;
  readonly secTypes: readonly string[];
  readonly record: WireRecord;
}

function sectionsOf(item: WireRecord): WireRecord[] {
  return Array.isArray(item.sections) ? item.sections.filter(isRecord) : [];
}

/** Search rows with a usable conid and symbol; issuer rows of bond searches and the like are skipped. */
function searchItems(search: unknown): SearchItem[] {
  const rows = requireArray(search, "searchContracts");
  const items: SearchItem[] = [];
  for (const row of rows) {
    if (!isRecord(row)) continue;
    const id = contractId(row.conid);
    const sym = symbol(row.symbol);
    if (id === undefined || sym === undefined) continue;
    const secTypes = sectionsOf(row)
      .map((s) => text(s.secType)?.toUpperCase())
      .filter((s): s is string => s !== undefined);
    items.push({ contractId: id, symbol: sym, secTypes, record: row });
  }
  return items;
}

/** Contract-info bodies indexed by conid (con_id; conid on some builds). */
export function indexContractInfos(infos: readonly unknown[]): Map<string, WireRecord> {
  const byId = new Map<string, WireRecord>();
  for (const info of infos) {
    if (!isRecord(info)) continue;
    const id = contractId(info.con_id ?? info.conid);
    if (id !== undefined) byId.set(id, info);
  }
  return byId;
}

function itemAssetClass(item: SearchItem, info: WireRecord | undefined): AssetClass {
  const fromInfo = info === undefined ? undefined : text(info.instrument_type);
  if (fromInfo !== undefined) return assetClassOf(fromInfo);
  if (item.secTypes[0] !== undefined) return assetClassOf(item.secTypes[0]);
  if (Array.isArray(item.record.issuers) || item.record.bondid !== undefined) return "bond";
  return "other";
}

function validExchanges(info: WireRecord | undefined): string[] {
  const raw = text(info?.valid_exchanges) ?? "";
  const list: string[] = [];
  for (const part of raw.split(/[,;]/)) {
    const ex = exchange(part);
    if (ex !== undefined && !list.includes(ex)) list.push(ex);
  }
  return list;
}

/** The primary exchange: the search's description ("NASDAQ"), else the info's exchange. */
function primaryExchange(item: SearchItem, info: WireRecord | undefined): string | undefined {
  return exchange(item.record.description) ?? exchange(info?.exchange);
}

export interface ContractFilter {
  readonly assetClass?: AssetClass;
  readonly currency?: string;
  readonly exchange?: string;
}

/**
 * Whether a candidate passes the filters. Search rows cannot tell an ETF from a stock (both are STK), so
 * stock and etf filters accept both. A currency or exchange the mapper cannot confirm (no contract info for
 * the row) does not pass: the workflow fetches contract info for candidates whenever these filters are given.
 */
function passes(
  item: SearchItem,
  info: WireRecord | undefined,
  assetClass: AssetClass,
  filter: ContractFilter,
): boolean {
  if (filter.assetClass !== undefined) {
    const equity = (c: AssetClass) => c === "stock" || c === "etf";
    if (!(filter.assetClass === assetClass || (equity(filter.assetClass) && equity(assetClass))))
      return false;
  }
  if (filter.currency !== undefined && currency(info?.currency) !== filter.currency.toUpperCase())
    return false;
  if (filter.exchange !== undefined) {
    const wanted = filter.exchange.toUpperCase();
    const primary = primaryExchange(item, info);
    const routes = validExchanges(info);
    const smart = wanted === "SMART" && info?.smart_available === true;
    if (primary !== wanted && !routes.includes(wanted) && !smart) return false;
  }
  return true;
}

function hasSection(item: SearchItem, secType: string): boolean {
  return item.secTypes.includes(secType);
}

function toCandidate(
  item: SearchItem,
  info: WireRecord | undefined,
  assetClass: AssetClass,
): SearchCandidate {
  const opt = text(item.record.opt);
  return compact({
    contract_id: item.contractId,
    symbol: item.symbol,
    asset_class: assetClass,
    company_name: cappedText(item.record.companyName, 200) ?? cappedText(info?.company_name, 200),
    exchange: primaryExchange(item, info),
    currency: currency(info?.currency),
    has_options: hasSection(item, "OPT") || opt !== undefined,
    has_futures: hasSection(item, "FUT"),
  });
}

export interface ContractsSearchContext extends ContractFilter {
  readonly query: string;
}

/**
 * ibkr_contracts_search from searchContracts plus getContractInfo bodies for some or all candidates (they add
 * the currency). Keeps the broker's order (best match first), applies the filters, at most 50 candidates.
 */
export function mapContractsSearch(
  search: unknown,
  infos: readonly unknown[],
  ctx: ContractsSearchContext,
): ContractsSearchResult {
  const byId = indexContractInfos(infos);
  const candidates: SearchCandidate[] = [];
  for (const item of searchItems(search)) {
    const info = byId.get(item.contractId);
    const assetClass = itemAssetClass(item, info);
    if (!passes(item, info, assetClass, ctx)) continue;
    candidates.push(toCandidate(item, info, assetClass));
    if (candidates.length === MAX_SEARCH_CANDIDATES) break;
  }
  return { query: ctx.query.trim().slice(0, 64), candidates };
}

export interface ContractResolveContext extends ContractFilter {
  readonly symbol: string;
  /** Only this conid of the symbol's listings (an order names the exact contract it means). */
  readonly contractId?: string;
}

const RESOLVABLE: ReadonlySet<AssetClass> = new Set(["stock", "etf"]);

/**
 * The conids of stock rows whose symbol equals the requested one: the workflow fetches getContractInfo for
 * each before calling mapContractResolve (the currency and exchange filters need it).
 */
export function resolveCandidateIds(search: unknown, ctx: { readonly symbol: string }): string[] {
  const wanted = ctx.symbol.trim().toUpperCase();
  return searchItems(search)
    .filter((item) => item.symbol.toUpperCase() === wanted && RESOLVABLE.has(itemAssetClass(item, undefined)))
    .map((item) => item.contractId);
}

/**
 * ibkr_contract_resolve from searchContracts and the getContractInfo bodies of the candidates. Exactly one
 * stock/ETF row with the symbol must pass the filters: none gives INPUT_INVALID_CONTRACT, several give
 * INPUT_AMBIGUOUS_CONTRACT (details list each candidate's contract_id, exchange and currency), another asset
 * class INPUT_UNSUPPORTED_ASSET_CLASS. When an exchange filter leaves several, those whose primary listing is
 * that exchange win. The chosen contract's info is required (currency, routes).
 */
export function mapContractResolve(
  search: unknown,
  infos: readonly unknown[],
  ctx: ContractResolveContext,
): ContractResolveResult {
  if (ctx.assetClass !== undefined && !RESOLVABLE.has(ctx.assetClass)) {
    throw new GatewayError("INPUT_UNSUPPORTED_ASSET_CLASS", {
      details: { field: "asset_class", asset_class: ctx.assetClass },
    });
  }
  const byId = indexContractInfos(infos);
  const wanted = ctx.symbol.trim().toUpperCase();
  let matches: { item: SearchItem; info: WireRecord | undefined; assetClass: AssetClass }[] = [];
  for (const item of searchItems(search)) {
    if (item.symbol.toUpperCase() !== wanted) continue;
    const info = byId.get(item.contractId);
    const assetClass = itemAssetClass(item, info);
    if (!RESOLVABLE.has(assetClass)) continue;
    if (!passes(item, info, assetClass, ctx)) continue;
    if (ctx.contractId !== undefined && item.contractId !== ctx.contractId) continue;
    matches.push({ item, info, assetClass });
  }
  if (matches.length > 1 && ctx.exchange !== undefined) {
    // Listings of one ticker usually route to the same venues, so only the listing exchange can tell them
    // apart: an exchange that is the primary listing of some candidates picks those.
    const wantedExchange = ctx.exchange.toUpperCase();
    const listed = matches.filter((m) => primaryExchange(m.item, m.info) === wantedExchange);
    if (listed.length > 0) matches = listed;
  }
  if (matches.length === 0) {
    throw new GatewayError("INPUT_INVALID_CONTRACT", { details: { field: "symbol", reason: "no_match" } });
  }
  if (matches.length > 1) {
    throw new GatewayError("INPUT_AMBIGUOUS_CONTRACT", {
      details: {
        field: "symbol",
        candidates: matches.map((m) =>
          compact({
            contract_id: m.item.contractId,
            exchange: primaryExchange(m.item, m.info),
            currency: currency(m.info?.currency),
          }),
        ),
      },
    });
  }
  const [{ item, info, assetClass }] = matches as [(typeof matches)[number]];
  const op = "getContractInfo";
  if (info === undefined) throw invalid(op, "con_id", "info_missing");
  const ccy = currency(info.currency);
  if (ccy === undefined) throw invalid(op, "currency");
  const primary = primaryExchange(item, info);
  if (primary === undefined) throw invalid(op, "exchange");
  return compact({
    contract_id: item.contractId,
    symbol: symbol(info.symbol) ?? item.symbol,
    asset_class: assetClass,
    company_name: cappedText(info.company_name, 200) ?? cappedText(item.record.companyName, 200),
    exchange: primary,
    currency: ccy,
    valid_exchanges: validExchanges(info),
  });
}

export interface ContractFacts {
  readonly contractId: string;
  /** The contract's symbol; for derivatives the underlying's (what the trading schedule is asked for). */
  readonly symbol?: string;
  readonly assetClass: AssetClass;
  readonly currency?: string;
}

/**
 * What quote tools need to know about one contract, from its getContractInfo body: symbol, asset class and
 * currency (a snapshot row carries no currency). An info body for another conid is BROKER_RESPONSE_INVALID.
 */
export function mapContractFacts(info: unknown, wantedId: string): ContractFacts {
  const op = "getContractInfo";
  const body = requireRecord(info, op);
  if (requireContractId(body.con_id ?? body.conid, op, "con_id") !== wantedId) {
    throw invalid(op, "con_id", "other_contract");
  }
  return compact({
    contractId: wantedId,
    symbol: symbol(body.symbol),
    assetClass: assetClassOf(body.instrument_type),
    currency: currency(body.currency),
  });
}

// ------------------------------------------------------------------------------------------ option chain

const MONTH_CODES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** "2026-06" as the broker's month code "JUN26" (for /secdef/strikes and /secdef/info). */
export function optionMonthCode(month: string): string {
  const m = /^([0-9]{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (m === null) throw new GatewayError("INPUT_INVALID_ARGUMENT", { details: { field: "month" } });
  return `${MONTH_CODES[Number(m[2]) - 1]}${m[1]?.slice(2)}`;
}

/** "JUN26" as "2026-06"; undefined for anything else. */
function monthFromCode(code: string): string | undefined {
  const m = /^([A-Z]{3})([0-9]{2})$/.exec(code.trim().toUpperCase());
  if (m === null) return undefined;
  const index = MONTH_CODES.indexOf(m[1] ?? "");
  return index < 0 ? undefined : `20${m[2]}-${String(index + 1).padStart(2, "0")}`;
}

export interface OptionUnderlying {
  readonly contractId: string;
  readonly symbol: string;
  readonly companyName?: string;
  /** Expiry months with listed options, "YYYY-MM", earliest first. */
  readonly months: readonly string[];
}

function optionMonths(item: SearchItem): string[] {
  const months = new Set<string>();
  for (const section of sectionsOf(item.record)) {
    if (text(section.secType)?.toUpperCase() !== "OPT") continue;
    for (const code of (text(section.months) ?? "").split(";")) {
      const month = monthFromCode(code);
      if (month !== undefined) months.add(month);
    }
  }
  for (const day of (text(item.record.opt) ?? "").split(";")) {
    const date = dateFromCompact(day);
    if (date !== undefined) months.add(date.slice(0, 7));
  }
  return [...months].sort();
}

/**
 * The underlying of an option chain from searchContracts: the row with underlying_contract_id when given,
 * else the one row with the symbol that lists options. None: INPUT_INVALID_CONTRACT; several:
 * INPUT_AMBIGUOUS_CONTRACT.
 */
export function selectOptionUnderlying(
  search: unknown,
  ctx: { readonly symbol: string; readonly underlyingContractId?: string },
): OptionUnderlying {
  const items = searchItems(search);
  const wanted = ctx.symbol.trim().toUpperCase();
  let matches: SearchItem[];
  if (ctx.underlyingContractId !== undefined) {
    matches = items.filter((i) => i.contractId === ctx.underlyingContractId);
  } else {
    matches = items.filter((i) => i.symbol.toUpperCase() === wanted && optionMonths(i).length > 0);
  }
  if (matches.length === 0) {
    throw new GatewayError("INPUT_INVALID_CONTRACT", { details: { field: "symbol", reason: "no_options" } });
  }
  if (matches.length > 1) {
    throw new GatewayError("INPUT_AMBIGUOUS_CONTRACT", {
      details: {
        field: "symbol",
        candidates: matches.map((m) =>
          compact({ contract_id: m.contractId, exchange: exchange(m.record.description) }),
        ),
      },
    });
  }
  const item = matches[0] as SearchItem;
  return compact({
    contractId: item.contractId,
    symbol: item.symbol,
    companyName: cappedText(item.record.companyName, 200),
    months: optionMonths(item),
  });
}

export interface StrikeSelection {
  readonly right?: "call" | "put";
  readonly strikeMin?: string;
  readonly strikeMax?: string;
  readonly maxStrikes: number;
}

/**
 * The strikes to look up, from getOptionStrikes ({"call":[...],"put":[...]}): those of the requested right(s)
 * within [strikeMin, strikeMax], lowest first, at most maxStrikes (truncated says more were in range). The
 * workflow calls getSecdefInfo once per returned strike.
 */
export function selectChainStrikes(
  strikes: unknown,
  ctx: StrikeSelection,
): { strikes: string[]; truncated: boolean } {
  const body = requireRecord(strikes, "getOptionStrikes");
  const lists = ctx.right === "call" ? [body.call] : ctx.right === "put" ? [body.put] : [body.call, body.put];
  const seen = new Set<string>();
  for (const list of lists) {
    if (list === undefined || list === null) continue;
    for (const value of requireArray(list, "getOptionStrikes", "call/put")) {
      const strike = positiveDecimal(value);
      if (strike === undefined) continue;
      if (ctx.strikeMin !== undefined && compare(strike, ctx.strikeMin) < 0) continue;
      if (ctx.strikeMax !== undefined && compare(strike, ctx.strikeMax) > 0) continue;
      seen.add(strike);
    }
  }
  const sorted = [...seen].sort((a, b) => compare(a, b));
  return { strikes: sorted.slice(0, ctx.maxStrikes), truncated: sorted.length > ctx.maxStrikes };
}

export interface OptionsChainContext extends StrikeSelection {
  readonly symbol: string;
  readonly underlyingContractId?: string;
  /** "YYYY-MM"; without it only the months are returned. */
  readonly month?: string;
  readonly exchange?: string;
}

type ChainContract = OptionsChainResult["contracts"][number];

function chainContract(value: unknown, ctx: OptionsChainContext): ChainContract {
  const op = "getSecdefInfo";
  const row = requireRecord(value, op, "info");
  const right = text(row.right)?.toUpperCase();
  const side: "call" | "put" | undefined =
    right === "C" || right === "CALL" ? "call" : right === "P" || right === "PUT" ? "put" : undefined;
  if (side === undefined) throw invalid(op, "right");
  const expiry = dateFromCompact(row.maturityDate);
  if (expiry === undefined) throw invalid(op, "maturityDate");
  const strike = positiveDecimal(row.strike);
  if (strike === undefined) throw invalid(op, "strike");
  const multiplier = positiveDecimal(row.multiplier);
  if (multiplier === undefined) throw invalid(op, "multiplier");
  const ccy = currency(row.currency);
  if (ccy === undefined) throw invalid(op, "currency");
  return compact({
    contract_id: requireContractId(row.conid, op, "conid"),
    expiry,
    strike,
    right: side,
    multiplier,
    currency: ccy,
    trading_class: cappedText(row.tradingClass, 32),
    exchange: exchange(row.exchange) ?? (ctx.exchange === undefined ? undefined : exchange(ctx.exchange)),
  });
}

/**
 * ibkr_options_chain from searchContracts (underlying and months), getOptionStrikes (null without a month)
 * and the getSecdefInfo bodies (arrays) of the selected strikes. Contracts outside the month, right or the
 * selected strikes are dropped; sorted by expiry, strike, then call before put.
 */
export function mapOptionsChain(
  search: unknown,
  strikes: unknown,
  infos: readonly unknown[],
  ctx: OptionsChainContext,
): OptionsChainResult {
  const underlying = selectOptionUnderlying(search, ctx);
  const result: OptionsChainResult = {
    underlying: compact({
      contract_id: underlying.contractId,
      symbol: underlying.symbol,
      company_name: underlying.companyName,
    }),
    expiry_months: [...underlying.months],
    contracts: [],
    strikes_truncated: false,
  };
  if (ctx.month === undefined) return result;
  result.month = ctx.month;
  if (strikes === null || strikes === undefined) throw invalid("getOptionStrikes", "body");
  const selection = selectChainStrikes(strikes, ctx);
  const allowed = new Set(selection.strikes);
  const monthPrefix = ctx.month;
  const byId = new Map<string, ChainContract>();
  for (const body of infos) {
    for (const row of requireArray(body, "getSecdefInfo")) {
      const contract = chainContract(row, ctx);
      if (!contract.expiry.startsWith(monthPrefix)) continue;
      if (ctx.right !== undefined && contract.right !== ctx.right) continue;
      if (!allowed.has(contract.strike)) continue;
      byId.set(contract.contract_id, contract);
    }
  }
  result.contracts = [...byId.values()].sort(
    (a, b) =>
      a.expiry.localeCompare(b.expiry) ||
      compare(a.strike, b.strike) ||
      (a.right === b.right ? 0 : a.right === "call" ? -1 : 1),
  );
  result.strikes_truncated = selection.truncated;
  return result;
}
