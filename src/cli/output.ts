// Human output goes to stderr through consola (progress, warnings, errors); results go
// to stdout (tables, reports, JSON), so `--json` output can always be piped.
import { createConsola } from "consola";
import { isInteractive } from "../lib/terminal.ts";

export const logger = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  // CI logs and pipes get plain lines; a terminal gets consola's fancy reporter.
  fancy: isInteractive(),
  formatOptions: { date: false },
} as Parameters<typeof createConsola>[0]);

/** Quiet mode for --json: only warnings and errors reach stderr. */
export function setQuiet(quiet: boolean): void {
  logger.level = quiet ? 1 : 3;
}

export function printResult(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/**
 * The version of the JSON contract (schemas/*.schema.json): every --json object carries it
 * first. Raised only for a change a script could trip over; see the README.
 */
export const JSON_SCHEMA_VERSION = 1;

export function printJson(value: object): void {
  process.stdout.write(`${JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, ...value }, null, 2)}\n`);
}

/** Aligns rows into columns for terminal tables. */
export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  return all
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd())
    .join("\n");
}
