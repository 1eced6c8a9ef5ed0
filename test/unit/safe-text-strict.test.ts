import { describe, expect, test } from "bun:test";
import { hasUnsafeChars, neutralise } from "../../src/lib/safe-text.ts";
import { recorded } from "../helpers/recorded.ts";

// hostile-output.bin: stdout of a script in the Debian test base image (TERM=xterm-256color):
//   printf "1.0"; tput clear; printf "\n"                      clear screen and scrollback
//   printf "\e]0;pwned\a2.0\n"                                 set the window title (OSC 0)
//   printf "\e[31m3.0\e[0m\n"                                  colours (CSI SGR)
//   printf "4.0\xe2\x80\xae0.5\n"                              RIGHT-TO-LEFT OVERRIDE (U+202E)
//   printf "\xc2\x9b2J6.0\n"                                   C1 CSI (U+009B) clear screen
//   printf "7.0\r8.0\n"; printf "9.0\b\b\b1.0\n"               CR and backspaces overwrite
//   printf "1.\x001\n"; printf "\x7f1.2\n"                     NUL, DEL
//   printf "\e]8;;http://evil.example/\e\\link\e]8;;\e\\\n"    a hyperlink (OSC 8)
//   head -c 512 /dev/urandom                                   binary
const bytes = recorded("hostile-output.bin");
const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
const lines = text.split("\n");

describe("neutralise", () => {
  test("every escape sequence of a real terminal loses its introducer and prints as text", () => {
    expect(lines.slice(0, 10).map(neutralise)).toEqual([
      "1.0\\x1b[H\\x1b[2J\\x1b[3J",
      "\\x1b]0;pwned\\x072.0",
      "\\x1b[31m3.0\\x1b[0m",
      "4.0\\u{202e}0.5",
      "\\x9b2J6.0",
      "7.0\\r8.0",
      "9.0\\x08\\x08\\x081.0",
      "1.\\x001",
      "\\x7f1.2",
      "\\x1b]8;;http://evil.example/\\x1b\\link\\x1b]8;;\\x1b\\",
    ]);
  });

  test("the result of any input, binary too, holds no control or format character and is one line", () => {
    const out = neutralise(text);
    expect(hasUnsafeChars(out)).toBe(false);
    expect(out).not.toContain("\n");
    for (let code = 0; code < 0x20; code++) expect(out).not.toContain(String.fromCharCode(code));
    for (let code = 0x7f; code < 0xa0; code++) expect(out).not.toContain(String.fromCharCode(code));
    // Twice changes nothing more: safe to apply at every layer.
    expect(neutralise(out)).toBe(out);
  });

  test("plain text, versions and non-Latin names pass unchanged", () => {
    for (const plain of [
      "2.0.14",
      "v1.2.3-beta.1+build.5",
      "claude-code",
      "Übersetzer 翻訳 агент",
      "C:\\agents\\x",
      "a b",
    ]) {
      expect(neutralise(plain)).toBe(plain);
      expect(hasUnsafeChars(plain)).toBe(false);
    }
  });

  test("bidi controls, zero-width and separator characters are shown, not applied", () => {
    expect(neutralise("a\u2066b\u2069c\u200bd\u2028e\u2029f\ufeffg\ue000h")).toBe(
      "a\\u{2066}b\\u{2069}c\\u{200b}d\\u{2028}e\\u{2029}f\\u{feff}g\\u{e000}h",
    );
  });
});
