import { describe, expect, test } from "bun:test";
import { createRedactor, redactEvent, secretLookingName, secretValues } from "../../src/local-build/secret-values.ts";

describe("values that may be secrets", () => {
  test("names are judged by their words, as BuildKit's SecretsUsedInArgOrEnv does", () => {
    for (const name of [
      "NPM_TOKEN",
      "githubToken",
      "DB_PASSWORD",
      "API_KEY",
      "apikey",
      "AWS_SECRET_ACCESS_KEY",
      "GH_PAT",
      "auth",
    ]) {
      expect({ name, secret: secretLookingName(name) }).toEqual({ name, secret: true });
    }
    for (const name of ["FROM_IMAGE", "PUBLIC_KEY", "TOKENIZER_VERSION", "KEYBOARD", "AGENT_VERSION", "PATH"]) {
      expect({ name, secret: secretLookingName(name) }).toEqual({ name, secret: false });
    }
  });

  test("the values hidden: secret-looking build arguments and every proxy variable, none shorter than 4 characters", () => {
    expect(
      secretValues(
        { NPM_TOKEN: "npm_abc", FROM_IMAGE: "debian:trixie", SHORT_KEY: "ab" },
        { HTTP_PROXY: "http://u:p@proxy:3128" },
      ).sort(),
    ).toEqual(["http://u:p@proxy:3128", "npm_abc"]);
  });

  test("each value is hidden as written and as a quoted string shows it; the longest first", () => {
    const redact = createRedactor(["s3cr3t", 'a"b\\c', "s3cr3t-and-more"]);
    expect(redact("RUN test -n s3cr3t && use s3cr3t-and-more")).toBe("RUN test -n *** && use ***");
    // BuildKit's error quotes the command as Go's %q does: a"b\c inside it reads a\"b\\c.
    expect(redact('process "/bin/sh -c echo \\"a\\"b\\\\c\\"" failed')).toBe(
      'process "/bin/sh -c echo \\"***\\"" failed',
    );
    expect(redact("nothing here")).toBe("nothing here");
    expect(createRedactor([])("s3cr3t")).toBe("s3cr3t");
  });

  test("every text of an event", () => {
    const redact = createRedactor(["s3cr3t"]);
    const step = { index: 2, name: "[2/2] RUN use s3cr3t" };
    expect(redactEvent({ kind: "step-started", ...step }, redact)).toEqual({
      kind: "step-started",
      index: 2,
      name: "[2/2] RUN use ***",
    });
    expect(redactEvent({ kind: "log", ...step, stream: 1, line: "got s3cr3t" }, redact)).toMatchObject({
      name: "[2/2] RUN use ***",
      line: "got ***",
    });
    expect(redactEvent({ kind: "step-failed", ...step, error: "s3cr3t failed" }, redact)).toMatchObject({
      error: "*** failed",
    });
    expect(redactEvent({ kind: "warning", ...step, message: "s3cr3t" }, redact)).toMatchObject({ message: "***" });
    expect(redactEvent({ kind: "message", line: "ERROR: s3cr3t" }, redact)).toEqual({
      kind: "message",
      line: "ERROR: ***",
    });
  });
});

describe("a value of several lines (issue 23: a key read with $(cat key))", () => {
  const key =
    '-----BEGIN TEST KEY-----\r\nMIIEvQIBADANBgkq"hkiG9w0\n  line-three-of-it  \nab\n-----END TEST KEY-----\n';
  const redact = createRedactor(secretValues({ DEPLOY_KEY: key }, {}));

  test("each line is hidden wherever it shows alone: a step name cut at a line break, an echoed line, a quoted error", () => {
    expect(redact('#6 [2/2] RUN echo "-----BEGIN TEST KEY-----')).toBe('#6 [2/2] RUN echo "***');
    expect(redact('MIIEvQIBADANBgkq"hkiG9w0')).toBe("***");
    expect(redact("#6 0.067   line-three-of-it")).toBe("#6 0.067   ***");
    expect(redact('-----END TEST KEY-----" && exit 7')).toBe("*** && exit 7".replace("***", '***"'));
    expect(redact('process "/bin/sh -c echo \\"MIIEvQIBADANBgkq\\"hkiG9w0\\"" failed')).toBe(
      'process "/bin/sh -c echo \\"***\\"" failed',
    );
  });

  test("the value whole is still hidden whole; lines shorter than 4 characters are not hidden", () => {
    expect(redact(`got ${key} end`)).toBe("got *** end");
    expect(redact("ab cd")).toBe("ab cd");
  });
});
