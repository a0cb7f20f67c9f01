// `ibkr-agent record`: a fixed, read-only tour of a real (paper) Client Portal Gateway whose answers are saved,
// redacted, in the fixture format of fixtures/cpapi/ ({"operationId", "status", "body"}), one file per call.
//
// Why a tap under the transport rather than catching GatewayError around `client.transport.call`: the
// transport turns every non-2xx answer into a catalogue error that keeps only the broker's error text (cut
// to 1,000 characters) and drops the rest of the body, and it answers a body that does not match the
// contract with BROKER_RESPONSE_INVALID and no body at all - yet wire drift is exactly what a recording is
// for. So the calls go through the generated functions and `client.transport` as usual (pacing, pre-flights,
// session gate, snapshot re-asks all unchanged), while an undici interceptor between the client and its
// Agent copies each response byte for byte (capture.ts). The same tap is the last line of the read-only
// promise: it throws on any method but GET before anything reaches the socket.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CpapiCallInput,
  type CpapiTransport,
  getAccountLedger,
  getAccountMeta,
  getAccountSummary,
  getAuthStatus,
  getBrokerageAccounts,
  getContractInfo,
  getExchangeRate,
  getHistory,
  getLiveOrders,
  getMarketSnapshot,
  getOptionStrikes,
  getPartitionedPnl,
  getPortfolioAccounts,
  getPositions,
  getStocksBySymbol,
  getTickle,
  getTrades,
  getTradingSchedule,
  searchContracts,
  validateSso,
} from "../../../generated/cpapi/client.gen.ts";
import { CPAPI_OPERATIONS, type CpapiOperationId } from "../../../generated/cpapi/operations.gen.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { GatewayError, isGatewayError } from "../../core/gateway-error.ts";
import { createCpapiClient } from "../client.ts";
import { createGatewayAgent, resolveTls } from "../tls.ts";
import type { LogFn } from "../transport.ts";
import { buildUrl, DEFAULT_BASE_URL, parseBaseUrl } from "../url.ts";
import { type CapturedExchange, createCapture } from "./capture.ts";
import { redactRecordings, type SensitiveKind } from "./redact.ts";

/** The conid every step about one instrument uses: AAPL on NASDAQ, the broker's own documentation example. */
export const RECORDING_CONID = 265598;
export const RECORDING_SYMBOL = "AAPL";
export const SNAPSHOT_FIELDS = "31,84,86,85,88,7295,6509";

export interface StepContext {
  /** The account of the account steps: --account, else the first listed by the broker. */
  readonly accountId: string | null;
  /** Nearest option month of the symbol search (e.g. JAN26), once searched. */
  readonly optionMonth: string | null;
}

export interface RecordingStep {
  readonly operationId: CpapiOperationId;
  /** File name part: `<operationId>.recorded-<label>.json`. */
  readonly label: string;
  /** When the transport had to ask more than once (snapshot pre-flight, first order list), the first answer's label. */
  readonly firstLabel?: string;
  /** The call's input; throws SkipStep when something it needs is missing. */
  input(context: StepContext): CpapiCallInput;
  send(transport: CpapiTransport, input: CpapiCallInput): Promise<unknown>;
}

export class SkipStep extends Error {}

function need<T>(value: T | null, reason: string): T {
  if (value === null) throw new SkipStep(reason);
  return value;
}

function step<I extends CpapiCallInput>(
  operationId: CpapiOperationId,
  label: string,
  input: (context: StepContext) => I,
  send: (transport: CpapiTransport, input: I) => Promise<unknown>,
  firstLabel?: string,
): RecordingStep {
  return {
    operationId,
    label,
    ...(firstLabel !== undefined ? { firstLabel } : {}),
    input,
    send: (transport, value) => send(transport, value as I),
  };
}

const NO_ACCOUNT = "no account id (the broker listed none; pass --account)";
const none = () => ({});

/** The fixed read-only sequence, in order. Every operation is a GET (a unit test pins this). */
export const RECORDING_STEPS: readonly RecordingStep[] = [
  step("getAuthStatus", "session", none, (t) => getAuthStatus(t)),
  step("getTickle", "session", none, (t) => getTickle(t)),
  step("validateSso", "session", none, (t) => validateSso(t)),
  step("getBrokerageAccounts", "session", none, (t) => getBrokerageAccounts(t)),
  step("getPortfolioAccounts", "session", none, (t) => getPortfolioAccounts(t)),
  step(
    "getAccountMeta",
    "account",
    (c) => ({ path: { accountId: need(c.accountId, NO_ACCOUNT) } }),
    (t, i) => getAccountMeta(t, i),
  ),
  step(
    "getAccountSummary",
    "account",
    (c) => ({ path: { accountId: need(c.accountId, NO_ACCOUNT) } }),
    (t, i) => getAccountSummary(t, i),
  ),
  step(
    "getAccountLedger",
    "account",
    (c) => ({ path: { accountId: need(c.accountId, NO_ACCOUNT) } }),
    (t, i) => getAccountLedger(t, i),
  ),
  step(
    "getPositions",
    "page0",
    (c) => ({ path: { accountId: need(c.accountId, NO_ACCOUNT), pageId: 0 } }),
    (t, i) => getPositions(t, i),
  ),
  step("getPartitionedPnl", "account", none, (t) => getPartitionedPnl(t)),
  step("getLiveOrders", "account", none, (t) => getLiveOrders(t), "first-call"),
  step(
    "getTrades",
    "1day",
    () => ({ query: { days: 1 } }),
    (t, i) => getTrades(t, i),
  ),
  step(
    "searchContracts",
    "aapl",
    () => ({ query: { symbol: RECORDING_SYMBOL } }),
    (t, i) => searchContracts(t, i),
  ),
  step(
    "getContractInfo",
    "aapl",
    () => ({ path: { conid: RECORDING_CONID } }),
    (t, i) => getContractInfo(t, i),
  ),
  step(
    "getStocksBySymbol",
    "aapl",
    () => ({ query: { symbols: RECORDING_SYMBOL } }),
    (t, i) => getStocksBySymbol(t, i),
  ),
  step(
    "getMarketSnapshot",
    "aapl",
    () => ({ query: { conids: String(RECORDING_CONID), fields: SNAPSHOT_FIELDS } }),
    (t, i) => getMarketSnapshot(t, i),
    "preflight",
  ),
  step(
    "getHistory",
    "aapl-1w-1d",
    () => ({ query: { conid: RECORDING_CONID, period: "1w", bar: "1d" } }),
    (t, i) => getHistory(t, i),
  ),
  step(
    "getExchangeRate",
    "usd-eur",
    () => ({ query: { source: "USD", target: "EUR" } }),
    (t, i) => getExchangeRate(t, i),
  ),
  step(
    "getTradingSchedule",
    "aapl",
    () => ({ query: { assetClass: "STK" as const, symbol: RECORDING_SYMBOL } }),
    (t, i) => getTradingSchedule(t, i),
  ),
  step(
    "getOptionStrikes",
    "aapl-nearest",
    (c) => ({
      query: {
        conid: String(RECORDING_CONID),
        sectype: "OPT" as const,
        month: need(c.optionMonth, "the symbol search listed no option month"),
      },
    }),
    (t, i) => getOptionStrikes(t, i),
  ),
];

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** The first month (as CPAPI spells them, "JAN26") not before the current one; else the earliest listed. */
export function nearestMonth(months: readonly string[], now: number): string | null {
  const today = new Date(now);
  const current = today.getUTCFullYear() * 12 + today.getUTCMonth();
  let best: { month: string; key: number } | null = null;
  let earliest: { month: string; key: number } | null = null;
  for (const month of months) {
    const parts = /^([A-Z]{3})(\d{2})$/.exec(month.trim().toUpperCase());
    const index = parts === null ? -1 : MONTHS.indexOf(parts[1] as string);
    if (parts === null || index < 0) continue;
    const key = (2000 + Number(parts[2])) * 12 + index;
    if (earliest === null || key < earliest.key) earliest = { month: month.trim(), key };
    if (key >= current && (best === null || key < best.key)) best = { month: month.trim(), key };
  }
  return best?.month ?? earliest?.month ?? (months[0]?.trim() || null);
}

/** Option months of the search result row for the recording conid (or the first row). */
export function optionMonthsOf(body: unknown): string[] {
  if (!Array.isArray(body)) return [];
  const rows = body.filter((row): row is Record<string, unknown> => row !== null && typeof row === "object");
  const row = rows.find((r) => String(r.conid) === String(RECORDING_CONID)) ?? rows[0];
  const sections = Array.isArray(row?.sections) ? (row.sections as unknown[]) : [];
  for (const section of sections) {
    const s = section as Record<string, unknown> | null;
    if (s?.secType === "OPT" && typeof s.months === "string") {
      return s.months.split(";").filter((m) => m.trim() !== "");
    }
  }
  return [];
}

function firstAccountOf(operationId: string, body: unknown): string | null {
  if (operationId === "getBrokerageAccounts") {
    const accounts = (body as { accounts?: unknown } | null)?.accounts;
    const first = Array.isArray(accounts) ? accounts[0] : undefined;
    return typeof first === "string" && first !== "" ? first : null;
  }
  if (operationId === "getPortfolioAccounts" && Array.isArray(body)) {
    const first = body[0] as { accountId?: unknown; id?: unknown } | undefined;
    const id = first?.accountId ?? first?.id;
    return typeof id === "string" && id !== "" ? id : null;
  }
  return null;
}

function accountsListed(body: unknown): string[] {
  const accounts = (body as { accounts?: unknown } | null)?.accounts;
  return Array.isArray(accounts) ? accounts.filter((a): a is string => typeof a === "string") : [];
}

/** The body as JSON when it parses, else the text, or null when empty (as the fixtures store it). */
export function parseWireBody(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface RecordOptions {
  readonly outDir: string;
  /** Default https://localhost:5000/v1/api. */
  readonly baseUrl?: string;
  readonly caFile?: string;
  readonly caPem?: string;
  readonly allowInsecureTlsForLocalhost?: boolean;
  /** Account for the account steps (default: the first the broker lists). */
  readonly accountId?: string;
  readonly clock?: Clock;
  /** Called once, as soon as an answer carries `x-ibkr-simulator: 1`. */
  readonly onSimulated?: () => void;
  /** Called after each step (progress for a person watching). */
  readonly onStep?: (call: RecordedCall) => void;
  readonly log?: LogFn;
}

export interface RecordedCall {
  readonly operationId: string;
  readonly label: string;
  /** HTTP status of the answer recorded, or null when nothing was received. */
  readonly status: number | null;
  /** File name inside the output directory, or null when nothing was written. */
  readonly file: string | null;
  /** Why nothing was recorded, or what the client made of the answer (catalogue code). */
  readonly note: string | null;
}

export interface RecordResult {
  readonly outDir: string;
  readonly simulated: boolean;
  /** Placeholder of the account recorded (never the real id). */
  readonly account: string | null;
  readonly calls: readonly RecordedCall[];
  /** Distinct originals replaced, by kind. */
  readonly redacted: Readonly<Record<SensitiveKind, number>>;
}

interface PendingFile {
  readonly operationId: string;
  readonly file: string;
  readonly exchange: CapturedExchange;
}

function noteOf(error: unknown): string {
  if (!isGatewayError(error)) return "INTERNAL_ERROR";
  const reason = error.details?.reason;
  if (error.code === "BROKER_RESPONSE_INVALID" && reason === "schema_mismatch") {
    const where = String(error.details?.instance_path ?? "");
    return `BROKER_RESPONSE_INVALID: does not match the contract${where === "" ? "" : ` at ${where}`}`;
  }
  return typeof reason === "string" ? `${error.code} (${reason})` : error.code;
}

/** True for failures where nothing answered at all (not running, TLS refused, timeout). */
function unreachable(error: unknown): boolean {
  return (
    isGatewayError(error) &&
    error.code === "BROKER_BACKEND_UNAVAILABLE" &&
    error.details?.failure !== undefined
  );
}

export async function recordGateway(options: RecordOptions): Promise<RecordResult> {
  const base = parseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const tls = resolveTls(base, options);
  if (options.accountId !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(options.accountId)) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "--account must be 1-64 letters, digits, dots, dashes or underscores.",
      details: { field: "account" },
    });
  }
  const clock = options.clock ?? systemClock;
  const capture = createCapture({ allowMethods: new Set(["GET"]) });
  const agent = createGatewayAgent(tls, { connectMs: 5_000, headersMs: 15_000, bodyMs: 15_000 });
  const client = createCpapiClient({
    baseUrl: base.href,
    dispatcher: capture.wrap(agent),
    pacingProfile: "cpapi",
    // A real gateway can take a few seconds to fill a fresh snapshot stream.
    snapshot: { tries: 5, retryMs: 1_000 },
    clock,
    ...(options.log !== undefined ? { log: options.log } : {}),
  });

  let context: StepContext = { accountId: options.accountId ?? null, optionMonth: null };
  const calls: RecordedCall[] = [];
  const pending: PendingFile[] = [];
  const knownAccounts = new Set<string>(options.accountId !== undefined ? [options.accountId] : []);
  let simulated = false;
  const finish = (call: RecordedCall) => {
    calls.push(call);
    options.onStep?.(call);
  };

  try {
    for (const current of RECORDING_STEPS) {
      const operation = CPAPI_OPERATIONS[current.operationId];
      let input: CpapiCallInput;
      try {
        input = current.input(context);
      } catch (error) {
        if (!(error instanceof SkipStep)) throw error;
        finish({
          operationId: current.operationId,
          label: current.label,
          status: null,
          file: null,
          note: `skipped: ${error.message}`,
        });
        continue;
      }
      const url = buildUrl(base, operation, input.path, input.query);
      const wanted = `${url.pathname}${url.search}`;
      const start = capture.exchanges.length;
      let failure: unknown = null;
      try {
        await current.send(client.transport, input);
      } catch (error) {
        failure = error;
      }
      const seen = capture.exchanges.slice(start);
      if (!simulated && seen.some((x) => x.headers["x-ibkr-simulator"] === "1")) {
        simulated = true;
        options.onSimulated?.();
      }
      // Nothing has ever answered: the gateway is not there (or not trusted). Stop with the client's error.
      if (failure !== null && capture.exchanges.length === 0 && unreachable(failure)) throw failure;
      const mine = seen.filter((x) => x.method === operation.method && x.path === wanted);
      const last = mine[mine.length - 1];
      if (last === undefined) {
        finish({
          operationId: current.operationId,
          label: current.label,
          status: null,
          file: null,
          note: failure === null ? "no answer seen" : `not sent: ${noteOf(failure)}`,
        });
        continue;
      }
      const first = mine[0] as CapturedExchange;
      if (current.firstLabel !== undefined && mine.length > 1) {
        const file = `${current.operationId}.recorded-${current.firstLabel}.json`;
        pending.push({ operationId: current.operationId, file, exchange: first });
        finish({
          operationId: current.operationId,
          label: current.firstLabel,
          status: first.status,
          file,
          note: null,
        });
      }
      const file = `${current.operationId}.recorded-${current.label}.json`;
      pending.push({ operationId: current.operationId, file, exchange: last });
      finish({
        operationId: current.operationId,
        label: current.label,
        status: last.status,
        file,
        note: failure === null ? (last.truncated ? "body cut at the capture limit" : null) : noteOf(failure),
      });

      const body = parseWireBody(last.text);
      if (current.operationId === "getBrokerageAccounts") {
        for (const id of accountsListed(body)) knownAccounts.add(id);
      }
      if (context.accountId === null) {
        const found = firstAccountOf(current.operationId, body);
        if (found !== null) context = { ...context, accountId: found };
      }
      if (current.operationId === "searchContracts") {
        context = { ...context, optionMonth: nearestMonth(optionMonthsOf(body), clock.now()) };
      }
    }
  } finally {
    await client.close();
    await agent.close();
  }

  // Every exchange seen (the transport's own pre-flights and re-checks included) teaches the redactor, so a
  // name or id that only one of them carries is still caught in the files written.
  if (context.accountId !== null) knownAccounts.add(context.accountId);
  const everything = capture.exchanges.map((x) => parseWireBody(x.text));
  const redaction = redactRecordings(everything, { accountIds: [...knownAccounts] });
  mkdirSync(options.outDir, { recursive: true });
  for (const item of pending) {
    const fixture = {
      operationId: item.operationId,
      status: item.exchange.status,
      body: redaction.bodies[item.exchange.sequence] ?? null,
    };
    writeFileSync(join(options.outDir, item.file), `${JSON.stringify(fixture, null, 2)}\n`);
  }
  return {
    outDir: options.outDir,
    simulated,
    account: context.accountId === null ? null : (redaction.placeholders.get(context.accountId) ?? null),
    calls,
    redacted: redaction.counts,
  };
}
