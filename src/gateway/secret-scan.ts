// The last look at a result before it leaves the gateway: any value that redaction would treat as secret
// material (a token-like string, a cookie, a key, a secret-named field) withholds the whole result. Account
// ids are not secrets in outputs - tools return the accounts the caller asked about - so they pass.
import { findSecrets } from "../store/index.ts";
import type { SecretScanner } from "./dispatch.ts";

export const scanSecrets: SecretScanner = findSecrets;
