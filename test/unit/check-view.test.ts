import { describe, expect, test } from "bun:test";
import { checkStatusLine } from "../../src/cli/check-view.ts";
import { colourEnabled } from "../../src/cli/style.ts";

describe("the live line of a version-check run", () => {
  test("done, running, failed, and the slowest still running once it has taken a second", () => {
    const running = new Map([
      ["claude", [1_000]],
      ["codex", [3_500]],
    ]);
    expect(
      checkStatusLine("checking 20 agents in the image", { done: 17, failed: 2, total: 20 }, running, 15_200),
    ).toBe("checking 20 agents in the image: 17 of 20 done, 2 running, 2 failed; slowest: claude 14s");
    expect(checkStatusLine("", { done: 0, failed: 0, total: 2 }, new Map([["a", [100]]]), 600)).toBe(
      "0 of 2 done, 1 running",
    );
    expect(checkStatusLine("x", { done: 3, failed: 0, total: 3 }, new Map(), 9_000)).toBe("x: 3 of 3 done, 0 running");
  });
});

describe("colour", () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  test("only on a terminal; never with NO_COLOR; always with FORCE_COLOR; not in CI or on TERM=dumb", () => {
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: "1" })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: "" })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: "1" })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(true);
    expect(colourEnabled(tty, { FORCE_COLOR: "0" })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: "0" })).toBe(false);
    expect(colourEnabled(tty, { CI: "true" })).toBe(false);
    expect(colourEnabled(tty, { TERM: "dumb" })).toBe(false);
  });
});
