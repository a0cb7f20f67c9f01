// Deterministic pseudo-randomness. Every number the simulator invents (prices, sizes, ids, liquidity) is a
// pure function of the seed and a key, so one seed gives the same market in every run and every process,
// and any point of the price path can be computed without replaying the path before it.

/** 32-bit hash of the parts (FNV-1a over their text, then a murmur3 finaliser to spread the bits). */
export function hash32(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  const text = parts.join("\u001f");
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) fixed by the parts. */
export function unit(...parts: readonly (string | number)[]): number {
  return hash32(...parts) / 0x1_0000_0000;
}

/** A number in [-1, 1) fixed by the parts. */
export function signed(...parts: readonly (string | number)[]): number {
  return unit(...parts) * 2 - 1;
}

/** An integer in [min, max] fixed by the parts. */
export function intBetween(min: number, max: number, ...parts: readonly (string | number)[]): number {
  return min + Math.floor(unit(...parts) * (max - min + 1));
}

/**
 * Smooth noise in [-1, 1]: random values at integer points of `x`, joined by a smoothstep curve. Summing a
 * few octaves of it gives a path that wanders like a price without any state.
 */
export function smoothNoise(x: number, ...parts: readonly (string | number)[]): number {
  const i = Math.floor(x);
  const f = x - i;
  const a = signed(...parts, i);
  const b = signed(...parts, i + 1);
  const s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}
