// The project's own shell scripts (CI, the test command, the engines, the benchmarks' wrappers,
// the cold-machine reset) as shellcheck reads them: a quoting slip in a script that installs
// packages or starts engines shows on a fresh machine only, so it is caught here, on every run.
// install.sh has its own, stricter check (POSIX sh, every severity) in install.test.ts.
import { expect, test } from "bun:test";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

/** Every bash script of scripts/ and .ci/ (files whose first line names bash). */
function bashScripts(): string[] {
  const found: string[] = [];
  for (const dir of ["scripts", "scripts/engines", ".ci"]) {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = join(ROOT, dir, name);
      if (!statSync(path).isFile() || name.endsWith(".ts")) continue;
      const head = readFileSync(path, "utf8").slice(0, 300);
      if (/^#!.*\bbash\b/.test(head) || /shellcheck shell=bash/.test(head)) found.push(path);
    }
  }
  return found.sort();
}

test("every bash script of scripts/ and .ci/ passes shellcheck (warnings and errors)", () => {
  const scripts = bashScripts();
  expect(scripts.length).toBeGreaterThan(10);
  expect(scripts).toContain(join(ROOT, ".ci/run"));
  if (!Bun.which("shellcheck"))
    throw new Error("shellcheck is not installed: scripts/test-engine.sh installs it (npm test runs it first)");
  const run = Bun.spawnSync(["shellcheck", "-x", "-P", "SCRIPTDIR", "--severity=warning", ...scripts], { cwd: ROOT });
  expect(run.stdout.toString() + run.stderr.toString()).toBe("");
  expect(run.exitCode).toBe(0);
}, 60_000);
