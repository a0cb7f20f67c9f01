// Pure mappers from CPAPI wire bodies (JSON-parsed, as in fixtures/cpapi/*.json `body`) to the domain results
// of the broker-backed read tools: each returns the tool's output object without `source`, which the
// workflow adds. No I/O; failures are GatewayError BROKER_RESPONSE_INVALID naming operation and field. Where
// the broker is still warming up (snapshot pre-flight, cold P&L, greeks not yet computed) a mapper returns a
// NotReady marker instead (check with isNotReady) so the workflow can ask again.
export type { AccountHashContext, AccountMetadataContext, AccountMode } from "./accounts.ts";
export { accountModeOf, mapAccountMetadata, mapAccountsList } from "./accounts.ts";
export type { AssetClass, NotReady, NotReadyReason } from "./common.ts";
export { assetClassOf, isNotReady, wireDecimal } from "./common.ts";
export type {
  ContractFacts,
  ContractFilter,
  ContractResolveContext,
  ContractsSearchContext,
  OptionsChainContext,
  OptionUnderlying,
  StrikeSelection,
} from "./contracts.ts";
export {
  mapContractFacts,
  mapContractResolve,
  mapContractsSearch,
  mapOptionsChain,
  optionMonthCode,
  resolveCandidateIds,
  selectChainStrikes,
  selectOptionUnderlying,
} from "./contracts.ts";
export type { DepthContext } from "./depth.ts";
export { mapDepthBook } from "./depth.ts";
export type {
  CurrencyRateContext,
  DataProvenance,
  HistoryContext,
  ProvenanceInput,
  ProvenanceStatus,
  QuoteContext,
  SnapshotContext,
} from "./marketdata.ts";
export {
  GREEKS_FIELD_IDS,
  isSnapshotPreflight,
  mapCurrencyRate,
  mapHistoricalBars,
  mapMarketSnapshot,
  mapOptionGreeks,
  mapPreviewQuote,
  provenanceOf,
  QUOTE_FIELD_IDS,
  snapshotAvailability,
} from "./marketdata.ts";
export type { OrderTicket, TicketContext } from "./order-ticket.ts";
export { orderTicket } from "./order-ticket.ts";
export type { OrdersAccountContext, OrdersHistoryContext } from "./orders.ts";
export {
  mapExecutionsList,
  mapLiveOrder,
  mapOrderStatusBody,
  mapOrderStatusByBrokerId,
  mapOrderStatusByClientId,
  mapOrdersHistory,
  mapOrdersList,
  normaliseOrderStatus,
  normaliseOrderType,
  normaliseTimeInForce,
} from "./orders.ts";
export type {
  AccountContext,
  PnlRealtimeContext,
  PortfolioSnapshotContext,
  PositionsPageContext,
} from "./portfolio.ts";
export {
  mapAccountSummary,
  mapCashBalances,
  mapPnlDaily,
  mapPnlRealtime,
  mapPortfolioSnapshot,
  mapPosition,
  mapPositionsPage,
  POSITIONS_PAGE_SIZE,
} from "./portfolio.ts";
export type { FundamentalsContext, NewsListContext, ScannerContext } from "./research.ts";
export { mapFundamentals, mapNewsArticle, mapNewsList, mapScannerRun } from "./research.ts";
export type { HolidaysContext, ScheduleContext } from "./schedule.ts";
export {
  isRegularSessionOpen,
  mapMarketHolidays,
  mapMarketSession,
  SCHEDULE_HORIZON_DAYS,
} from "./schedule.ts";
export type { RequirementsContext, SessionProbe } from "./session.ts";
export { mapBackendStatus, mapSessionRenew, mapSessionRequirements, readSession } from "./session.ts";
export type { WhatIfContext } from "./whatif.ts";
export { mapWhatIf } from "./whatif.ts";
