// Log lines ([error], [warn], [info], [success]): one text wherever they go, the tag coloured
// only by the style cli/style.ts chose, the message exactly as given (controls as escapes).
import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import { logReporter } from "../../src/cli/output.ts";
import { styleFor } from "../../src/cli/style.ts";

/** A logger like the CLI's, writing into a string, styled as for `stream` under `env`. */
function capture(stream: { isTTY?: boolean }, env: Record<string, string> = {}) {
  let written = "";
  const sink = {
    write: (text: string) => {
      written += text;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const logger = createConsola({
    stdout: sink,
    stderr: sink,
    level: 3,
    reporters: [logReporter(styleFor(stream, env))],
  });
  return { logger, written: () => written };
}

describe("log lines", () => {
  test("plain: '[type] message', as every test and script reads them", () => {
    const { logger, written } = capture({ isTTY: false });
    logger.error("1 of 4 version checks failed");
    logger.warn("no agents found");
    logger.info("image attempt: create 5 ms");
    logger.success("built sha256:abc");
    expect(written()).toBe(
      "[error] 1 of 4 version checks failed\n[warn] no agents found\n[info] image attempt: create 5 ms\n[success] built sha256:abc\n",
    );
  });

  test("control characters in a message are shown as escapes; backticks and underscores stay", () => {
    const { logger, written } = capture({ isTTY: true }, { TERM: "xterm" });
    logger.warn("file `a` _draft_ \x1b]0;title\x07 and\nmore");
    expect(written()).toBe("\x1b[33m[warn]\x1b[39m file `a` _draft_ \\x1b]0;title\\x07 and\\nmore\n");
  });

  test("coloured: only the tag, in the colour of its kind", () => {
    const { logger, written } = capture({ isTTY: false }, { FORCE_COLOR: "1" });
    logger.error("e");
    logger.warn("w");
    logger.info("i");
    logger.success("s");
    expect(written()).toBe(
      "\x1b[31m[error]\x1b[39m e\n\x1b[33m[warn]\x1b[39m w\n\x1b[36m[info]\x1b[39m i\n\x1b[32m[success]\x1b[39m s\n",
    );
  });
});
