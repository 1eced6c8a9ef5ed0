import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { networkFailureHint, networkFailureKind } from "../../src/host-registries/network-failure-hint.ts";
import { recorded } from "../helpers/recorded.ts";

// Real stderr of npm 9.2, pip 25.1 (Python 3.13), curl 8.14 and git 2.47 in the version-check
// image (Debian trixie), each failing against a loopback server in one way; how each was
// made is in test/fixtures/recorded/network-failures/index.json and README.md.
const DIR = "network-failures";
const index = JSON.parse(new TextDecoder().decode(recorded(`${DIR}/index.json`))) as Record<
  string,
  { timedOut: boolean; exitCode: number | null }
>;
const stderrOf = (name: string) => new TextDecoder().decode(recorded(`${DIR}/${name}.stderr`));

const EXPECTED: Record<string, string | null> = {
  "npm-tls-unknown-ca": "TLS verification failed: unknown CA",
  "pip-tls-unknown-ca": "TLS verification failed: unknown CA",
  "curl-tls-unknown-ca": "TLS verification failed: unknown CA",
  "git-tls-unknown-ca": "TLS verification failed: unknown CA",
  "pip-tls-unknown-ca-timeout": "timed out while retrying a registry: TLS verification failed: unknown CA",
  "npm-dns-nxdomain": "name resolution failed",
  "pip-dns-nxdomain": "name resolution failed",
  "curl-dns-nxdomain": "name resolution failed",
  "npm-dns-no-server": "name resolution failed",
  "pip-dns-no-server": "name resolution failed",
  "curl-dns-no-server": "name resolution failed",
  "npm-refused": "connection refused",
  "pip-refused": "connection refused",
  // curl 8.14 no longer says "refused": "Failed to connect … Could not connect to server"
  "curl-refused": "could not connect",
  "curl-stalled-max-time": "the connection timed out",
  "npm-auth-401": "the registry asked for credentials (HTTP 401)",
  "pip-auth-401": "the registry asked for credentials (HTTP 401)",
  "curl-auth-401": "the registry asked for credentials (HTTP 401)",
  // Killed by the time limit before saying anything: nothing to tell.
  "npm-tls-unknown-ca-timeout": null,
  "npm-stalled-timeout": null,
  "pip-stalled-timeout": null,
  "curl-stalled-timeout": null,
  // pip 25's truststore cannot check an https URL whose host is an IP address: a crash, not the network.
  "pip-https-ip-address-crash": null,
};

describe("networkFailureHint on recorded stderr", () => {
  test("every recording has an expectation and every expectation a recording", () => {
    const files = readdirSync(join(import.meta.dir, "..", "fixtures", "recorded", DIR)).filter((f) =>
      f.endsWith(".stderr"),
    );
    expect(files.map((f) => f.replace(/\.stderr$/, "")).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(Object.keys(index).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    test(name, () => {
      const stderr = stderrOf(name);
      expect(networkFailureHint(stderr, index[name]!.timedOut)).toBe(expected);
    });
  }

  test("the timed-out recordings really timed out, the others really failed", () => {
    expect(
      Object.entries(index)
        .filter(([, r]) => r.timedOut)
        .map(([n]) => n)
        .sort(),
    ).toEqual([
      "curl-stalled-timeout",
      "npm-stalled-timeout",
      "npm-tls-unknown-ca-timeout",
      "pip-stalled-timeout",
      "pip-tls-unknown-ca-timeout",
    ]);
    for (const [name, run] of Object.entries(index))
      if (!run.timedOut) expect([name, run.exitCode]).not.toEqual([name, 0]);
  });
});

describe("networkFailureHint", () => {
  test("a failure that is not the network gets no hint", () => {
    expect(networkFailureHint('jq: error (at <stdin>:1): Cannot index string with "tag_name"\n', false)).toBeNull();
    expect(networkFailureHint("", false)).toBeNull();
    expect(networkFailureHint("", true)).toBeNull();
  });

  test("the end of npm's 401 message alone is enough (a stderr tail)", () => {
    const stderr = stderrOf("npm-auth-401");
    expect(networkFailureHint(stderr.slice(stderr.indexOf("Incorrect or missing password")), false)).toBe(
      "the registry asked for credentials (HTTP 401)",
    );
  });

  test("a timeout without retries keeps the plain words", () => {
    expect(networkFailureHint(stderrOf("npm-dns-nxdomain"), true)).toBe("name resolution failed");
  });

  test("authentication wins over the network words a 401 page may also carry", () => {
    const both = `${stderrOf("npm-auth-401")}\n${stderrOf("curl-refused")}`;
    expect(networkFailureKind(both)).toBe("authentication");
  });
});
