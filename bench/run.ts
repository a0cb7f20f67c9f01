// `npm run bench`: runs every benchmark module (bench/*.bench.ts) or the ones named on the command line, and
// prints each comparison with its ratio. Exit code 1 when a target is not met, so a regression is visible.
import { readdirSync } from "node:fs";
import { join } from "node:path";

const only = process.argv.slice(2);
const modules = readdirSync(import.meta.dirname)
  .filter((file) => file.endsWith(".bench.ts"))
  .filter((file) => only.length === 0 || only.some((name) => file.startsWith(name)))
  .sort();

let allMet = true;
for (const file of modules) {
  const module = (await import(join(import.meta.dirname, file))) as { run: () => Promise<boolean> };
  allMet = (await module.run()) && allMet;
}
process.stdout.write(allMet ? "All benchmark targets met.\n" : "Some benchmark targets were not met.\n");
process.exitCode = allMet ? 0 : 1;
