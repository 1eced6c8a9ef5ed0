// Human output goes to stderr through consola (progress, warnings, errors); results go
// to stdout (tables, reports, JSON), so `--json` output can always be piped.
import { formatWithOptions } from "node:util";
import { type ConsolaReporter, createConsola } from "consola";
import { escapeControls, neutralise } from "../lib/safe-text.ts";
import { type Style, styleFor } from "./style.ts";

/** The colour of a log line's tag; the tags of other kinds stay plain. */
const TAG_STYLE: Record<string, keyof Style> = {
  fatal: "failure",
  error: "failure",
  warn: "warning",
  info: "accent",
  success: "success",
};

/**
 * Log lines as `[warn] message`, the same text on a terminal as in a pipe, a file or a CI log:
 * only the tag is coloured, and only where help and the live lines are (cli/style.ts decides,
 * for stderr). consola's own reporters decide colour by themselves (NO_COLOR="" turns it off,
 * FORCE_COLOR cannot turn it on in a pipe), and its fancy one reads `…` and _…_ in a message
 * as markup: a file name or an engine's words lose those characters there.
 *
 * Messages carry engine words, file names and values from outside: every control character is
 * shown as an escape before the line is written.
 */
export function logReporter(style: Style): ConsolaReporter {
  return {
    log(logObj, ctx) {
      const args = logObj.args.map((arg) => (typeof arg === "string" ? escapeControls(arg) : arg));
      const tag = `[${logObj.type}]`;
      const role = TAG_STYLE[logObj.type];
      const line = [role ? style[role](tag) : tag, formatWithOptions({}, ...args)].filter(Boolean).join(" ");
      (logObj.level < 2 ? ctx.options.stderr : ctx.options.stdout)?.write(`${line}\n`);
    },
  };
}

export const logger = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  reporters: [logReporter(styleFor(process.stderr))],
});

/** Quiet mode for --json: only warnings and errors reach stderr. */
function setQuiet(quiet: boolean): void {
  logger.level = quiet ? 1 : 3;
}

/**
 * Whether stdout is one NDJSON stream (--progress json): its events, then the answer (or the
 * error object) as the stream's last line, with "type" "result" (or "error") and "time".
 */
let ndjson = false;

/**
 * A command's first step: whether it answers in JSON (--json, or --progress json, whose stream
 * ends with the same object), the logger quiet if so.
 */
export function jsonOutput(args: { json?: boolean; progress?: string }): boolean {
  ndjson = args.progress === "json";
  const json = Boolean(args.json) || ndjson;
  setQuiet(json);
  return json;
}

/** One line of the --progress json stream: "type" and "time" first. */
export function printProgressLine(line: { type: string } & object): void {
  const { type, ...rest } = line;
  writeStdout(`${escapeC1(JSON.stringify({ type, time: new Date().toISOString(), ...rest }))}\n`);
}

/** Whether anything was printed on stdout; once the last answer is out (printLastJson), nothing more is. */
let stdoutUsed = false;
let stdoutSealed = false;

/** Whether the --progress json stream has had its last line (the answer or the error object). */
let streamAnswered = false;

/** Whether the run printed its answer on stdout yet (help, a table, JSON; not a progress event). */
export function answered(): boolean {
  return ndjson ? streamAnswered : stdoutUsed;
}

/** Everything the CLI prints on stdout goes through here. */
export function writeStdout(text: string): void {
  if (stdoutSealed) return;
  stdoutUsed = true;
  process.stdout.write(text);
}

/** Text results (tables, reports) line by line, control characters shown as escapes. */
export function printResult(text: string): void {
  const safe = text.replace(/\n$/, "").split("\n").map(escapeControls).join("\n");
  writeStdout(`${safe}\n`);
}

/**
 * The version of the JSON contract (schemas/*.schema.json): every --json object carries it
 * first. Raised only for a change a script could trip over; see docs/json-and-exit-codes.md.
 */
const JSON_SCHEMA_VERSION = 1;

/**
 * One JSON value. JSON.stringify escapes C0 controls but leaves DEL and C1 (U+0080-U+009F,
 * which a terminal may act on) raw: they are escaped too; the JSON means the same.
 */
export function printJson(value: object): void {
  writeStdout(jsonText(value));
  streamAnswered = true;
}

/**
 * The run's last answer, for when it ends early (a signal): printed only if stdout is still
 * empty, as --json promises one object; nothing is printed after it. Resolves once written.
 */
export function printLastJson(value: object): Promise<void> {
  const text = answered() || stdoutSealed ? "" : jsonText(value);
  stdoutSealed = true;
  return new Promise((done) => process.stdout.write(text, () => done()));
}

function jsonText(value: object): string {
  if (ndjson) {
    const type = "error" in value ? "error" : "result";
    return `${escapeC1(JSON.stringify({ type, time: new Date().toISOString(), schemaVersion: JSON_SCHEMA_VERSION, ...value }))}\n`;
  }
  return `${escapeC1(JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, ...value }, null, 2))}\n`;
}

/** DEL and C1 controls as \u escapes (JSON.stringify leaves them raw): the JSON means the same. */
function escapeC1(text: string): string {
  return text.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Aligns rows into columns for terminal tables. */
export function formatTable(header: string[], rows: string[][]): string {
  // Cells may hold text from outside (script output, file names): never raw control characters.
  const all = [header, ...rows].map((row) => row.map(neutralise));
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  return all
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
