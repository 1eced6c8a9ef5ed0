// One agent keeps only its own answer at stake (issue 23): a script that stops its own timer,
// a fork bomb, a memory hog, a disk filler and an output flood run in one container beside
// honest agents, and the honest agents answer; what arrived is kept when the container ends
// early, and never run again on the host; a fallback to the host is always said.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir, testClient, watchCheckContainers } from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();

engineSuite(["version-check"], client);

function agent(root: string, name: string, script: string): string {
  const dir = join(root, name);
  Bun.spawnSync(["mkdir", "-p", "-m", "0755", dir]);
  writeFileSync(join(dir, "version.sh"), script, { mode: 0o644 });
  return dir;
}

// An honest agent does what real version checks do while its neighbours misbehave: it writes
// to its HOME and TMPDIR, starts node and python, and answers after the others have begun.
const honest = (version: string) => `
sleep 2
echo cache >"$HOME/.cached"
tmp=$(mktemp)
node -e 'process.stdout.write("node ok\\n")' >"$tmp"
python3 -c 'print("python ok")' >>"$tmp"
[ "$(cat "$tmp" "$HOME/.cached")" = "$(printf 'node ok\\npython ok\\ncache')" ] || exit 9
echo ${version}
`;

const HOSTILE = {
  // Stops every process of its own it can reach (the old runner's timeout(1) among them), then
  // keeps doing so: only a deadline it cannot signal ends it.
  stopper: `
kill -STOP "$PPID" 2>/dev/null
while :; do kill -STOP -1 2>/dev/null; sleep 0.2; done
`,
  // As many processes as the kernel lets it have, for as long as it may run.
  forkbomb: `
bomb() { bomb | bomb & }
bomb
sleep 60
`,
  // Sixteen processes that each take 450 MiB and hold it: more than the whole container has.
  memoryhog: `
for i in $(seq 16); do python3 -c 'import time; x = b"\\1" * (450 << 20); time.sleep(60)' & done
wait
echo 6.6.6
`,
  // Writes 1 GiB into each place it may write to, and counts what it can write outside them.
  diskfiller: `
w() { head -c 1G /dev/zero >"$1" 2>/dev/null; stat -c %s "$1" 2>/dev/null || echo 0; }
# On the root file system: not a mount point of a tmpfs (find lists those, on their own device).
root=$(stat -c %d /)
rootfs=$(find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -writable -printf '%D %p\\n' 2>/dev/null | grep -c "^$root ")
echo "home=$(w "$HOME/fill") tmpdir=$(w "$TMPDIR/fill") tmp=$(w /tmp/fill) vartmp=$(w /var/tmp/fill) shm=$(w /dev/shm/fill) rootfs=$rootfs"
`,
  // Writes to both streams without end.
  flood: `
yes "flood on stderr" >&2 &
yes "flood on stdout"
wait
`,
};

const MIB = 1024 * 1024;

describe("one agent keeps only its own answer at stake", () => {
  test("a timer stopper, a fork bomb, a memory hog, a disk filler and an output flood beside honest agents, with --only image: the honest agents answer", async () => {
    const root = tempDir("aicage-containment-");
    const honestDirs = [1, 2, 3].map((n) => agent(root, `honest${n}`, honest(`${n}.0.0`)));
    const hostileDirs = Object.entries(HOSTILE).map(([name, script]) => agent(root, name, script));
    const timeout = 15;
    const started = performance.now();
    const run = await runCli([
      "version-check",
      "--json",
      "--network",
      "none",
      "--only",
      "image",
      "--timeout",
      String(timeout),
      "--jobs",
      String(honestDirs.length + hostileDirs.length),
      ...honestDirs,
      ...hostileDirs,
    ]);
    const seconds = (performance.now() - started) / 1000;
    const results = JSON.parse(run.stdout).results as any[];
    const by = Object.fromEntries(results.map((r) => [r.agent, r]));

    for (const n of [1, 2, 3])
      expect(by[`honest${n}`]).toMatchObject({ ok: true, version: `${n}.0.0`, source: "image" });
    // The stopper's deadline held: it timed out on its own, and so did nothing else.
    expect(by.stopper.attempts[0]).toMatchObject({ timedOut: true });
    expect(seconds).toBeLessThan(timeout + 25);
    // The disk filler wrote no more than its own tmpfs mounts and the shared ones hold, and
    // found no place on the root file system it may write to.
    const filled = Object.fromEntries(
      String(by.diskfiller.version)
        .split(" ")
        .map((pair) => pair.split("=").map((v, i) => (i ? Number(v) : v))),
    );
    expect(filled.home).toBeLessThanOrEqual(128 * MIB);
    expect(filled.tmpdir).toBeLessThanOrEqual(128 * MIB);
    expect(filled.tmp).toBeLessThanOrEqual(64 * MIB * 8);
    expect(filled.vartmp).toBeLessThanOrEqual(16 * MIB);
    expect(filled.shm).toBeLessThanOrEqual(64 * MIB);
    expect(filled.rootfs).toBe(0);
    // The flood ended when its own results folder was full, long before its deadline.
    expect(by.flood.attempts[0]).toMatchObject({ timedOut: false, outputTruncated: true });
    expect(by.flood.attempts[0].durationMs).toBeLessThan(timeout * 1000);
    expect(run.exitCode).toBe(1);
  }, 120_000);

  test("a container that ends early keeps the results that arrived: they are not run again on the host, the others are, and the fallback is said", async () => {
    const root = tempDir("aicage-kept-");
    const fast = agent(root, "fast", "echo 1.0.0\n");
    // In the image it waits for the container to be killed; on the host it answers at once.
    const slow = agent(root, "slow", '[ "$AICAGE_VERSION_CHECK_PLACE" = image ] && sleep 60\necho 2.0.0\n');
    const watch = await watchCheckContainers(client);
    const pending = runCli(["version-check", "--json", "--network", "none", "--jobs", "2", fast, slow]);
    const [id] = await watch.running();
    expect(id).toBeDefined();
    await Bun.sleep(3_000); // fast has answered by now
    await client.request("POST", `/containers/${id}/kill`);
    const run = await pending;
    const by = Object.fromEntries((JSON.parse(run.stdout).results as any[]).map((r) => [r.agent, r]));
    expect(by.fast).toMatchObject({ ok: true, version: "1.0.0", source: "image" });
    expect(by.fast.attempts).toHaveLength(1);
    expect(by.slow).toMatchObject({ ok: true, version: "2.0.0", source: "host" });
    expect(by.slow.attempts.map((a: any) => a.source)).toEqual(["image", "host"]);
    expect(by.slow.attempts[0].error).toStartWith("the version-check container ended without this agent's result");
    // One warning, naming the agent and why.
    const warnings = run.stderr.split("\n").filter((line) => line.includes("[warn]"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("slow: the version-check container ended without this agent's result");
    expect(warnings[0]).toEndWith("; it is checked on the host");
    expect(run.exitCode).toBe(0);
  }, 90_000);

  test("an image attempt that fails for a reason of its own (a network that does not exist) is said: a warning and the ERROR column", async () => {
    const root = tempDir("aicage-said-");
    const dir = agent(root, "said", "echo 3.1.4\n");
    const run = await runCli(["version-check", "--network", "no-such-net-aicage", dir]);
    expect(run.exitCode).toBe(0);
    const row = run.stdout.split("\n").find((line) => line.startsWith("said "));
    expect(row).toMatch(/^said +3\.1\.4 +host +\S+ +image: \S/);
    expect(row).toContain("no-such-net-aicage");
    const warnings = run.stderr.split("\n").filter((line) => line.includes("[warn]"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("no-such-net-aicage");
    expect(warnings[0]).toEndWith("version checks run on the host instead");
  }, 60_000);
});
