// `npm run build` (run by prepack): compiles src/ and generated/ to JavaScript in dist/, because Node does not
// strip types under node_modules, and marks the CLI entry executable.
import { execFileSync } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
rmSync(join(root, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});
chmodSync(join(root, "dist/src/cli/bin.js"), 0o755);
process.stdout.write("build: dist/ written\n");
