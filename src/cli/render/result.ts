// Human rendering of any tool result, driven by the result itself: a banner when the data is simulated,
// scalar fields as an aligned list, arrays of records as aligned tables, money as "1,234.50 USD", market-data
// provenance in words. A few tools name their preferred columns in RENDER_HINTS; everything else works
// without per-tool code, so a new tool in the contracts renders sensibly on day one.
import type { ToolName } from "../../../generated/tools/registry.gen.ts";
import { RENDER_HINTS } from "./hints/index.ts";
import { renderTable } from "./table.ts";

type Row = Record<string, unknown>;

/** Fields shown elsewhere (banner) or too noisy for a terminal. */
const HIDDEN = new Set(["source"]);

/** Keyed hashes (account_id_hash, ...) are for machines matching audit records, not for reading. */
function hidden(key: string): boolean {
  return HIDDEN.has(key) || key.endsWith("_hash");
}
const MAX_COLUMNS = 8;

function isRecord(value: unknown): value is Row {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isMoney(value: unknown): value is { amount: string; currency: string } {
  return (
    isRecord(value) &&
    typeof value.amount === "string" &&
    typeof value.currency === "string" &&
    Object.keys(value).length === 2
  );
}

function isProvenance(value: unknown): value is { status: string; age_seconds?: number; warnings: string[] } {
  return isRecord(value) && typeof value.status === "string" && Array.isArray(value.warnings);
}

/** "1234567.5" -> "1,234,567.5"; keeps every digit the broker gave. */
export function groupDigits(decimal: string): string {
  const negative = decimal.startsWith("-");
  const [whole = "", fraction] = (negative ? decimal.slice(1) : decimal).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction !== undefined ? `.${fraction}` : ""}`;
}

function formatMoney(money: { amount: string; currency: string }): string {
  const [, fraction = ""] = money.amount.split(".");
  const padded =
    fraction.length === 1 ? `${money.amount}0` : fraction.length === 0 ? `${money.amount}.00` : money.amount;
  return `${groupDigits(padded)} ${money.currency}`;
}

function formatProvenance(p: { status: string; age_seconds?: number; warnings: string[] }): string {
  const age = p.age_seconds !== undefined ? ` (${p.age_seconds} s old)` : "";
  return `${p.status}${age}${p.warnings.length > 0 ? ` - ${p.warnings.join("; ")}` : ""}`;
}

/** One cell: scalars as text, money and provenance in words, small lists joined, other objects summarised. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (isMoney(value)) return formatMoney(value);
  if (isProvenance(value)) return formatProvenance(value);
  if (Array.isArray(value)) {
    return value.every((item) => typeof item !== "object")
      ? value.join(", ") || "-"
      : `${value.length} items`;
  }
  if (isRecord(value)) {
    return Object.entries(value)
      .filter(([, v]) => typeof v !== "object" || isMoney(v))
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(" ");
  }
  return String(value);
}

function label(key: string): string {
  return key.replaceAll("_", " ");
}

function tableFor(rows: Row[], preferred: string[] | undefined): string {
  const keys =
    preferred ?? [...new Set(rows.flatMap((row) => Object.keys(row)))].filter((key) => !hidden(key));
  const columns = keys
    .filter((key) => rows.some((row) => row[key] !== undefined))
    .filter((key) => rows.every((row) => !isRecord(row[key]) || isMoney(row[key]) || isProvenance(row[key])))
    .slice(0, MAX_COLUMNS);
  return renderTable(
    rows,
    columns.map((key) => ({
      header: label(key).toUpperCase(),
      value: (row: Row) => formatValue(row[key]),
      align: rows.some((row) => isMoney(row[key]) || /^-?[\d,]+(\.\d+)?$/.test(String(row[key] ?? "")))
        ? "right"
        : "left",
    })),
  );
}

export function renderResult(tool: ToolName, result: unknown): string {
  if (!isRecord(result)) return formatValue(result);
  const blocks: string[] = [];
  const source = result.source;
  if (isRecord(source) && source.simulated === true) {
    blocks.push("SIMULATED DATA from the built-in simulator - not a real IBKR account.");
  }
  const scalars: [string, string][] = [];
  for (const [key, value] of Object.entries(result)) {
    if (hidden(key)) continue;
    if (Array.isArray(value) && value.some(isRecord)) {
      const rows = value.filter(isRecord);
      blocks.push(
        `${label(key)[0]?.toUpperCase()}${label(key).slice(1)} (${rows.length}):\n${tableFor(rows, RENDER_HINTS[tool]?.[key])}`,
      );
    } else if (isRecord(value) && !isMoney(value) && !isProvenance(value)) {
      for (const [sub, subValue] of Object.entries(value))
        scalars.push([`${label(key)} ${label(sub)}`, formatValue(subValue)]);
    } else {
      scalars.push([label(key), formatValue(value)]);
    }
  }
  if (scalars.length > 0) {
    const width = Math.max(...scalars.map(([k]) => k.length));
    blocks.splice(
      blocks.length > 0 && blocks[0]?.startsWith("SIMULATED") ? 1 : 0,
      0,
      scalars.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join("\n"),
    );
  }
  return blocks.join("\n\n");
}
