// Every POST is answered with plain JSON (the transport runs with enableJsonResponse), yet the SDK transport
// refuses with 406 a client whose Accept header lists application/json without text/event-stream. Some
// hosted connectors send exactly that. Since such a client accepts everything we would send, the header is
// completed before the transport reads it, instead of turning the client away. Anything else (an Accept
// that allows neither JSON nor */*) still gets the transport's 406.
import type { IncomingMessage } from "node:http";

const COMPLETE = "application/json, text/event-stream";

export function acceptJsonAnswers(req: IncomingMessage): void {
  const accept = req.headers.accept ?? "";
  if (accept.includes("text/event-stream")) return;
  if (!accept.includes("application/json") && !accept.includes("*/*")) return;
  req.headers.accept = COMPLETE;
  // The transport builds its Web Request from rawHeaders (name, value, name, value, ...).
  const raw: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    if (name.toLowerCase() !== "accept") raw.push(name, req.rawHeaders[i + 1] as string);
  }
  raw.push("Accept", COMPLETE);
  req.rawHeaders = raw;
}
