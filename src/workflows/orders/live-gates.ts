// Gathers the facts of every live gate for one write and evaluates them together (gates/live). Config, the
// store (kill switch, arming, ledger counters, approval, preview) and, for the limit policy, one fresh
// snapshot. Arming covers the live configuration it was given under: a different live_trading block now
// disarms (audited) and the arming gate fails until the operator arms again.

import type { ScopeName } from "../../../generated/scopes.gen.ts";
import { TOOLS, type ToolName } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { canonical } from "../../core/decimal.ts";
import { GatewayError, isGatewayError } from "../../core/gateway-error.ts";
import { tradingDayOf } from "../../core/trading-day.ts";
import {
  type ApprovalExpectation,
  checkApproval,
  evaluateLiveLimits,
  type GateFinding,
  type LiveFindings,
  type LiveLimitVerdict,
  type LivePolicySettings,
  type QuoteView,
} from "../../gates/index.ts";
import type { ApprovalRecord, Store } from "../../store/index.ts";
import type { OrderAccount } from "./account.ts";
import type { OrderDeps } from "./deps.ts";
import { type EventOrigin, recordEvent } from "./events.ts";
import type { LoadedPreview } from "./stored-preview.ts";

/** The live policy in force, with its decimals canonical; LIVE_POLICY_UNKNOWN when the id names none. */
export function livePolicy(deps: Pick<OrderDeps, "config">): LivePolicySettings {
  const live = deps.config.live_trading;
  const policy = live.policies.find((p) => p.id === live.risk_policy_id);
  if (policy === undefined) {
    throw new GatewayError("LIVE_POLICY_UNKNOWN", { details: { field: "live_trading.risk_policy_id" } });
  }
  const { max_session_notional: sessionNotional, ...rest } = policy;
  return {
    ...rest,
    max_order_quantity: canonical(policy.max_order_quantity),
    max_order_notional: canonical(policy.max_order_notional),
    ...(sessionNotional !== undefined ? { max_session_notional: canonical(sessionNotional) } : {}),
  };
}

const LIVE_CONFIG_HASHES = new WeakMap<object, { readonly keyId: string; readonly hash: string }>();

/**
 * Keyed hash of everything that bounds a live write: arming covers exactly this. Besides the live block it
 * takes the safety flags, the scopes agents get, approvals (who approves, for how long), the operator PIN,
 * previews and audit retention, so loosening any of them after arming (say, dropping require_human or adding
 * the live scope) disarms until the operator arms again under the new settings.
 */
export function liveConfigHash(deps: Pick<OrderDeps, "config" | "store">): string {
  const { config, store } = deps;
  // kill_switch_status asks on every call; the configuration is fixed for a gateway's life, so the hash is
  // worked out once per configuration and audit key generation.
  const cached = LIVE_CONFIG_HASHES.get(config);
  if (cached !== undefined && cached.keyId === store.keyId) return cached.hash;
  const hash = store.hashCanonical({
    live_trading: config.live_trading,
    safety: config.safety,
    enabled_scopes: config.auth.enabled_scopes,
    approvals: config.approvals,
    operator_pin_hash: config.operator.pin_hash ?? null,
    order_preview: config.order_preview,
    audit_retention_days: config.audit.retention_days,
  });
  LIVE_CONFIG_HASHES.set(config, { keyId: store.keyId, hash });
  return hash;
}

/** Whether live trading is armed for the configuration running now (a changed one no longer counts). */
export function armedForCurrentConfig(deps: Pick<OrderDeps, "config" | "store">): boolean {
  const arming = deps.store.liveArming.get();
  return arming.armed && (arming.configHash === null || arming.configHash === liveConfigHash(deps));
}

/** The day's and the window's counts from the ledger, as the live policy counts them. */
export function liveCounters(store: Store, accountIdHash: string, policy: LivePolicySettings, now: number) {
  const day = tradingDayOf(now);
  const totals = store.ledger.totalsForDay(accountIdHash, "live", day);
  const notional = totals.notionals.find((n) => n.currency === policy.currency)?.amount ?? "0";
  const windowMs = (policy.window_seconds ?? 0) * 1000;
  return {
    tradingDay: day,
    inWindow: windowMs > 0 ? store.ledger.ordersSince(accountIdHash, "live", now - windowMs) : 0,
    inSession: totals.orders,
    sessionNotional: notional,
  };
}

/** Disarms when the live configuration changed since arming; returns whether live trading is armed. */
export function armedNow(deps: OrderDeps, origin: EventOrigin): { armed: boolean; detail?: string } {
  const state = deps.store.liveArming.get();
  if (!state.armed)
    return { armed: false, detail: "the operator has not armed live trading (ibkr-agent live arm)" };
  if (state.configHash !== null && state.configHash !== liveConfigHash(deps)) {
    const now = deps.clock.now();
    deps.store.transaction(() => {
      const eventId = recordEvent(deps.store, origin, {
        type: "live_disarmed",
        metadata: {
          cause: "config_changed",
          armed_event_id: state.eventId ?? undefined,
          armed_seconds:
            state.armedAt === null ? undefined : Math.max(0, Math.round((now - state.armedAt) / 1000)),
        },
      });
      deps.store.liveArming.disarm({ by: "system", cause: "config_changed", at: now, eventId });
    });
    return {
      armed: false,
      detail: "the live configuration changed since arming; the operator must arm again",
    };
  }
  return { armed: true };
}

export interface LiveWriteFacts {
  readonly context: OperationContext;
  readonly account: OrderAccount;
  /** submit, bracket, modify: everything; cancel: no arming, kill switch, preview, approval or limits. */
  readonly kind: "submit" | "modify" | "cancel";
  readonly approval?: ApprovalRecord | null;
  readonly expectation?: ApprovalExpectation;
  /** The preview the write places (for a modify, the approved replacement), once loaded. */
  readonly preview?: LoadedPreview | null;
  readonly previewError?: GatewayError;
  /** What a modify adds to the day's notional (the increase over the working order). */
  readonly addedNotional?: string;
  readonly quote?: QuoteView | null;
}

export interface LiveEvaluation {
  readonly findings: LiveFindings;
  readonly limits: LiveLimitVerdict | null;
  readonly policyId: string | null;
  readonly tradingDay: string;
}

function finding(passed: boolean, detail?: string, extra: Partial<GateFinding> = {}): GateFinding {
  return { passed, ...(detail !== undefined ? { detail } : {}), ...extra };
}

export function evaluateLive(deps: OrderDeps, facts: LiveWriteFacts, origin: EventOrigin): LiveEvaluation {
  const { config, store } = deps;
  const now = deps.clock.now();
  const live = config.live_trading;
  const findings: LiveFindings = {};
  const enabled = live.enabled && config.safety.live_trading_enabled;
  findings.live_enabled = finding(enabled, enabled ? undefined : "live_trading.enabled is off");
  const listed = live.allowed_accounts.some((id) => id.toUpperCase() === facts.account.accountId);
  const isLive = facts.account.mode === "live";
  findings.account_allowlisted = finding(
    listed && isLive,
    !listed
      ? "the account is not on live_trading.allowed_accounts"
      : isLive
        ? undefined
        : "the broker does not report the account as a real-money account",
  );
  const scope = TOOLS[facts.context.tool as ToolName].scope as ScopeName;
  findings.live_scope_granted = finding(facts.context.scopes.has(scope), `scope ${scope}`);
  findings.checklist_acknowledged = finding(
    live.paper_to_live_checklist_acknowledged,
    live.paper_to_live_checklist_acknowledged
      ? undefined
      : "live_trading.paper_to_live_checklist_acknowledged is false",
  );
  const retentionOk = config.audit.retention_days >= 2555;
  findings.audit_available = finding(
    retentionOk && !store.readonly,
    retentionOk ? undefined : `audit.retention_days is ${config.audit.retention_days}, below 2555`,
  );
  let limits: LiveLimitVerdict | null = null;
  let policyId: string | null = null;
  let tradingDay = tradingDayOf(now);
  if (facts.kind !== "cancel") {
    const armed = armedNow(deps, origin);
    findings.armed = finding(armed.armed, armed.detail);
    const killSwitch = store.killSwitch.get();
    findings.kill_switch_released = finding(
      !killSwitch.engaged,
      killSwitch.engaged
        ? `engaged at ${killSwitch.changedAt === null ? "an unknown time" : toRfc3339(killSwitch.changedAt)}`
        : undefined,
    );
    const preview = facts.preview ?? null;
    findings.preview_unexpired = finding(
      preview !== null,
      preview === null
        ? (facts.previewError?.message ?? "no preview")
        : `expires ${toRfc3339(preview.record.expiresAt)}`,
    );
    let approvalError: GatewayError | undefined;
    try {
      checkApproval(facts.approval ?? null, facts.expectation as ApprovalExpectation, "LIVE_GATE_MISSING");
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      approvalError = error;
    }
    findings.approval_valid = finding(
      approvalError === undefined,
      approvalError?.message,
      approvalError !== undefined && approvalError.code !== "LIVE_GATE_MISSING"
        ? { error: approvalError }
        : {},
    );
    findings.idempotency_key_present = finding(true);
    // With live trading off there may be no policy at all: that is the disabled feature, reported as such.
    const policy = enabled || live.risk_policy_id !== undefined ? livePolicy(deps) : null;
    policyId = policy?.id ?? null;
    if (policy === null) {
      findings.limit_policy_passed = finding(false, "no live limit policy is selected", { reasons: [] });
    } else if (preview !== null) {
      const counters = liveCounters(store, facts.account.accountIdHash, policy, now);
      tradingDay = counters.tradingDay;
      limits = evaluateLiveLimits({
        policy,
        symbol: preview.preview.contract.symbol,
        assetClass: preview.preview.contract.asset_class,
        contractCurrency: preview.preview.contract.currency,
        multiplier: preview.preview.multiplier,
        legs: preview.legs,
        quote: facts.quote ?? null,
        counters,
        addedOrders: facts.kind === "modify" ? 1 : preview.legs.length,
        ...(facts.addedNotional !== undefined ? { addedNotional: facts.addedNotional } : {}),
      });
      findings.limit_policy_passed = finding(
        limits.reasons.length === 0,
        limits.reasons.length === 0 ? `policy ${policy.id}` : [...limits.reasons, ...limits.notes].join("; "),
        { reasons: limits.reasons },
      );
    } else {
      findings.limit_policy_passed = finding(false, "no preview to check", { reasons: [] });
    }
  }
  return { findings, limits, policyId, tradingDay };
}
