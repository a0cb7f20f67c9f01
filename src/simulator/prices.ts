// The deterministic price path. A stock's price at any instant is base * exp(sum of smooth-noise octaves
// from one minute to a quarter), scaled by its volatility: stateless, so the quote at 10:31 is the same
// whether or not anyone asked at 10:30, and history is computed the same way as the live quote. Tests move
// a price with an adjustment factor on top of the path. Options are priced from their underlying with
// Black-Scholes and a simple volatility smile, which also gives the greeks the snapshot reports.
import type { Instrument, OptionContract, Stock } from "./instruments.ts";
import { smoothNoise } from "./random.ts";

const MINUTE = 60_000;
/** Octaves: period in minutes and weight. Weights grow with the square root of the period, like a walk. */
const OCTAVES: readonly (readonly [number, number])[] = [
  [1, 0.04],
  [7, 0.11],
  [45, 0.27],
  [390, 0.62],
  [1_950, 1.1],
  [9_750, 1.9],
  [39_000, 3.2],
];
/** Normalises the octave sum so that one trading day's move is about one daily volatility. */
const NORMALISER = 0.55;

export function roundTick(price: number, tick = 0.01): number {
  // toFixed drops the binary noise of the multiplication (267.59000000000003 becomes 267.59).
  return Number((Math.round(price / tick) * tick).toFixed(6));
}

export interface PriceModel {
  /** Mid/last price of a stock at `ms` (before rounding). */
  stockPrice(stock: Stock, ms: number): number;
  /** Fair value of an option and its greeks at `ms`. */
  optionQuote(option: OptionContract, ms: number): OptionValue;
  /** Price of any instrument, rounded to the tick. */
  price(instrument: Instrument, ms: number): number;
  /** Moves a stock so that its price at `ms` is `target`; later prices follow the path from there. */
  setPrice(stock: Stock, ms: number, target: number): void;
  /** Clears every adjustment. */
  reset(): void;
  /** The adjustments (conid and factor), for a persisted simulator. */
  adjustments(): [number, number][];
  setAdjustments(entries: readonly (readonly [number, number])[]): void;
}

export interface OptionValue {
  readonly price: number;
  readonly delta: number;
  readonly gamma: number;
  /** Per calendar day. */
  readonly theta: number;
  /** Per volatility point. */
  readonly vega: number;
  /** Implied volatility (fraction) of this strike. */
  readonly iv: number;
  /** 30-day at-the-money implied volatility of the underlying. */
  readonly atmIv: number;
}

const RATE = 0.04;

function normPdf(x: number): number {
  return Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
}

export function createPriceModel(seed: number): PriceModel {
  const factors = new Map<number, number>();

  function raw(stock: Stock, ms: number): number {
    const minutes = ms / MINUTE;
    let sum = 0;
    for (const [period, weight] of OCTAVES)
      sum += weight * smoothNoise(minutes / period, seed, stock.conid, period);
    return stock.basePrice * Math.exp(stock.dailyVol * NORMALISER * sum);
  }

  function stockPrice(stock: Stock, ms: number): number {
    return raw(stock, ms) * (factors.get(stock.conid) ?? 1);
  }

  function optionQuote(option: OptionContract, ms: number): OptionValue {
    const spot = stockPrice(option.underlying, ms);
    const expiryMs = Date.UTC(
      Number(option.expiry.slice(0, 4)),
      Number(option.expiry.slice(4, 6)) - 1,
      Number(option.expiry.slice(6, 8)),
      21,
    );
    const years = Math.max((expiryMs - ms) / (365 * 86_400_000), 1 / (365 * 24 * 60));
    const atmIv = option.underlying.dailyVol * Math.sqrt(252);
    const moneyness = Math.log(option.strike / spot);
    // A smile: wings priced richer than the money.
    const iv = atmIv * (1 + 0.9 * moneyness * moneyness + (moneyness < 0 ? -0.25 * moneyness : 0));
    const sqrtT = Math.sqrt(years);
    const d1 = (Math.log(spot / option.strike) + (RATE + (iv * iv) / 2) * years) / (iv * sqrtT);
    const d2 = d1 - iv * sqrtT;
    const discount = Math.exp(-RATE * years);
    const call = option.right === "C";
    const price = call
      ? spot * cdf(d1) - option.strike * discount * cdf(d2)
      : option.strike * discount * cdf(-d2) - spot * cdf(-d1);
    const delta = call ? cdf(d1) : cdf(d1) - 1;
    const gamma = normPdf(d1) / (spot * iv * sqrtT);
    const thetaYear =
      (-spot * normPdf(d1) * iv) / (2 * sqrtT) +
      (call ? -RATE * option.strike * discount * cdf(d2) : RATE * option.strike * discount * cdf(-d2));
    const vega = (spot * normPdf(d1) * sqrtT) / 100;
    return { price: Math.max(price, 0.01), delta, gamma, theta: thetaYear / 365, vega, iv, atmIv };
  }

  return {
    stockPrice,
    optionQuote,
    price: (instrument, ms) =>
      instrument.kind === "stock"
        ? roundTick(stockPrice(instrument, ms))
        : roundTick(optionQuote(instrument, ms).price, 0.01),
    setPrice(stock, ms, target) {
      factors.set(stock.conid, target / raw(stock, ms));
    },
    reset: () => factors.clear(),
    adjustments: () => [...factors.entries()],
    setAdjustments(entries) {
      factors.clear();
      for (const [conid, factor] of entries) factors.set(conid, factor);
    },
  };
}

/** Standard normal cumulative distribution. */
export function cdf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-z * z);
  return 0.5 * (1 + sign * erf);
}
