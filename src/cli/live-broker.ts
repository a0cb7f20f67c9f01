// The seed's --live-broker flag of the four live order commands: which writer carries the write out. From a
// terminal a live command rehearses unless told client-portal, so a typo never sends real money; the flag
// only picks among the gateway's writers and every live gate still runs.
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../generated/bindings/cli.gen.ts";
import { TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
import type { WriterKind } from "../gateway/index.ts";

export const LIVE_BROKERS = {
  "local-candidate": "local_candidate",
  "client-portal": "broker",
  refusing: "refusing",
} as const satisfies Record<string, WriterKind>;
export type LiveBroker = keyof typeof LIVE_BROKERS;

export const DEFAULT_LIVE_BROKER: LiveBroker = "local-candidate";

export function isLiveWrite(tool: ToolName): boolean {
  return TOOLS[tool].tier === "live";
}

export function liveBrokerOption(yargs: Argv): Argv {
  return yargs.option("live-broker", {
    type: "string",
    choices: Object.keys(LIVE_BROKERS),
    default: DEFAULT_LIVE_BROKER,
    describe:
      "Who carries the write out: local-candidate rehearses (every live gate runs and the write is recorded, nothing reaches the broker), client-portal sends it to the broker, refusing refuses it",
  });
}

/** The call's live writer: the flag's, the default rehearsal when it is missing, none for other tools. */
export function liveWriterFor(tool: ToolName, argv: ParsedArgs): WriterKind | undefined {
  if (!isLiveWrite(tool)) return undefined;
  const chosen = argv["live-broker"];
  return typeof chosen === "string" && Object.hasOwn(LIVE_BROKERS, chosen)
    ? LIVE_BROKERS[chosen as LiveBroker]
    : LIVE_BROKERS[DEFAULT_LIVE_BROKER];
}
