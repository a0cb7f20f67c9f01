// The relay protocol (docs/relay-protocol.md): envelope, signed frames, sequencing and the payload hash.
export { checkBody, checkedBody } from "./body-checks.ts";
export {
  type Channel,
  type ChannelOptions,
  createChannel,
  ProtocolViolation,
  parseEnvelope,
  VIOLATIONS,
  type Violation,
} from "./channel.ts";
export * from "./messages.ts";
export { payloadHash, payloadHashKey } from "./payload-hash.ts";
export {
  type FrameParts,
  publicKeyFromRaw,
  rawPublicKey,
  signFrame,
  splitFrame,
  verifyFrame,
} from "./signing.ts";
