// Refusal reasons (the fine-grained codes a policy or live gate refusal carries in details.refusal_reasons),
// each with its message and what to do, from the generated catalogue.
import { REFUSAL_REASONS, type RefusalReasonCode } from "../../../generated/errors.gen.ts";

function isReason(code: string): code is RefusalReasonCode {
  return Object.hasOwn(REFUSAL_REASONS, code);
}

export function renderRefusalReasons(codes: readonly string[]): string {
  const lines = codes.map((code) => {
    if (!isReason(code)) return `- ${code}`;
    const reason = REFUSAL_REASONS[code];
    return `- ${code}: ${reason.message} What to do: ${reason.userAction}`;
  });
  return `Why (${codes.length}):\n${lines.join("\n")}`;
}
