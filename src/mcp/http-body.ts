// Reads a POST body as JSON under the size cap. The declared Content-Length is checked before a byte is
// read; a chunked body is counted as it arrives and reading stops at the cap. An application that parsed
// the body already (Express's json()) hands it in as req.body and nothing is read again.
import type { IncomingMessage } from "node:http";

export type BodyResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: "too_large" | "invalid_json" | "aborted" };

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== undefined && !Buffer.isBuffer(parsed) && typeof parsed !== "string") {
    return { ok: true, value: parsed };
  }
  if (Number(req.headers["content-length"]) > maxBytes) return { ok: false, reason: "too_large" };
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) return { ok: false, reason: "too_large" };
      chunks.push(chunk);
    }
  } catch {
    // The client went away or the request timed out; the server has answered the socket already.
    return { ok: false, reason: "aborted" };
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { ok: false, reason: "invalid_json" };
  }
}
