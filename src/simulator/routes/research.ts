// Research endpoints: scanner parameters and runs over the simulated universe (ranked by the same quotes
// the snapshot shows), and the undocumented news and fundamentals endpoints with clearly simulated text.
import { instrumentByConid, STOCKS, type Stock } from "../instruments.ts";
import { hash32 } from "../random.ts";
import { signedChange } from "../wire/format.ts";
import { badRequest, fail, integerParam, ok, type Route } from "./types.ts";

const SCAN_TYPES = [
  { display_name: "Top % Gainers", code: "TOP_PERC_GAIN", instruments: ["STK", "ETF.EQ.US"] },
  { display_name: "Top % Losers", code: "TOP_PERC_LOSE", instruments: ["STK", "ETF.EQ.US"] },
  { display_name: "Most Active", code: "MOST_ACTIVE", instruments: ["STK", "ETF.EQ.US"] },
  { display_name: "Hot by Volume", code: "HOT_BY_VOLUME", instruments: ["STK", "ETF.EQ.US"] },
];
const FILTERS = [
  { group: "priceAbove", display_name: "Price Above", code: "priceAbove", type: "non-range" },
  { group: "priceBelow", display_name: "Price Below", code: "priceBelow", type: "non-range" },
  { group: "volumeAbove", display_name: "Volume Above", code: "volumeAbove", type: "non-range" },
];

const getScannerParams: Route = () =>
  ok({
    scan_type_list: SCAN_TYPES,
    instrument_list: [
      { display_name: "US Stocks", type: "STK", filters: FILTERS.map((f) => f.code) },
      { display_name: "US Equity ETFs", type: "ETF.EQ.US", filters: FILTERS.map((f) => f.code) },
    ],
    filter_list: FILTERS,
    location_tree: [
      {
        display_name: "US Stocks",
        type: "STK",
        locations: [
          { display_name: "Listed/NASDAQ", type: "STK.US.MAJOR", locations: [] },
          { display_name: "OTCMarkets", type: "STK.US.MINOR", locations: [] },
        ],
      },
    ],
  });

interface Ranked {
  readonly stock: Stock;
  readonly last: number;
  readonly changePct: number;
  readonly volume: number;
}

const runScanner: Route = (request, state) => {
  const body = (request.body ?? {}) as {
    instrument?: unknown;
    type?: unknown;
    location?: unknown;
    filter?: unknown;
  };
  if (
    typeof body.instrument !== "string" ||
    typeof body.type !== "string" ||
    typeof body.location !== "string"
  ) {
    return badRequest("instrument, type and location needed");
  }
  const scan = SCAN_TYPES.find((s) => s.code === body.type);
  if (scan === undefined) return badRequest(`unknown scan type ${body.type}`);
  const filters = Array.isArray(body.filter) ? (body.filter as { code?: unknown; value?: unknown }[]) : [];
  let rows: Ranked[] = STOCKS.filter((s) =>
    body.instrument === "ETF.EQ.US" ? s.type === "ETF" : s.type === "COMMON",
  ).map((stock) => {
    const quote = state.quote(stock, request.now);
    return {
      stock,
      last: quote.last,
      changePct: ((quote.last - quote.priorClose) / quote.priorClose) * 100,
      volume: quote.volume,
    };
  });
  for (const filter of filters) {
    const value = Number(filter.value);
    if (!Number.isFinite(value)) continue;
    if (filter.code === "priceAbove") rows = rows.filter((r) => r.last > value);
    if (filter.code === "priceBelow") rows = rows.filter((r) => r.last < value);
    if (filter.code === "volumeAbove") rows = rows.filter((r) => r.volume > value);
  }
  const byVolume = scan.code === "MOST_ACTIVE" || scan.code === "HOT_BY_VOLUME";
  rows.sort((a, b) =>
    byVolume
      ? b.volume - a.volume
      : scan.code === "TOP_PERC_LOSE"
        ? a.changePct - b.changePct
        : b.changePct - a.changePct,
  );
  const column = byVolume ? "Volume" : "Chg%";
  return ok({
    contracts: rows.slice(0, 50).map((r, i) => ({
      server_id: String(i),
      ...(i === 0 ? { column_name: column } : {}),
      symbol: r.stock.symbol,
      conidex: String(r.stock.conid),
      con_id: r.stock.conid,
      available_chart_periods: "#R|1",
      company_name: r.stock.companyName,
      scan_data: byVolume ? String(r.volume) : `${signedChange(r.changePct)}%`,
      contract_description_1: r.stock.symbol,
      listing_exchange: r.stock.listingDisplay,
      sec_type: "STK",
    })),
    scan_data_column_name: column,
  });
};

const HEADLINES = [
  "{name} shares move with the broader market in simulated trading",
  "Simulated analysts review the outlook for {name}",
  "{symbol}: simulated options activity picks up",
];

function stockParam(text: string | undefined): Stock | null {
  const conid = integerParam(text);
  const instrument = conid === null ? undefined : instrumentByConid(conid);
  if (instrument === undefined) return null;
  return instrument.kind === "stock" ? instrument : instrument.underlying;
}

function articleId(stock: Stock, index: number): string {
  return `SIM$${String(stock.conid).padStart(9, "0")}${index}`;
}

const getNewsHeadlines: Route = (request, state) => {
  const stock = stockParam(request.params.conid);
  if (stock === null) return fail(500, "Invalid conid");
  return ok({
    news: {
      content: HEADLINES.map((template, i) => ({
        id: articleId(stock, i),
        headline: `Simulated headline: ${template.replace("{name}", stock.companyName).replace("{symbol}", stock.symbol)}`,
        source: "SIM",
        date: request.now - (i + 1) * 3_600_000 - (hash32(state.seed, stock.conid, i) % 600_000),
      })),
    },
  });
};

const getNewsArticle: Route = (request, state) => {
  const match = /^SIM\$(\d{9})(\d)$/.exec(request.params.articleId ?? "");
  const stock = match === null ? null : stockParam(String(Number(match[1])));
  const index = Number(match?.[2] ?? -1);
  if (stock === null || index < 0 || index >= HEADLINES.length) return { status: 404, text: "Not Found" };
  const headline = `Simulated headline: ${(HEADLINES[index] as string).replace("{name}", stock.companyName).replace("{symbol}", stock.symbol)}`;
  return ok({
    id: articleId(stock, index),
    headline,
    body: `<p>Simulated article about ${stock.companyName} for tests and demos. It contains no real news.</p>`,
    source: "SIM",
    date: request.now - (index + 1) * 3_600_000 - (hash32(state.seed, stock.conid, index) % 600_000),
  });
};

const getFundamentalsSummary: Route = (request) => {
  const stock = stockParam(request.params.conid);
  if (stock === null) return fail(500, "Invalid conid");
  return ok({
    description: `Simulated company description for tests: ${stock.companyName} (${stock.symbol}) is listed on ${stock.listingExchange} in the ${stock.industry} industry.`,
  });
};

export const RESEARCH_ROUTES = {
  getScannerParams,
  runScanner,
  getNewsHeadlines,
  getNewsArticle,
  getFundamentalsSummary,
} satisfies Record<string, Route>;
