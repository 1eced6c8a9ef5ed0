// GitHub's rate limit named with its fix (issue 20): the signs in a failed script's output, and
// the error and table cause that attemptFromRun and the table make of them. The stderr lines are
// what curl 7.88 and 8.x print against a loopback server answering as GitHub's API does when
// limited (403, `x-ratelimit-remaining: 0`, its JSON message).
import { describe, expect, test } from "bun:test";
import { shortCause } from "../../src/commands/version-check/render.ts";
import { type ScriptRun, attemptFromRun } from "../../src/version-check/attempt.ts";
import { rateLimitHint, showsRateLimit } from "../../src/version-check/rate-limit.ts";

const CURL_403 = "curl: (22) The requested URL returned error: 403\n";
const CURL_404 = "curl: (22) The requested URL returned error: 404\n";
const GOOSE_STDERR = `Fetching Goose release from https://api.github.com/repos/aaif-goose/goose/releases/latest\n${CURL_403}`;
const BODY =
  '{"message":"API rate limit exceeded for 203.0.113.7. (But here\'s the good news: Authenticated requests get a higher rate limit.)","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}';
const HEADERS = "HTTP/2 403\r\ncontent-type: application/json\r\nx-ratelimit-limit: 60\r\nx-ratelimit-remaining: 0\r\n";

const run = (over: Partial<ScriptRun>): ScriptRun => ({
  exitCode: 22,
  timedOut: false,
  stdout: "",
  stderr: "",
  stdoutTruncated: false,
  truncated: false,
  durationMs: 12,
  ...over,
});

describe("the signs of GitHub's rate limit", () => {
  test("GitHub's message or its exhausted header, whatever the script names", () => {
    expect(showsRateLimit(BODY, false)).toBe(true);
    expect(showsRateLimit("gh: API rate limit exceeded for user ID 1. (HTTP 403)", false)).toBe(true);
    expect(showsRateLimit("You have exceeded a secondary rate limit", false)).toBe(true);
    expect(showsRateLimit(HEADERS, false)).toBe(true);
    expect(showsRateLimit("x-ratelimit-remaining: 59\n", false)).toBe(false);
  });

  test("HTTP 403 or 429 counts when the script or its output names api.github.com", () => {
    expect(showsRateLimit(CURL_403, true)).toBe(true);
    expect(showsRateLimit(GOOSE_STDERR, false)).toBe(true);
    expect(showsRateLimit("curl: (22) The requested URL returned error: 429", true)).toBe(true);
    expect(showsRateLimit("urllib.error.HTTPError: HTTP Error 403: rate limit exceeded", true)).toBe(true);
    expect(showsRateLimit("ERROR 429: Too Many Requests.", true)).toBe(true);
    // Not GitHub's API, or not a refusal.
    expect(showsRateLimit(CURL_403, false)).toBe(false);
    expect(showsRateLimit(CURL_404, true)).toBe(false);
    expect(showsRateLimit("curl: (6) Could not resolve host: api.github.com", true)).toBe(false);
  });

  test("the fix fits the token the attempt had", () => {
    expect(rateLimitHint("none")).toBe("GitHub API rate limit reached: set GITHUB_TOKEN");
    expect(rateLimitHint("withheld")).toContain("--no-github-token");
    expect(rateLimitHint("sent")).toContain("even with a token");
  });
});

describe("a failed attempt names the rate limit and its fix", () => {
  test("a goose-style script without a token: the error says so, the table's cause leads with it", () => {
    const attempt = attemptFromRun("image", run({ stderr: GOOSE_STDERR }), 30_000, { namesApi: true, token: "none" });
    expect(attempt.error).toBe(
      "exit code 22: Fetching Goose release from https://api.github.com/repos/aaif-goose/goose/releases/latest | " +
        "curl: (22) The requested URL returned error: 403 (GitHub API rate limit reached: set GITHUB_TOKEN)",
    );
    expect(shortCause(attempt)).toBe("exit 22: GitHub API rate limit reached: set GITHUB_TOKEN");
  });

  test("on the host too, and with a token given the fix is another", () => {
    const attempt = attemptFromRun("host", run({ stderr: CURL_403 }), 30_000, { namesApi: true, token: "sent" });
    expect(attempt.error).toEndWith("(GitHub API rate limit reached even with a token: wait for its reset)");
  });

  test("a 403 of another server, a success, or a script that does not name GitHub: no such words", () => {
    const other = attemptFromRun("host", run({ stderr: CURL_403 }), 30_000, { namesApi: false, token: "none" });
    expect(other.error).toBe("exit code 22: curl: (22) The requested URL returned error: 403");
    const good = attemptFromRun("image", run({ exitCode: 0, stdout: "1.2.3\n", stderr: BODY }), 30_000, {
      namesApi: true,
      token: "none",
    });
    expect(good).toMatchObject({ ok: true, error: null, version: "1.2.3" });
  });
});
