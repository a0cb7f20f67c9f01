// Benchmark harness: runs a candidate and its baseline interleaved in the same process run (so machine noise
// hits both alike), reports medians and the ratio candidate/baseline, and checks it against the target the
// issue names. Benchmarks never run in `npm test`; `npm run bench` runs them all.
import { performance } from "node:perf_hooks";

export interface Measurement {
  name: string;
  samples: number[];
}

export interface Comparison {
  title: string;
  candidate: Measurement;
  baseline: Measurement;
  /** Upper bound of candidate/baseline for "lower is better" timings, e.g. 1.3. */
  maxRatio?: number;
  /** Lower bound for "higher is better" throughputs, e.g. 0.7. */
  minRatio?: number;
  unit: "ms" | "ops/s";
  notes?: string[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0
    ? ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
    : (sorted[middle] ?? 0);
}

/** Times `runs` calls of each function, alternating candidate and baseline, after `warmup` untimed rounds. */
export async function interleave(
  candidate: { name: string; run: () => Promise<unknown> },
  baseline: { name: string; run: () => Promise<unknown> },
  options: { runs: number; warmup: number },
): Promise<{ candidate: Measurement; baseline: Measurement }> {
  for (let i = 0; i < options.warmup; i += 1) {
    await candidate.run();
    await baseline.run();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    for (const [fn, into] of i % 2 === 0
      ? ([
          [candidate.run, a],
          [baseline.run, b],
        ] as const)
      : ([
          [baseline.run, b],
          [candidate.run, a],
        ] as const)) {
      const start = performance.now();
      await fn();
      into.push(performance.now() - start);
    }
  }
  return { candidate: { name: candidate.name, samples: a }, baseline: { name: baseline.name, samples: b } };
}

export function report(comparison: Comparison): boolean {
  const c = median(comparison.candidate.samples);
  const b = median(comparison.baseline.samples);
  const ratio = c / b;
  const bound =
    comparison.maxRatio !== undefined
      ? { ok: ratio <= comparison.maxRatio, text: `target <= ${comparison.maxRatio}x` }
      : comparison.minRatio !== undefined
        ? { ok: ratio >= comparison.minRatio, text: `target >= ${comparison.minRatio}x` }
        : { ok: true, text: "no target" };
  const fmt = (v: number) => (comparison.unit === "ms" ? `${v.toFixed(3)} ms` : `${v.toFixed(1)} ops/s`);
  const lines = [
    `## ${comparison.title}`,
    `  ${comparison.candidate.name.padEnd(44)} median ${fmt(c)}  (n=${comparison.candidate.samples.length})`,
    `  ${comparison.baseline.name.padEnd(44)} median ${fmt(b)}  (n=${comparison.baseline.samples.length})`,
    `  ratio ${ratio.toFixed(2)}x  ${bound.text}  ${bound.ok ? "MET" : "NOT MET"}`,
    ...(comparison.notes ?? []).map((note) => `  ${note}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n\n`);
  return bound.ok;
}
