import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "generated/tests/**/*.gen.test.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Vitest's default is one worker fewer than the CPUs: a single worker on these 2-core machines. Much of
    // the end-to-end time is spent waiting (broker pacing, child processes), so two workers overlap it.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
