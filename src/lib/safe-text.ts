// Text from outside (engine messages, build output, file names, values given on the command
// line) made harmless before it reaches a terminal or a log: a control character or an escape
// sequence can clear the screen, set the window title or forge a line ("\n# via: api" in a
// build argument). Printable text, any script, passes unchanged.

import { clip } from "./text.ts";

/** C0 controls but tab, DEL, and C1 controls (U+0080-U+009F: a terminal may take U+009B for CSI). */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
/**
 * Surrogates standing alone: bytes of a file name that were not UTF-8, kept as U+DC80-U+DCFF
 * (see lib/raw-names.ts); any other lone surrogate is shown by its code too.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/**
 * ANSI escape sequences: CSI (ESC [ … final byte, or the 8-bit U+009B), OSC and the other
 * string commands (ESC ] P X ^ _ … up to BEL or ESC \), and two-character ESC sequences.
 */
const ESCAPE_SEQUENCE =
  /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]|(?:\u001b[\]PX^_]|[\u0090\u009d\u0098\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[\u0020-\u002f]*[\u0030-\u007e]/g;

/** Characters with a name everyone reads; every other one is shown by its code (escapeChar). */
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * The one way this tool shows a character it will not print: `\n`, `\r`, `\t` by name, a code
 * up to U+00FF as `\x1b`, above it as `\u{202e}`. A byte of a non-UTF-8 file name (kept as
 * U+DC80-U+DCFF, see lib/raw-names.ts) is shown as that byte. The escapes hold no control
 * character, so escaping is idempotent.
 */
function escapeChar(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.codePointAt(0)!;
  if (code >= 0xdc80 && code <= 0xdcff) return `\\x${(code - 0xdc00).toString(16)}`;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/**
 * Every control character shown as a visible escape (`\n`, `\r`, `\x1b`, `\x07`, `\x9b`), lone
 * surrogates too: the text stays one line and nothing in it acts on a terminal. Tabs are kept.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, escapeChar).replace(LONE_SURROGATE, escapeChar);
}

/**
 * For output that is meant to be read, not replayed (build steps, engine messages): escape
 * sequences (colours, cursor moves, titles) are dropped whole, other control characters shown
 * as escapes.
 */
export function withoutEscapes(text: string): string {
  return escapeControls(text.replace(ESCAPE_SEQUENCE, ""));
}

/** A value the user gave, in quotes, shown safely: `'tcp://a\nb'`. For error messages. */
export function quoted(value: string, maxLength = 200): string {
  const shown = escapeControls(value);
  return `'${clip(shown, maxLength)}'`;
}

/** Whether the text holds a control character (tab included): not a single line of plain text. */
export function hasControls(text: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f]/.test(text);
}

// The strict view, for what must be one line of plain text (a version, a table cell, a
// record): every control, format, private-use or separator character becomes a visible escape.
/**
 * C0 and C1 controls, DEL, Unicode format characters (bidi overrides, zero-width marks),
 * line and paragraph separators, private-use and surrogate code points.
 */
const UNSAFE_CLASS = "[\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}\\p{Zl}\\p{Zp}]";
const UNSAFE = new RegExp(UNSAFE_CLASS, "u");
const UNSAFE_ALL = new RegExp(UNSAFE_CLASS, "gu");

/** Whether the text holds a character `neutralise` would rewrite. */
export function hasUnsafeChars(text: string): boolean {
  return UNSAFE.test(text);
}

/**
 * Rewrites every unsafe character as a visible escape (escapeChar). An escape sequence loses
 * its ESC (or CSI) and prints as plain text, e.g. "\x1b[2J". Newlines and tabs are rewritten
 * too: the result is always one line.
 */
export function neutralise(text: string): string {
  return text.replace(UNSAFE_ALL, escapeChar);
}
