import { describe, expect, test } from "bun:test";
import { MAX_VERSION_LENGTH, stderrTail, versionFromOutput } from "../../src/version-check/script-output.ts";
import { recorded } from "../helpers/recorded.ts";

// hostile-output.bin: see safe-text.test.ts. Decoded as the runner decodes script output.
const decoded = new TextDecoder("utf-8", { fatal: false }).decode(recorded("hostile-output.bin"));
const lines = decoded.split("\n");

describe("versionFromOutput", () => {
  test("the first non-empty line, trimmed, is the version; CRLF output too", () => {
    expect(versionFromOutput("\n  \n 2.0.14 \nnext\n")).toEqual({ version: "2.0.14" });
    expect(versionFromOutput("6.0.2\r\n")).toEqual({ version: "6.0.2" });
    expect(versionFromOutput("")).toEqual({ none: true });
    expect(versionFromOutput(" \n\t\n")).toEqual({ none: true });
  });

  test("each line of a real terminal attack is refused, with the reason and the line made harmless", () => {
    const answers = lines.slice(0, 10).map((line) => versionFromOutput(`${line}\n`));
    expect(answers).toEqual([
      { refused: 'its first line holds control characters or escape sequences: "1.0\\x1b[H\\x1b[2J\\x1b[3J"' },
      { refused: 'its first line holds control characters or escape sequences: "\\x1b]0;pwned\\x072.0"' },
      { refused: 'its first line holds control characters or escape sequences: "\\x1b[31m3.0\\x1b[0m"' },
      { refused: 'its first line holds control characters or escape sequences: "4.0\\u{202e}0.5"' },
      { refused: 'its first line holds control characters or escape sequences: "\\x9b2J6.0"' },
      { refused: 'its first line holds control characters or escape sequences: "7.0\\r8.0"' },
      { refused: 'its first line holds control characters or escape sequences: "9.0\\x08\\x08\\x081.0"' },
      { refused: 'its first line holds control characters or escape sequences: "1.\\x001"' },
      { refused: 'its first line holds control characters or escape sequences: "\\x7f1.2"' },
      {
        refused:
          'its first line holds control characters or escape sequences: "\\x1b]8;;http://evil.example/\\x1b\\link\\x1b]8;;\\x1b\\"',
      },
    ]);
  });

  test("binary output is refused", () => {
    const binary = lines.slice(10).join("\n");
    const answer = versionFromOutput(binary);
    expect("refused" in answer).toBe(true);
    expect(JSON.stringify(answer)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  test("a refused line is quoted in part: the reason stays one short line", () => {
    expect(versionFromOutput(`\x1b[2J${"9".repeat(100)}\n`)).toEqual({
      refused: `its first line holds control characters or escape sequences: "\\x1b[2J${"9".repeat(36)}…"`,
    });
  });

  test("a line longer than the limit is refused; one at the limit is a version", () => {
    expect(versionFromOutput(`${"1".repeat(MAX_VERSION_LENGTH)}\n`)).toEqual({
      version: "1".repeat(MAX_VERSION_LENGTH),
    });
    expect(versionFromOutput(`${"1".repeat(MAX_VERSION_LENGTH + 1)}\n`)).toEqual({
      refused: `its first line is ${MAX_VERSION_LENGTH + 1} characters long, more than the ${MAX_VERSION_LENGTH} a version may have`,
    });
  });

  test("a first line that ran past the kept output is cut, never a version; a complete first line still is", () => {
    // What the runner keeps of a single 10 MiB line: the first MiB.
    const kept = "x".repeat(1024 * 1024);
    expect(versionFromOutput(kept, true)).toEqual({
      refused: `its first line was cut off after ${kept.length} characters`,
    });
    expect(versionFromOutput("1.2", true)).toEqual({ refused: "its first line was cut off after 3 characters" });
    expect(versionFromOutput(`7.7.7\n${kept}`, true)).toEqual({ version: "7.7.7" });
    expect(versionFromOutput("1.2", false)).toEqual({ version: "1.2" });
  });

  test("bytes that are not UTF-8 are refused", () => {
    const notUtf8 = new TextDecoder("utf-8", { fatal: false }).decode(
      new Uint8Array([0x76, 0x31, 0x2e, 0x32, 0xff, 0xfe, 0x0a]),
    );
    expect(versionFromOutput(notUtf8)).toEqual({ refused: 'its first line is not UTF-8 text: "v1.2\uFFFD\uFFFD"' });
  });
});

describe("stderrTail", () => {
  test("the last lines, joined, with escape sequences shown as text", () => {
    expect(stderrTail(`first\n${lines[1]}\n${lines[0]}\nlast\n`)).toBe(
      "\\x1b]0;pwned\\x072.0 | 1.0\\x1b[H\\x1b[2J\\x1b[3J | last",
    );
  });
});
