// Scanner results (documented) and news / fundamentals (undocumented web-UI endpoints whose shapes are not
// guaranteed). The research readers are lenient: they look for a field under several spellings, ignore
// everything else and only fail when the body is not JSON of the expected kind. Headlines, article bodies
// and company descriptions are third-party text: trimmed and length-capped, otherwise passed through unchanged.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { toRfc3339 } from "../../core/clock.ts";
import {
  cap,
  cappedText,
  compact,
  contractId,
  currency,
  dateFromCompact,
  exchange,
  invalid,
  isRecord,
  pickLoose,
  requireArray,
  requireRecord,
  symbol,
  text,
  timestampFromDashed,
  timestampFromMs,
  UNTRUSTED_TEXT_CAP,
  type WireRecord,
  wireDecimal,
} from "./common.ts";

export type ScannerRunResult = Omit<ToolOutput<"ibkr_scanner_run">, "source">;
export type NewsListResult = Omit<ToolOutput<"ibkr_news_list">, "source">;
export type NewsArticleResult = Omit<ToolOutput<"ibkr_news_article">, "source">;
export type FundamentalsResult = Omit<ToolOutput<"ibkr_fundamentals_get">, "source">;

export const MAX_SCANNER_RESULTS = 50;
export const ARTICLE_BODY_CAP = 20_000;

export interface ScannerContext {
  readonly scannerCode: string;
  readonly instrument: string;
  readonly location: string;
}

/**
 * ibkr_scanner_run from runScanner ({"contracts":[...],"scan_data_column_name":"Chg%"}). Rank is the broker's
 * order; rows without a usable conid or symbol are skipped; value is scan_data as the broker formats it.
 */
export function mapScannerRun(body: unknown, ctx: ScannerContext): ScannerRunResult {
  const op = "runScanner";
  const record = requireRecord(body, op);
  const rows = requireArray(record.contracts ?? [], op, "contracts").filter(isRecord);
  const results: ScannerRunResult["results"] = [];
  for (const row of rows) {
    const id = contractId(row.con_id ?? row.conid ?? row.conidex);
    const sym = symbol(row.symbol);
    if (id === undefined || sym === undefined) continue;
    results.push(
      compact({
        rank: results.length + 1,
        contract_id: id,
        symbol: sym,
        company_name: cappedText(row.company_name, 200),
        listing_exchange: exchange(row.listing_exchange),
        value: cappedText(row.scan_data, 64),
      }),
    );
    if (results.length === MAX_SCANNER_RESULTS) break;
  }
  const firstColumn = rows.map((r) => r.column_name).find((c) => text(c) !== undefined);
  return compact({
    scanner_code: ctx.scannerCode,
    instrument: ctx.instrument,
    location: ctx.location,
    value_name: cappedText(record.scan_data_column_name ?? firstColumn, 64),
    results,
  });
}

/** A publication time in any spelling seen: epoch ms or s, digit string, ISO 8601, "YYYYMMDD-hh:mm:ss". */
function publishedAt(value: unknown): string | undefined {
  const fromEpoch = timestampFromMs(value) ?? timestampFromDashed(value);
  if (fromEpoch !== undefined) return fromEpoch;
  const t = text(value);
  if (t === undefined || !/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? toRfc3339(ms) : undefined;
}

const ARTICLE_ID = /^[A-Za-z0-9$._:+-]{1,128}$/;

function articleId(value: unknown): string | undefined {
  const t = text(value);
  return t !== undefined && ARTICLE_ID.test(t) ? t : undefined;
}

/** The headline list inside a landing body: news.content[], news[], content[], or the body itself. */
function headlineRows(body: unknown): readonly unknown[] {
  if (Array.isArray(body)) return body;
  if (!isRecord(body)) throw invalid("getNewsHeadlines", "body", "not_an_object");
  const news = pickLoose(body, "news");
  if (Array.isArray(news)) return news;
  const holder = isRecord(news) ? news : body;
  const list = pickLoose(holder, "content", "items", "headlines", "articles", "data");
  return Array.isArray(list) ? list : [];
}

export interface NewsListContext {
  readonly symbol: string;
  /** The conid the headlines were read for (the first stock match of the symbol). */
  readonly contractId: string;
  readonly limit: number;
}

/**
 * ibkr_news_list from getNewsHeadlines (undocumented shape). Items without a usable id or headline are
 * skipped; a body with no headline list gives an empty list. Newest first (undated last), at most limit.
 */
export function mapNewsList(body: unknown, ctx: NewsListContext): NewsListResult {
  const headlines: NewsListResult["headlines"] = [];
  for (const row of headlineRows(body)) {
    if (!isRecord(row)) continue;
    const id = articleId(pickLoose(row, "id", "articleId", "newsId"));
    const headline = text(pickLoose(row, "headline", "title"));
    if (id === undefined || headline === undefined) continue;
    headlines.push(
      compact({
        article_id: id,
        headline: cap(headline, UNTRUSTED_TEXT_CAP),
        provider: cappedText(pickLoose(row, "source", "provider", "providerCode"), 32),
        published_at: publishedAt(pickLoose(row, "date", "time", "publishedAt", "timestamp")),
      }),
    );
  }
  headlines.sort((a, b) => (b.published_at ?? "").localeCompare(a.published_at ?? ""));
  return { symbol: ctx.symbol, contract_id: ctx.contractId, headlines: headlines.slice(0, ctx.limit) };
}

/**
 * ibkr_news_article from getNewsArticle (undocumented shape). The body (which may hold HTML) passes through
 * unchanged but for trimming and the 20,000-character cut that body_truncated reports. A body without a
 * headline or text is BROKER_RESPONSE_INVALID.
 */
export function mapNewsArticle(body: unknown, ctx: { readonly articleId: string }): NewsArticleResult {
  const op = "getNewsArticle";
  const record = requireRecord(body, op);
  const headline = text(pickLoose(record, "headline", "title"));
  if (headline === undefined) throw invalid(op, "headline");
  const story = text(pickLoose(record, "body", "content", "story", "text"));
  if (story === undefined) throw invalid(op, "body");
  const chars = Array.from(story);
  const truncated = chars.length > ARTICLE_BODY_CAP;
  return compact({
    article_id: articleId(pickLoose(record, "id", "articleId")) ?? ctx.articleId,
    headline: cap(headline, UNTRUSTED_TEXT_CAP),
    body: truncated ? chars.slice(0, ARTICLE_BODY_CAP).join("") : story,
    body_truncated: truncated,
    provider: cappedText(pickLoose(record, "source", "provider", "providerCode"), 32),
    published_at: publishedAt(pickLoose(record, "date", "time", "publishedAt", "timestamp")),
  });
}

export interface FundamentalsContext {
  readonly symbol: string;
  readonly contractId: string;
  /** Company name from the contract search, used when the summary has none. */
  readonly companyName?: string;
  /** Contract currency, for the market cap when the summary names none. */
  readonly currency?: string;
}

/** The summary's figures may sit at the top level or in one nested object (ratios, keyRatios, ...). */
function figureSources(record: WireRecord): WireRecord[] {
  const nested = Object.values(record).filter(isRecord);
  return [record, ...nested];
}

function figure(sources: readonly WireRecord[], ...keys: string[]): string | undefined {
  for (const source of sources) {
    const d = wireDecimal(pickLoose(source, ...keys));
    if (d !== undefined) return d;
  }
  return undefined;
}

function phrase(sources: readonly WireRecord[], max: number, ...keys: string[]): string | undefined {
  for (const source of sources) {
    const t = cappedText(pickLoose(source, ...keys), max);
    if (t !== undefined) return t;
  }
  return undefined;
}

/**
 * ibkr_fundamentals_get from getFundamentalsSummary (undocumented shape; every figure optional). The market
 * cap needs a currency (the summary's or the contract's), else it is left out.
 */
export function mapFundamentals(body: unknown, ctx: FundamentalsContext): FundamentalsResult {
  const record = requireRecord(body, "getFundamentalsSummary");
  const sources = figureSources(record);
  const description = text(pickLoose(record, "description", "businessDescription", "summary"));
  const marketCap = figure(sources, "marketCap", "mktCap", "marketCapitalization");
  const ccy = currency(pickLoose(record, "currency")) ?? currency(ctx.currency);
  const asOf = pickLoose(record, "asOf", "lastUpdated", "date");
  return compact({
    symbol: ctx.symbol,
    contract_id: ctx.contractId,
    company_name:
      phrase(sources, 200, "companyName", "company_name", "name") ?? cappedText(ctx.companyName, 200),
    description: description === undefined ? undefined : cap(description, UNTRUSTED_TEXT_CAP),
    industry: phrase(sources, 100, "industry"),
    sector: phrase(sources, 100, "sector"),
    market_cap:
      marketCap !== undefined && ccy !== undefined ? { amount: marketCap, currency: ccy } : undefined,
    pe_ratio: figure(sources, "peRatio", "pe", "priceEarnings"),
    eps: figure(sources, "eps", "earningsPerShare"),
    dividend_yield_percent: figure(sources, "dividendYield", "divYield", "dividendYieldPercent"),
    shares_outstanding: figure(sources, "sharesOutstanding", "sharesOut"),
    as_of: dateFromCompact(asOf) ?? isoDate(asOf),
  });
}

function isoDate(value: unknown): string | undefined {
  const t = text(value);
  if (t === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(t);
  return m === null ? undefined : dateFromCompact(`${m[1]}${m[2]}${m[3]}`);
}
