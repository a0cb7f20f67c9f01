// Node's plain-HTTP server hands the socket of an upgrade request over with no 'error' listener (it removes
// its own before the 'upgrade' event; a TLS socket keeps Node's TLS error listener). A peer that resets the
// connection while an upgrade is refused would then raise an uncaught exception and end the whole server.
import type { Duplex } from "node:stream";

/** Makes a socket error on an upgrade request end that connection only. Call it first in 'upgrade'. */
export function guardUpgradedSocket(socket: Duplex): void {
  socket.on("error", () => socket.destroy());
}
