// The operator's proof for a procedure that needs a person (approve under require_human, release the kill
// switch, engage it with --cancel-open, arm live trading): the PIN typed at this terminal. Nothing is asked
// when no person is at a terminal or no PIN is configured: the core then refuses with the right code and
// action, so the check itself stays in one place (src/workflows/operator.ts).
import type { CallContext, Gateway, OperatorProof } from "../gateway/index.ts";
import { askOperatorPin } from "./pin-prompt.ts";

export async function operatorProof(
  gateway: Gateway,
  context: CallContext,
): Promise<OperatorProof | undefined> {
  if (context.interactive !== true || gateway.loaded.config.operator.pin_hash === undefined) return undefined;
  return { pin: await askOperatorPin() };
}
