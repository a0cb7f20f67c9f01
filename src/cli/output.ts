// Where CLI results go: machine JSON on stdout with --json, human text otherwise. Errors always go to stderr
// as text, or to stdout as JSON with --json so a script reads one stream. Notes for the person at the
// terminal (the preview shown before a PIN prompt) go to stdout, or to stderr with --json so stdout stays
// one JSON document.

import { cliErrorJson } from "../core/error-mapping.ts";
import type { GatewayError } from "../core/gateway-error.ts";
import { renderErrorText } from "./render/error.ts";

export interface Output {
  readonly json: boolean;
  text(line: string): void;
  data(value: unknown): void;
  note(line: string): void;
  error(error: GatewayError): void;
}

export function createOutput(json: boolean, stdout = process.stdout, stderr = process.stderr): Output {
  return {
    json,
    text: (line) => stdout.write(`${line}\n`),
    data: (value) => stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    note: (line) => (json ? stderr : stdout).write(`${line}\n`),
    error: (error) => {
      if (json) stdout.write(`${JSON.stringify(cliErrorJson(error), null, 2)}\n`);
      else stderr.write(`${renderErrorText(error)}\n`);
    },
  };
}
