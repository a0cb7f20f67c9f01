// The generator registry: one entry per output kind, run in a fixed order. Adding an output kind means adding
// one line here; main.ts and the tests iterate this list.
import type { Contracts } from "./contracts.ts";
import type { GeneratedFile } from "./emit.ts";
import { generateAuditEvents } from "./generators/audit-events.ts";
import { generateCliBindings, generateSdkBindings } from "./generators/bindings.ts";
import { generateChecks } from "./generators/checks.ts";
import { generateCpapi } from "./generators/cpapi.ts";
import { generateDocs } from "./generators/docs.ts";
import { generateErrors } from "./generators/errors.ts";
import { generateQuestions } from "./generators/questions.ts";
import { generateScopes } from "./generators/scopes.ts";
import { generateTests } from "./generators/tests.ts";
import { generateTools } from "./generators/tools.ts";

export const GENERATORS: readonly {
  name: string;
  run: (contracts: Contracts) => GeneratedFile[] | Promise<GeneratedFile[]>;
}[] = [
  { name: "scopes", run: generateScopes },
  { name: "errors", run: generateErrors },
  { name: "audit-events", run: generateAuditEvents },
  { name: "questions", run: generateQuestions },
  { name: "cpapi", run: generateCpapi },
  { name: "tools", run: generateTools },
  { name: "checks", run: generateChecks },
  { name: "sdk-bindings", run: generateSdkBindings },
  { name: "cli-bindings", run: generateCliBindings },
  { name: "tests", run: generateTests },
  { name: "docs", run: generateDocs },
];

export async function generateAll(contracts: Contracts): Promise<GeneratedFile[]> {
  const files: GeneratedFile[] = [];
  for (const generator of GENERATORS) files.push(...(await generator.run(contracts)));
  return files.sort((a, b) => a.path.localeCompare(b.path));
}
