// How the gateway spells numbers and times on the wire: prices as "274.61", sizes with thousands
// separators ("1,300"), volumes with K/M suffixes ("38.4M"), changes with a sign ("+1.82"), compact
// timestamps (yyMMddHHmmss) and money strings in what-if answers ("1,977.60 USD").

export function price(value: number, decimals = 2): string {
  return value.toFixed(decimals);
}

export function grouped(value: number, decimals = 0): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function signedChange(value: number, decimals = 2): string {
  const text = Math.abs(value).toFixed(decimals);
  return value < 0 ? `-${text}` : `+${text}`;
}

export function compactVolume(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)}B`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}K`;
  return String(Math.round(value));
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** yyMMddHHmmss in UTC, as live orders and order status show times. */
export function compactTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

/** yyyyMMdd-HH:mm:ss in UTC, as trades and history show times. */
export function tradeTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

export function money(value: number, currency = "USD", decimals = 2): string {
  return `${grouped(value, decimals)} ${currency}`;
}

/** Quantities as the order endpoints print them: integers without decimals, fractions as they are. */
export function quantity(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e4) / 1e4);
}
