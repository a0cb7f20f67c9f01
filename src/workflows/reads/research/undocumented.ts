// News and fundamentals live behind undocumented Client Portal web-UI endpoints that some gateway builds do
// not serve (HTTP 404, which the client maps to BROKER_CAPABILITY_UNAVAILABLE). The catalogue's action for
// that code is generic; here the caller learns what is missing and where a person finds it instead.
import { GatewayError, isGatewayError } from "../../../core/gateway-error.ts";

export type UndocumentedCapability = "news" | "news_article" | "fundamentals";

const EXPLANATIONS: Record<UndocumentedCapability, { message: string; userAction: string }> = {
  news: {
    message:
      "This Client Portal Gateway does not serve news headlines (its undocumented news endpoint answered 404).",
    userAction:
      "Read the news in TWS or the IBKR Client Portal web site; a news subscription may be needed. Retrying this tool against the same gateway will not help.",
  },
  news_article: {
    message:
      "The broker did not serve this news article: the article id is unknown, or this Client Portal Gateway has no news endpoint.",
    userAction:
      "Pass an article_id exactly as ibkr_news_list returned it; if headlines load but articles never do, read the article in TWS or the IBKR Client Portal web site.",
  },
  fundamentals: {
    message:
      "This Client Portal Gateway does not serve company fundamentals (its undocumented fundamentals endpoint answered 404).",
    userAction:
      "Look the company up in TWS or the IBKR Client Portal web site (Research). Retrying this tool against the same gateway will not help.",
  },
};

/** Runs one call to an undocumented endpoint, explaining a missing capability in the caller's terms. */
export async function undocumented<T>(capability: UndocumentedCapability, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!isGatewayError(error) || error.code !== "BROKER_CAPABILITY_UNAVAILABLE") throw error;
    throw new GatewayError("BROKER_CAPABILITY_UNAVAILABLE", {
      ...EXPLANATIONS[capability],
      details: { ...error.details, capability },
      cause: error,
    });
  }
}
