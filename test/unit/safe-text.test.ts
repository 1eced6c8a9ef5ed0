import { describe, expect, test } from "bun:test";
import { escapeControls, hasControls, quoted, withoutEscapes } from "../../src/lib/safe-text.ts";

describe("text from outside, made harmless", () => {
  test("escapeControls: every control character shown, printable text of any script kept", () => {
    expect(escapeControls("a\nb\r\u001b[2J\u0007\u007f\u009b31m")).toBe("a\\nb\\r\\x1b[2J\\x07\\x7f\\x9b31m");
    expect(escapeControls("tab\tstays, ünïcødé ✓ 版本 🙂")).toBe("tab\tstays, ünïcødé ✓ 版本 🙂");
  });

  test("escapeControls: a byte of a non-UTF-8 name (U+DC80-U+DCFF) is shown as that byte", () => {
    expect(escapeControls("caf\udce9.txt")).toBe("caf\\xe9.txt");
    expect(escapeControls("lone \ud800 high")).toBe("lone \\u{d800} high");
  });

  test("escapeControls is idempotent", () => {
    const once = escapeControls("x\u001b]0;title\u0007\n");
    expect(escapeControls(once)).toBe(once);
  });

  test("withoutEscapes: colours, cursor moves and titles dropped whole, other controls shown", () => {
    expect(withoutEscapes("\u001b[1;31merror\u001b[0m: bad")).toBe("error: bad");
    expect(withoutEscapes("\u001b]0;pwned\u0007after")).toBe("after");
    expect(withoutEscapes("\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\")).toBe("link");
    expect(withoutEscapes("\u009b2Jclear")).toBe("clear");
    expect(withoutEscapes("keep\rthis\u0000")).toBe("keep\\rthis\\x00");
  });

  test("quoted: in quotes, escaped, cut when long", () => {
    expect(quoted("tcp://a\nb")).toBe("'tcp://a\\nb'");
    expect(quoted("x".repeat(300), 10)).toBe(`'${"x".repeat(9)}…'`);
  });

  test("hasControls", () => {
    expect(hasControls("plain text")).toBe(false);
    expect(hasControls("with\ttab")).toBe(true);
    expect(hasControls("c1\u0085")).toBe(true);
  });
});
