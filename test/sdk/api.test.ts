// The SDK's public surface, pinned: every name the package root exports, what kind of thing it is, the
// module it comes from, and for the SDK's own declarations their full text. Changing the public API means
// changing this snapshot on purpose (`npx vitest run test/sdk/api.test.ts -u`).
import { relative } from "node:path";
import { Node, Project } from "ts-morph";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/run.ts";

function describeExports(): string {
  const project = new Project({
    tsConfigFilePath: `${ROOT}/tsconfig.json`,
    skipAddingFilesFromTsConfig: true,
  });
  const entry = project.addSourceFileAtPath(`${ROOT}/src/sdk/index.ts`);
  project.resolveSourceFileDependencies();
  const lines: string[] = [];
  for (const [name, declarations] of [...entry.getExportedDeclarations()].sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    for (const declaration of declarations) {
      const file = relative(ROOT, declaration.getSourceFile().getFilePath());
      const kind = declaration.getKindName();
      lines.push(`${name}: ${kind} from ${file}`);
      // The SDK's own declarations are the API users write against: pin their whole text.
      if (
        file.startsWith("src/sdk/") &&
        (Node.isInterfaceDeclaration(declaration) ||
          Node.isTypeAliasDeclaration(declaration) ||
          Node.isFunctionDeclaration(declaration))
      ) {
        const text = Node.isFunctionDeclaration(declaration)
          ? `function ${name}(${declaration
              .getParameters()
              .map((p) => p.getText())
              .join(", ")}): ${declaration.getReturnTypeNode()?.getText() ?? "unknown"}`
          : declaration.getText();
        lines.push(...text.split("\n").map((line) => `    ${line}`));
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

describe("the SDK's public API", () => {
  it("matches the committed snapshot", async () => {
    await expect(describeExports()).toMatchFileSnapshot("__snapshots__/api.txt");
  }, 60_000);
});
