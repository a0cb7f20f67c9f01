// Plain-text tables for terminals: columns aligned to the widest cell, numbers right-aligned, no colour codes
// (so output pasted into a ticket or a log stays readable).
export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: "left" | "right";
}

export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => (line[i] ?? "").length)),
  );
  const format = (values: readonly string[]) =>
    values
      .map((value, i) => {
        const width = widths[i] ?? 0;
        return columns[i]?.align === "right" ? value.padStart(width) : value.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [format(columns.map((column) => column.header)), rule, ...cells.map(format)].join("\n");
}
