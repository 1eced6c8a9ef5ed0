// The check runner (src/version-check/runner.sh) is bash the check container runs as root:
// shellcheck reads it as it reads scripts/install.sh. It needs no engine, but shellcheck is
// there only once the test set-up has installed it (scripts/test-engine.sh): a machine without
// it fails here rather than skipping the lint. (That the runner reads the values
// run-in-image.ts gives: test/unit/check-runner.test.ts.)
import { describe, expect, test } from "bun:test";
import path from "node:path";

const RUNNER = path.resolve(import.meta.dir, "..", "..", "src", "version-check", "runner.sh");

describe("runner.sh", () => {
  test("is bash that shellcheck finds nothing wrong with", () => {
    if (!Bun.which("shellcheck")) {
      throw new Error(
        "shellcheck is not installed: scripts/test-engine.sh installs it (apt-get install -y shellcheck)",
      );
    }
    const run = Bun.spawnSync(["shellcheck", "--shell=bash", "--severity=style", RUNNER], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(`${run.stdout.toString()}${run.stderr.toString()}`).toBe("");
    expect(run.exitCode).toBe(0);
  });
});
