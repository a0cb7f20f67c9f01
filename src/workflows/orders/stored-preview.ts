// A preview as the store keeps it: everything a later approval and submit need (contract, legs, the policy
// result, the quote and what-if shown to whoever approved it), without the raw account id, which the caller
// passes again and the record checks by hash. A bracket is one preview with three legs.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import { type AccountMode, type LegRole, legFromView, type OrderLeg } from "../../core/orders.ts";
import type { PreviewRecord, Store } from "../../store/index.ts";

type SinglePreview = ToolOutput<"ibkr_order_preview">;

export type PreviewKind = "order" | "bracket";

export interface StoredPreview {
  readonly preview_kind: PreviewKind;
  readonly account_mode: AccountMode;
  readonly contract: SinglePreview["contract"];
  /** Contract multiplier as a decimal string (1 for stocks and ETFs). */
  readonly multiplier: string;
  readonly legs: readonly (Record<string, string> & { role: LegRole })[];
  readonly what_if: SinglePreview["what_if"];
  readonly risk: SinglePreview["risk"];
  readonly quote: SinglePreview["quote"];
  readonly created_at: string;
  readonly expires_at: string;
  /** Keyed hash of this payload's canonical JSON, as order_preview_created recorded it. */
  readonly preview_hash?: string;
}

export interface LoadedPreview {
  readonly record: PreviewRecord;
  readonly preview: StoredPreview;
  readonly legs: OrderLeg[];
}

export function legsOf(preview: StoredPreview): OrderLeg[] {
  return preview.legs.map((view) => legFromView(view.role, view));
}

/**
 * The stored preview for this account; ORDER_PREVIEW_NOT_FOUND when there is none (or it belongs to another
 * account: the caller learns nothing about other accounts' previews), ORDER_PREVIEW_EXPIRED once expired.
 */
export function loadPreview(
  store: Store,
  previewId: string,
  accountIdHash: string,
  now: number,
  options: { allowExpired?: boolean } = {},
): LoadedPreview {
  const record = store.previews.get(previewId);
  if (record === null || record.accountIdHash !== accountIdHash) {
    throw new GatewayError("ORDER_PREVIEW_NOT_FOUND", { details: { field: "preview_id" } });
  }
  if (options.allowExpired !== true && record.expiresAt <= now) {
    throw new GatewayError("ORDER_PREVIEW_EXPIRED", {
      details: { field: "preview_id", expired_at: toRfc3339(record.expiresAt) },
    });
  }
  const preview = record.payload as StoredPreview;
  return { record, preview, legs: legsOf(preview) };
}
