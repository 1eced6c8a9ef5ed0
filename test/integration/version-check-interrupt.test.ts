// Ctrl-C during the image attempt ends the run: exit 130, the check container removed, and
// the host attempt never starts (it used to start after the tool had exited, orphaned).
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, CLI_TEST_ENV, REPO_ROOT, tempDir, testClient, toolContainerNames } from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();

const checkContainers = () => toolContainerNames(client);
engineSuite(["version-check"], client);

/** The image attempt's --timeout: past the latest interrupt below, so the script still waits then. */
const TIMEOUT_SECONDS = 3;

describe("Ctrl-C during the image attempt", () => {
  for (const seconds of [0.05, 0.5, 2]) {
    test(`${seconds} s after the start: exit 130, no container left, the host attempt never runs`, async () => {
      const root = tempDir("aicage-interrupt-");
      const marker = join(root, "ran-on-host");
      mkdirSync(join(root, "agent"), { mode: 0o755 });
      // In the image it waits (and would fail on its timeout); on the host it leaves a mark.
      writeFileSync(
        join(root, "agent", "version.sh"),
        `if [ "$AICAGE_VERSION_CHECK_PLACE" = host ]; then touch '${marker}'; echo 1.0.0; exit 0; fi\nsleep 30\n`,
        { mode: 0o644 },
      );
      const proc = Bun.spawn(
        [
          BUN,
          `${REPO_ROOT}/src/cli.ts`,
          "version-check",
          "--network",
          "none",
          "--timeout",
          String(TIMEOUT_SECONDS),
          join(root, "agent"),
        ],
        {
          env: { ...process.env, ...CLI_TEST_ENV },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      await Bun.sleep(seconds * 1000);
      proc.kill("SIGINT");
      expect(await proc.exited).toBe(130);
      // Long enough for the image attempt's timeout and a host attempt to have run, had they.
      await Bun.sleep((TIMEOUT_SECONDS - seconds + 1.5) * 1000);
      expect(existsSync(marker)).toBe(false);
      expect(await checkContainers()).toEqual([]);
    }, 30_000);
  }
});
