// The broker boundary's public surface. Callers build one client per gateway and pass `client.transport`
// to the generated functions of generated/cpapi/client.gen.ts.
export type {
  CpapiClient,
  CpapiClientOptions,
  ModifyOrderInput,
  OrderRequest,
  SubmitOrdersInput,
} from "./client.ts";
export { createCpapiClient } from "./client.ts";
export type { PacingProfile } from "./pacer.ts";
export { GLOBAL_LIMIT, pacingRules } from "./pacer.ts";
export type { AnsweredQuestion, PlacedOrder, ReplyChainOptions, ReplyChainResult } from "./replies.ts";
export { DEFAULT_MAX_REPLY_ROUNDS, walkReplyChain } from "./replies.ts";
export type { SessionControl } from "./session.ts";
export type { SessionState, SessionStatus } from "./session-state.ts";
export { SESSION_OPERATIONS } from "./session-state.ts";
export { isInsecureTlsHostAllowed } from "./tls.ts";
export type { ClientReply, ClientTransport, LogFn, TransportCallOptions } from "./transport.ts";
export { replySimulated } from "./transport.ts";
export { DEFAULT_BASE_URL, encodeQueryValue } from "./url.ts";
