// Research tools: market scanners (POST /iserver/scanner/run, limited to the operator's allowlist), news
// headlines and articles and company fundamentals (undocumented web-UI endpoints that may be missing), and
// transfer history, which the Client Portal Gateway does not offer at all. Third-party text (headlines,
// article bodies, company descriptions) goes only into the fields the contracts mark untrusted.
import {
  getFundamentalsSummary,
  getNewsArticle,
  getNewsHeadlines,
  runScanner,
} from "../../../generated/cpapi/client.gen.ts";
import { TOOLS, type ToolInput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import { mapFundamentals, mapNewsArticle, mapNewsList, mapScannerRun } from "../../cpapi/mappers/index.ts";
import { type ReadDeps, readCall } from "./deps.ts";
import { firstStockMatch } from "./research/stock-lookup.ts";
import { undocumented } from "./research/undocumented.ts";

const SCANNER_DEFAULTS = TOOLS.ibkr_scanner_run.inputSchema.properties;
const NEWS_LIMIT = TOOLS.ibkr_news_list.inputSchema.properties.limit.default;
const NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

type ScannerFilter = { code: string; value: string | number };

/** "priceAbove=5" as the broker's {"code":"priceAbove","value":5}; numbers go as JSON numbers. */
function scannerFilter(filter: string): ScannerFilter {
  const at = filter.indexOf("=");
  const code = filter.slice(0, at);
  const value = filter.slice(at + 1);
  return { code, value: NUMBER.test(value) ? Number(value) : value };
}

function scannerNotAllowed(allowed: readonly string[]): GatewayError {
  return new GatewayError("INPUT_SCANNER_NOT_ALLOWED", {
    userAction:
      allowed.length === 0
        ? "The operator has allowed no scanners; ask them to add codes to `market_data.scanner_allowlist`."
        : `Use one of ${allowed.join(", ")}, or ask the operator to add the code to \`market_data.scanner_allowlist\`.`,
    details: { field: "scanner_code", allowed: [...allowed] },
  });
}

export function researchReads(deps: ReadDeps) {
  return {
    async "reads.scannerRun"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_scanner_run">;
      const allowed = deps.config.market_data.scanner_allowlist;
      // Refused before any broker call: the allowlist is the operator's decision, not the broker's.
      if (!allowed.includes(input.scanner_code)) throw scannerNotAllowed(allowed);
      const instrument = input.instrument ?? SCANNER_DEFAULTS.instrument.default;
      const location = input.location ?? SCANNER_DEFAULTS.location.default;
      const call = readCall(deps, context);
      const answer = await runScanner(call.transport, {
        body: {
          instrument,
          type: input.scanner_code,
          location,
          ...(input.filters !== undefined && input.filters.length > 0
            ? { filter: input.filters.map(scannerFilter) }
            : {}),
        },
      });
      return {
        ...mapScannerRun(answer.body, { scannerCode: input.scanner_code, instrument, location }),
        source: call.source,
      };
    },

    async "reads.newsList"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_news_list">;
      const call = readCall(deps, context);
      const stock = await firstStockMatch(call.transport, input.symbol);
      const answer = await undocumented("news", () =>
        getNewsHeadlines(call.transport, {
          path: { conid: Number(stock.contractId) },
          query: { widgets: "news", lang: "en" },
        }),
      );
      const news = mapNewsList(answer.body, {
        symbol: stock.symbol,
        contractId: stock.contractId,
        limit: input.limit ?? NEWS_LIMIT,
      });
      return { ...news, source: call.source };
    },

    async "reads.newsArticle"(args: Record<string, unknown>, context: OperationContext) {
      const { article_id: articleId } = args as ToolInput<"ibkr_news_article">;
      const call = readCall(deps, context);
      const answer = await undocumented("news_article", () =>
        getNewsArticle(call.transport, { path: { articleId } }),
      );
      return { ...mapNewsArticle(answer.body, { articleId }), source: call.source };
    },

    async "reads.fundamentalsGet"(args: Record<string, unknown>, context: OperationContext) {
      const { symbol } = args as ToolInput<"ibkr_fundamentals_get">;
      const call = readCall(deps, context);
      const stock = await firstStockMatch(call.transport, symbol);
      const answer = await undocumented("fundamentals", () =>
        getFundamentalsSummary(call.transport, { path: { conid: Number(stock.contractId) } }),
      );
      const fundamentals = mapFundamentals(answer.body, {
        symbol: stock.symbol,
        contractId: stock.contractId,
        ...(stock.companyName !== undefined ? { companyName: stock.companyName } : {}),
      });
      return { ...fundamentals, source: call.source };
    },

    /** CPAPI has no deposit or withdrawal endpoint (only IBKR's OAuth account-management API does). */
    async "reads.transferHistory"() {
      throw new GatewayError("BROKER_CAPABILITY_UNAVAILABLE", {
        message:
          "Deposit and withdrawal history is not available through the Client Portal Gateway: its API has no endpoint for it.",
        userAction:
          "Look in the IBKR Client Portal web site (Transfer & Pay, Transfer History) or in the Account Management statements.",
        details: { capability: "transfer_history" },
      });
    },
  };
}
