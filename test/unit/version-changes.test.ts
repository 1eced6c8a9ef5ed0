// What changed since the last check (issue 20): the table's marker, the --json fields and how a
// run ends (--exit-code: 100 when a version changed, a failure's own code first); and what the
// image attempt gets of the host's GitHub tokens, and how they travel (root-only files, never
// the container's configuration).
import { describe, expect, test } from "bun:test";
import { extract } from "tar-stream";
import { endOfRun, githubTokenChoice } from "../../src/commands/version-check/flags.ts";
import { formatResults, resultsJson } from "../../src/commands/version-check/render.ts";
import type { CommandFailedError } from "../../src/cli/exit-codes.ts";
import type { CheckResult } from "../../src/version-check/check.ts";
import { VARIABLES_ROOT, checkFilesArchive } from "../../src/version-check/check-files.ts";
import { forwardedEnv } from "../../src/version-check/forwarded-env.ts";

function result(agent: string, over: Partial<CheckResult>): CheckResult {
  return {
    agent,
    script: `/agents/${agent}/version.sh`,
    ok: true,
    version: "1.0.0",
    source: "image",
    stale: false,
    checkedAt: "2026-11-25T08:30:00.000Z",
    durationMs: 40,
    attempts: [],
    previousVersion: "1.0.0",
    changed: false,
    ...over,
  };
}

const exitOf = (results: CheckResult[], options = { compare: false, exitCode: true }) => {
  try {
    endOfRun(results, options);
    return { code: 0, line: "" };
  } catch (error) {
    return { code: (error as CommandFailedError).exitCode, line: (error as Error).message };
  }
};

describe("what changed since the last check", () => {
  const moved = result("moved", { version: "1.1.0", changed: true });
  const same = result("same", {});
  const first = result("first", { previousVersion: null });

  test("the table marks a changed version with the one before; --json carries both fields", () => {
    const rows = formatResults([moved, same, first]).split("\n");
    expect(rows[1]).toMatch(/^moved +1\.1\.0 \(was 1\.0\.0\) +image /);
    expect(rows[2]).toMatch(/^same +1\.0\.0 +image /);
    const json = resultsJson([moved, first]).results;
    expect(json.map((r) => [r.previousVersion, r.changed])).toEqual([
      ["1.0.0", true],
      [null, false],
    ]);
  });

  test("--exit-code: 100 when one changed, 0 when none did; without it 0", () => {
    expect(exitOf([same, moved])).toEqual({ code: 100, line: "" });
    expect(exitOf([same, first])).toEqual({ code: 0, line: "" });
    expect(exitOf([moved], { compare: false, exitCode: false }).code).toBe(0);
  });

  test("a failure keeps its own code, which wins over 100, and names GitHub's rate limit", () => {
    const limited = result("goose", {
      ok: false,
      version: null,
      source: null,
      changed: false,
      attempts: [
        {
          source: "image",
          ok: false,
          version: null,
          exitCode: 22,
          timedOut: false,
          error:
            "exit code 22: curl: (22) The requested URL returned error: 403 (GitHub API rate limit reached: set GITHUB_TOKEN)",
          stderrTail: null,
          outputTruncated: false,
          durationMs: 5,
        },
      ],
    });
    expect(exitOf([moved, limited])).toEqual({
      code: 1,
      line: "1 of 2 version checks failed; GitHub API rate limit reached: set GITHUB_TOKEN",
    });
  });
});

describe("the host's GitHub tokens", () => {
  const host = { GITHUB_TOKEN: "ghp_host_value", GH_TOKEN: "gho_other", HTTPS_PROXY: "http://proxy:3128", OTHER: "x" };

  test("go along by default with the proxies; other variables only by --env", () => {
    const { variables, githubTokensWithheld } = forwardedEnv([], { env: host });
    expect(variables.map((v) => v.name).sort()).toEqual(["GH_TOKEN", "GITHUB_TOKEN", "HTTPS_PROXY"]);
    expect(githubTokensWithheld).toEqual([]);
    expect(forwardedEnv(["OTHER"], { env: host }).variables.map((v) => v.name)).toContain("OTHER");
  });

  test("switched off they stay home, named as withheld, unless --env names one", () => {
    const off = forwardedEnv([], { env: host, githubTokens: false });
    expect(off.variables.map((v) => v.name)).toEqual(["HTTPS_PROXY"]);
    expect(off.githubTokensWithheld).toEqual(["GITHUB_TOKEN", "GH_TOKEN"]);
    const named = forwardedEnv(["GH_TOKEN"], { env: host, githubTokens: false });
    expect(named.variables.map((v) => v.name)).toEqual(["HTTPS_PROXY", "GH_TOKEN"]);
    expect(named.githubTokensWithheld).toEqual(["GITHUB_TOKEN"]);
  });

  test("a proxy variable holding a user, password or query stays home unless asked for (issue 23)", () => {
    const proxies = {
      HTTPS_PROXY: "bob:pw-Secret@proxy:3128",
      http_proxy: "http://proxy:3128/?token=q-Secret",
      ALL_PROXY: "http://proxy:3128",
      NO_PROXY: "localhost,user@odd.example",
    };
    const kept = forwardedEnv([], { env: proxies });
    expect(kept.variables.map((v) => v.name).sort()).toEqual(["ALL_PROXY", "NO_PROXY"]);
    expect(kept.proxyCredentialsWithheld.sort()).toEqual(["HTTPS_PROXY", "http_proxy"]);
    const asked = forwardedEnv([], { env: proxies, proxyCredentials: true });
    expect(asked.variables.map((v) => v.name).sort()).toEqual(["ALL_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy"]);
    expect(asked.proxyCredentialsWithheld).toEqual([]);
    const named = forwardedEnv(["HTTPS_PROXY"], { env: proxies });
    expect(named.proxyCredentialsWithheld).toEqual(["http_proxy"]);
  });

  test("the flag wins over AICAGE_UTIL_GITHUB_TOKEN", () => {
    expect(githubTokenChoice({}, {})).toBe(true);
    expect(githubTokenChoice({}, { AICAGE_UTIL_GITHUB_TOKEN: "0" })).toBe(false);
    expect(githubTokenChoice({ "github-token": false }, {})).toBe(false);
    expect(githubTokenChoice({ "github-token": true }, { AICAGE_UTIL_GITHUB_TOKEN: "off" })).toBe(false);
  });

  test("they travel as files only root can read, in a folder only root can enter", async () => {
    const archive = checkFilesArchive([], [], [{ name: "GITHUB_TOKEN", value: "ghp_host_value" }]);
    const entries: Array<{ name: string; mode: number; uid: number; gid: number; body: string }> = [];
    const parser = extract();
    const parsed = (async () => {
      for await (const entry of parser) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of entry) chunks.push(chunk as Uint8Array);
        const { name, mode, uid, gid } = entry.header;
        entries.push({ name, mode: mode!, uid: uid!, gid: gid!, body: Buffer.concat(chunks).toString() });
      }
    })();
    for await (const chunk of archive) parser.write(chunk);
    parser.end(undefined);
    await parsed;
    const dir = VARIABLES_ROOT.slice(1);
    expect(entries.filter((e) => e.name.startsWith(dir)).map((e) => [e.name, e.mode, e.uid, e.gid, e.body])).toEqual([
      [`${dir}/`, 0o700, 0, 0, ""],
      [`${dir}/GITHUB_TOKEN`, 0o600, 0, 0, "ghp_host_value"],
    ]);
    expect(() => checkFilesArchive([], [], [{ name: "../x", value: "v" }])).toThrow("not a name");
  });
});
