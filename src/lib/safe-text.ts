// Text from outside (a script's output, a file name, an engine's message) made harmless
// before it reaches a terminal, a table, a log or a record: control characters and the
// escape sequences they start can clear the screen, set the window title, move the cursor
// or hide text. They are shown as visible escapes instead, so nothing is silently lost.

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
 * Rewrites every unsafe character as a visible escape: `\x1b` for controls up to U+00FF,
 * `\u{202e}` above. An escape sequence loses its ESC (or CSI) and prints as plain text, e.g.
 * "\x1b[2J". Newlines and tabs are rewritten too: the result is always one line.
 */
export function neutralise(text: string): string {
  return text.replace(UNSAFE_ALL, (char) => {
    const code = char.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}
