// An undici Dispatcher that answers from msw handlers in-process (msw's interceptors do not see undici
// requests made with a custom dispatcher). The CPAPI client is handed this instead of an Agent, so unit
// tests and the default `simulator` backend run the real client code without a socket.
import { getResponse, type RequestHandler } from "msw";
import { Dispatcher, errors } from "undici";
import { LOST_RESPONSE_HEADER, TRANSPORT_HEADER } from "./msw-handlers.ts";

type DispatchOptions = Dispatcher.DispatchOptions;
type DispatchHandler = Dispatcher.DispatchHandler;

function headersOf(raw: DispatchOptions["headers"]): Headers {
  const headers = new Headers();
  if (raw === null || raw === undefined) return headers;
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) headers.append(String(raw[i]), String(raw[i + 1]));
    return headers;
  }
  if (Symbol.iterator in raw) {
    for (const [name, value] of raw as Iterable<[string, string | string[] | undefined]>) {
      if (value !== undefined) headers.append(name, Array.isArray(value) ? value.join(", ") : value);
    }
    return headers;
  }
  for (const [name, value] of Object.entries(raw as Record<string, string | string[] | undefined>)) {
    if (value !== undefined) headers.append(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

async function bodyOf(body: DispatchOptions["body"]): Promise<Uint8Array | string | undefined> {
  if (body === null || body === undefined) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }
  throw new TypeError("unsupported request body for the in-process simulator");
}

function connectionRefused(origin: string): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${origin}`), { code: "ECONNREFUSED" });
}

export class MswDispatcher extends Dispatcher {
  readonly #handlers: () => readonly RequestHandler[];
  #closed = false;

  constructor(handlers: () => readonly RequestHandler[]) {
    super();
    this.#handlers = handlers;
  }

  override dispatch(options: DispatchOptions, handler: DispatchHandler): boolean {
    let aborted: Error | null = null;
    const controller = {
      get aborted() {
        return aborted !== null;
      },
      get paused() {
        return false;
      },
      get reason() {
        return aborted;
      },
      abort(reason: Error) {
        aborted ??= reason;
      },
      pause() {},
      resume() {},
    };
    const origin = String(options.origin ?? "http://localhost");
    const run = async () => {
      if (this.#closed)
        throw Object.assign(new Error("The simulator dispatcher is closed"), { code: "UND_ERR_CLOSED" });
      handler.onRequestStart?.(controller, {});
      if (aborted) throw aborted;
      const method = options.method;
      const url = new URL(options.path, origin);
      const body = method === "GET" || method === "HEAD" ? undefined : await bodyOf(options.body);
      const requestHeaders = headersOf(options.headers);
      requestHeaders.set(TRANSPORT_HEADER, "in-process");
      const request = new Request(url, { method, headers: requestHeaders, body });
      const response = await getResponse([...this.#handlers()], request);
      if (aborted) throw aborted;
      if (response === undefined || response.type === "error") throw connectionRefused(origin);
      // The gateway handled the request, but the answer is lost: the error undici reports for a connection
      // the other side closed before answering.
      if (response.headers.get(LOST_RESPONSE_HEADER) === "1")
        throw new errors.SocketError("other side closed");
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      headers["content-length"] = String(bytes.length);
      handler.onResponseStart?.(controller, response.status, headers, response.statusText);
      if (aborted) throw aborted;
      if (bytes.length > 0) handler.onResponseData?.(controller, bytes);
      handler.onResponseEnd?.(controller, {});
    };
    run().catch((error: unknown) => {
      handler.onResponseError?.(controller, error instanceof Error ? error : new Error(String(error)));
    });
    return true;
  }

  override async close(): Promise<void> {
    this.#closed = true;
  }

  override async destroy(): Promise<void> {
    this.#closed = true;
  }
}
