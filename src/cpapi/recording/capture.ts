// A recording tap on the wire to the gateway: an undici interceptor that copies every response (status,
// headers, body bytes) as it streams past to the transport, and that refuses any request whose method the
// recorder does not allow before it reaches the socket. The transport above it is unchanged: it still paces,
// runs the pre-flights and maps errors; the tap only watches, and guards.
import type { Dispatcher } from "undici";
import { GatewayError } from "../../core/gateway-error.ts";

export interface CapturedExchange {
  /** Order of completion, from 0. */
  readonly sequence: number;
  readonly method: string;
  /** Path and query exactly as sent, e.g. /v1/api/iserver/marketdata/snapshot?conids=265598. */
  readonly path: string;
  readonly status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as received (UTF-8), cut at the capture limit. */
  readonly text: string;
  readonly truncated: boolean;
}

export interface CaptureOptions {
  /** Methods that may be sent (the recorder allows GET only). */
  readonly allowMethods: ReadonlySet<string>;
  /** Bytes kept per body (default 8 MiB, the client's own default limit). */
  readonly maxBytes?: number;
}

export interface Capture {
  /** Wraps a dispatcher; requests through the result are checked and their responses copied. */
  wrap(dispatcher: Dispatcher): Dispatcher;
  /** Every completed exchange so far, oldest first. */
  readonly exchanges: readonly CapturedExchange[];
}

type Headers = Record<string, string | string[] | undefined>;

function flatHeaders(raw: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined)
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}

export function createCapture(options: CaptureOptions): Capture {
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  const exchanges: CapturedExchange[] = [];

  const interceptor: Dispatcher.DispatcherComposeInterceptor =
    (dispatch) => (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => {
      const method = String(opts.method).toUpperCase();
      if (!options.allowMethods.has(method)) {
        // Thrown from dispatch, so undici's request() rejects with it and nothing is written to the socket.
        throw new GatewayError("READONLY_WRITE_FORBIDDEN", {
          message: `The recorder only reads; it refused to send a ${method} request to the gateway.`,
          userAction: "Nothing was sent. Report this: the recording sequence must contain reads only.",
          details: { method },
        });
      }
      let status = 0;
      let headers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const tap: Dispatcher.DispatchHandler = {
        onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
        onRequestUpgrade: (controller, statusCode, upgradeHeaders, socket) =>
          handler.onRequestUpgrade?.(controller, statusCode, upgradeHeaders, socket),
        onResponseStart: (controller, statusCode, responseHeaders, statusMessage) => {
          status = statusCode;
          headers = flatHeaders(responseHeaders as Headers);
          return handler.onResponseStart?.(controller, statusCode, responseHeaders, statusMessage);
        },
        onResponseData: (controller, chunk) => {
          if (size + chunk.length <= maxBytes) chunks.push(chunk);
          else truncated = true;
          size += chunk.length;
          return handler.onResponseData?.(controller, chunk);
        },
        onResponseEnd: (controller, trailers) => {
          exchanges.push({
            sequence: exchanges.length,
            method,
            path: String(opts.path),
            status,
            headers,
            text: Buffer.concat(chunks).toString("utf8"),
            truncated,
          });
          return handler.onResponseEnd?.(controller, trailers);
        },
        onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
      };
      return dispatch(opts, tap);
    };

  return {
    wrap: (dispatcher) => dispatcher.compose(interceptor),
    exchanges,
  };
}
