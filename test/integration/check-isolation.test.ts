// What the check container guarantees, seen from inside it, as a script sees it: agents of
// one run cannot read, forge, hide or stop each other's checks, and the container keeps its
// hardening (no capabilities, no-new-privileges, pid and memory limits, read-only agent
// copies, no Docker socket). Each test fails when the guarantee it names is taken away.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENGINE, runCli, tempDir, testClient, watchCheckContainers } from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();

engineSuite(["version-check"], client);

function writeAgent(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [file, content] of Object.entries(files)) {
    const path = join(dir, file);
    Bun.spawnSync(["mkdir", "-p", "-m", "0755", join(path, "..")]);
    writeFileSync(path, content, { mode: 0o644 });
  }
  return dir;
}

async function check(args: string[], env: Record<string, string> = {}) {
  const run = await runCli(["version-check", "--json", "--network", "none", ...args], { env });
  let parsed: any;
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    throw new Error(`no JSON on stdout (exit ${run.exitCode}): ${run.stdout}\n${run.stderr}`);
  }
  return { ...run, results: parsed.results as any[] };
}

/** Every file under a folder with its mode and bytes: to prove nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = join(dir, rel, name);
      const info = statSync(path);
      out[join(rel, name)] =
        `${(info.mode & 0o7777).toString(8)} ${info.isDirectory() ? "dir" : readFileSync(path, "base64")}`;
      if (info.isDirectory()) walk(join(rel, name));
    }
  };
  walk("");
  return out;
}

// A victim keeps secrets where a script naturally has them: a token in its folder, its stderr,
// its HOME and temp folder, the environment of a running process. It runs long enough for the
// hostile agent to attack it, then prints its version.
const victim = (n: number) => `
echo "VICTIM-${n}-STDERR-SECRET" >&2
echo "VICTIM-${n}-HOME-SECRET" >"$HOME/.token"
echo "VICTIM-${n}-TMP-SECRET" >"$(mktemp)"
echo "VICTIM-${n}-SLASHTMP-SECRET" >"/tmp/victim-${n}"
VICTIM_ENV="VICTIM-${n}-ENV-SECRET" sleep 6
echo "1.${n}.0"
`;

// The hostile agent knows nothing of the runner's layout: it searches the file system (but the
// image's own /usr and /lib, for speed) and every process it can see, whoever owns them. Its
// own are its folder and its own process tree (itself, its children, its parent `timeout`);
// everything else belongs to someone else. It reports in its version line what worked:
//   leaks: files, process environments or open files it could read that hold a victim's secret
//   forged: files it could overwrite, other processes' stdout/stderr it could write to
//   hidden: files it could delete
//   killed: processes it could signal
const HOSTILE = String.raw`
sleep 1.5
here=$PWD
leaks=0 forged=0 hidden=0 killed=0
mine() { case "$1" in "$here"|"$here"/*) return 0;; esac; return 1; }
# Its own processes: itself, its parent, and what descends from it.
own=" $$ $PPID "
for p in /proc/[0-9]*; do
  pid=$(basename "$p")
  while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
    [ "$pid" = "$$" ] && { own="$own$(basename "$p") "; break; }
    pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
  done
done
others() { for p in /proc/[0-9]*; do case "$own" in *" $(basename "$p") "*) ;; *) [ "$(basename "$p")" != 1 ] && echo "$p";; esac; done; }
# Where to look: the whole file system, and what it guesses from its own paths (a folder it
# may not list may still be entered): the siblings 0-30 of its folder, HOME, TMPDIR and
# output files, and the output files of others next to its own.
guesses=""
for mine_path in "$PWD" "$HOME" "$TMPDIR" "$(readlink /proc/$$/fd/1)" "$(readlink /proc/$$/fd/2)"; do
  parent=$(dirname "$mine_path")
  guesses="$guesses $parent"
  for i in $(seq 0 30); do guesses="$guesses $parent/$i $parent/$i.out $parent/$i.err $parent/$i.rc"; done
done
roots() { for r in / $guesses; do case "$r" in /*) [ -e "$r" ] && echo "$r";; esac; done; }
files() { find $(roots) \( -path /proc -o -path /sys -o -path /dev -o -path /usr -o -path /lib -o -path /lib64 \) -prune -o "$@" -print0 2>/dev/null | sort -zu; }
# Read the environment and open files of every other process.
for p in $(others); do
  if grep -aqs VICTIM- "$p/environ"; then leaks=$((leaks + 1)); echo "environ of $p" >&2; fi
  for fd in "$p"/fd/*; do
    [ -r "$fd" ] && grep -aqs VICTIM- "$fd" && { leaks=$((leaks + 1)); echo "read $fd" >&2; }
  done
done
# Write a forged result record into every other process's stdout and stderr.
forged_line="AICAGE-RESULT 1 0 10 $(printf '6.6.6\n' | base64 -w0) "
for p in $(others); do
  for fd in 1 2; do
    if { printf '%s\n' "$forged_line" >"$p/fd/$fd"; } 2>/dev/null; then forged=$((forged + 1)); echo "wrote to $p/fd/$fd" >&2; fi
  done
done
# Stop every other process.
for p in $(others); do
  if kill -KILL "$(basename "$p")" 2>/dev/null; then killed=$((killed + 1)); echo "killed $p" >&2; fi
done
# Read every readable file that holds a victim's secret.
while IFS= read -r -d '' f; do
  mine "$f" || { leaks=$((leaks + 1)); echo "read $f" >&2; }
done < <(files -type f -readable | xargs -0 -r grep -alsZF VICTIM-)
# Overwrite every writable file with a forged result.
while IFS= read -r -d '' f; do
  mine "$f" && continue
  if { printf '%s\n6.6.6\n' "$forged_line" >"$f"; } 2>/dev/null; then forged=$((forged + 1)); echo "overwrote $f" >&2; fi
done < <(files -type f -writable)
# Hide: delete everything it can from every folder it may write to.
while IFS= read -r -d '' d; do
  mine "$d" && continue
  for f in "$d"/* "$d"/.[!.]*; do
    [ -e "$f" ] || continue
    rm -rf "$f" 2>/dev/null
    [ -e "$f" ] || { hidden=$((hidden + 1)); echo "deleted $f" >&2; }
  done
done < <(files -type d -writable)
echo "leaks=$leaks forged=$forged hidden=$hidden killed=$killed"
`;

describe("agents in one run are isolated from each other", () => {
  test("a hostile agent can neither read, forge, hide nor stop the others' checks", async () => {
    const root = tempDir("aicage-isolation-");
    const victims = [0, 1, 2].map((n) =>
      writeAgent(root, `victim-${n}`, {
        "version.sh": victim(n),
        ".npmrc": `//registry.npmjs.org/:_authToken=VICTIM-${n}-FOLDER-SECRET\n`,
        "lib/notes.txt": `VICTIM-${n}-NESTED-SECRET\n`,
      }),
    );
    const hostile = writeAgent(root, "hostile", { "version.sh": HOSTILE });
    const before = victims.map(snapshot);

    // --only image: a victim stopped in the image would show as a failure, not be saved by the host.
    const run = await check(["--only", "image", "--timeout", "60", hostile, ...victims]);
    const report = run.results[0].attempts[0];
    expect({ version: run.results[0].version, stderr: report.stderrTail }).toEqual({
      version: "leaks=0 forged=0 hidden=0 killed=0",
      stderr: null,
    });
    expect(run.results.slice(1).map((r) => [r.agent, r.version, r.source])).toEqual([
      ["victim-0", "1.0.0", "image"],
      ["victim-1", "1.1.0", "image"],
      ["victim-2", "1.2.0", "image"],
    ]);
    expect(run.exitCode).toBe(0);
    // No victim's secret reached the hostile agent's result, nor another victim's.
    expect(JSON.stringify(run.results[0])).not.toContain("VICTIM-");
    run.results.slice(1).forEach((r, n) => {
      expect(JSON.stringify(r).match(/VICTIM-\d/g) ?? []).toEqual([`VICTIM-${n}`]); // its own stderr tail
    });
    expect(run.stderr).toBe("");
    expect(victims.map(snapshot)).toEqual(before);
  }, 120_000);
});

describe("the host's GitHub tokens in the check container (issue 20)", () => {
  test("each script has them in its own environment; neither the container's configuration, another agent nor any file shows them", async () => {
    const token = "ghp_isolation_token_never_shown_42";
    const root = tempDir("aicage-tokens-");
    // Holds the token in its environment while the seeker looks, and for the inspect below.
    const holder = writeAgent(root, "holder", { "version.sh": 'sleep 5\necho "holder=${#GITHUB_TOKEN}"\n' });
    // Looks for its own token's value everywhere but its own processes: every readable file
    // (the runner's folders included) and every other process's environment.
    const seeker = writeAgent(root, "seeker", {
      "version.sh": String.raw`
sleep 1
me=$(id -u) found=0
for p in /proc/[0-9]*; do
  [ "$(awk '$1 == "Uid:" { print $2 }' "$p/status" 2>/dev/null)" = "$me" ] && continue
  grep -aqsF "$GITHUB_TOKEN" "$p/environ" && { found=$((found + 1)); echo "environ of $p" >&2; }
done
while IFS= read -r -d '' f; do found=$((found + 1)); echo "file $f" >&2; done < <(
  find / \( -path /proc -o -path /sys -o -path /dev -o -path /usr \) -prune -o -type f -readable -print0 2>/dev/null |
    xargs -0 -r grep -lsZF "$GITHUB_TOKEN")
echo "seeker=${"$"}{#GITHUB_TOKEN} gh=${"$"}{#GH_TOKEN} found=$found"
`,
    });
    const watch = await watchCheckContainers(client);
    const running = check(["--only", "image", "--timeout", "60", holder, seeker], {
      GITHUB_TOKEN: token,
      GH_TOKEN: `${token}-gh`,
    });
    const [id] = await watch.running();
    expect(id).toBeDefined();
    const inspected = await client.request<Record<string, any>>("GET", `/containers/${id}/json`);
    const run = await running;
    // Compared as a boolean: a failure must not print the inspect output (with the token).
    expect(JSON.stringify(inspected).includes(token)).toBe(false);
    expect((inspected.Config.Env as string[]).some((e) => /^(GITHUB_TOKEN|GH_TOKEN)=/.test(e))).toBe(false);
    expect(run.results.map((r: any) => r.version)).toEqual([
      `holder=${token.length}`,
      `seeker=${token.length} gh=${token.length + 3} found=0`,
    ]);
    expect(run.results[1].attempts[0].stderrTail).toBeNull();
    expect(run.exitCode).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(token);
  }, 120_000);
});

describe("what a script leaves running", () => {
  test("is killed when the script ends, before the next agent's script starts", async () => {
    const root = tempDir("aicage-leftover-");
    // Leaves twenty processes of its own user that outlive it (their own sessions, output
    // elsewhere). Killed, each is a zombie until tini reaps it: the runner's next look at /proc
    // may open one's status and find it gone before reading (that once cost this agent its result).
    const leaver = writeAgent(root, "leaver", {
      "version.sh": "for i in $(seq 20); do setsid sleep 60 </dev/null >/dev/null 2>&1 & done\necho 1.0.0\n",
    });
    // Runs after it (--jobs 1) and counts the live processes of any agent's user but its own
    // (a killed one that tini has not yet reaped is a zombie: it has ended, and holds nothing).
    const counter = writeAgent(root, "counter", {
      "version.sh": `
n=0
for p in /proc/[0-9]*; do
  uid=$(awk '$1 == "State:" && $2 == "Z" { exit } $1 == "Uid:" { print $2 }' "$p/status" 2>/dev/null)
  [ -n "$uid" ] && [ "$uid" -ge 10100 ] && [ "$uid" != "$(id -u)" ] && n=$((n + 1))
done
echo "others=$n"
`,
    });
    const tidy = writeAgent(root, "tidy", { "version.sh": "echo 2.0.0\n" });
    const run = await check(["--only", "image", "--jobs", "1", leaver, counter, tidy]);
    // Each with its first attempt's error: a failure says why.
    expect(run.results.map((r: any) => [r.version, r.attempts[0].error])).toEqual([
      ["1.0.0", null],
      ["others=0", null],
      ["2.0.0", null],
    ]);
    expect(run.exitCode).toBe(0);
  }, 60_000);
});

// The probe prints, as its version line, what it sees of its own confinement.
const PROBE = String.raw`
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/${"$"}{2:-self}/status"; }
cg() { for f in "$@"; do [ -r "$f" ] && { cat "$f"; return; }; done; echo none; }
pids=$(cg /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max)
mem=$(cg /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes)
# Sockets: made in the file system (find), bind-mounted from the host (a mount point: find
# sees the placeholder file under it, test -S the socket), or named by DOCKER_HOST.
sockets=$( {
  find / \( -path /proc -o -path /sys \) -prune -o -type s -print 2>/dev/null
  awk '{ print $5 }' /proc/self/mountinfo | while read -r m; do [ -S "$m" ] && echo "$m"; done
  for s in /var/run/docker.sock /run/docker.sock /run/podman/podman.sock /run/user/*/docker.sock; do [ -S "$s" ] && echo "$s"; done
} | sort -u | wc -l)
[ -n "${"$"}{DOCKER_HOST:-}" ] && sockets=$((sockets + 1))
# Its own copy: nothing may change, not even by its own script.
changed=0
here=$(dirname "$0")
{ echo tampered >>"$0"; } 2>/dev/null && changed=$((changed + 1))
{ echo new >"$here/new-file"; } 2>/dev/null && changed=$((changed + 1))
{ echo tampered >"$here/data/value.txt"; } 2>/dev/null && changed=$((changed + 1))
mkdir "$here/new-dir" 2>/dev/null && changed=$((changed + 1))
rm -f "$here/data/value.txt" 2>/dev/null; [ -e "$here/data/value.txt" ] || changed=$((changed + 1))
chmod 777 "$here" 2>/dev/null && changed=$((changed + 1))
mv "$here/data" "$here/moved" 2>/dev/null && changed=$((changed + 1))
home=0; { echo ok >"$HOME/probe" && echo ok >"$TMPDIR/probe"; } 2>/dev/null && home=1
# PID 1: the image's own init, not one the engine adds (HostConfig.Init: docker-init, catatonit).
init=$(tr '\0' '\n' </proc/1/cmdline | head -n 1); init=${"$"}{init##*/}
# PID 1 shows what the container itself was given (the script's own set is emptied on top).
# (Short keys: the line must stay within the 256 characters a version may have.)
echo "init=$init uid=$(id -u) c_capbnd=$(status CapBnd 1) c_nnp=$(status NoNewPrivs 1) capbnd=$(status CapBnd) capeff=$(status CapEff) capprm=$(status CapPrm) capinh=$(status CapInh) capamb=$(status CapAmb) nnp=$(status NoNewPrivs) pids=$pids mem=$mem sockets=$sockets changed=$changed home=$home"
`;

describe("the check container, as a script sees it", () => {
  test("tini from the image as PID 1 (no engine-side init), no capabilities, no-new-privileges, pid and memory limits (but on rootless Docker with cgroup v1, which cannot set them), a read-only copy, a writable HOME, no Docker socket", async () => {
    const root = tempDir("aicage-probe-");
    const dir = writeAgent(root, "probe", { "version.sh": PROBE, "data/value.txt": "original\n" });
    const before = snapshot(dir);
    const run = await check(["--only", "image", dir]);
    expect(run.results[0]).toMatchObject({ ok: true, source: "image" });
    const seen = Object.fromEntries(
      String(run.results[0].version)
        .split(" ")
        .map((pair) => pair.split("=")),
    );
    const none = "0000000000000000";
    expect(seen).toMatchObject({
      capbnd: none,
      capeff: none,
      capprm: none,
      capinh: none,
      capamb: none,
      nnp: "1",
      sockets: "0",
      changed: "0",
      home: "1",
    });
    // The container: every capability dropped but CHOWN, KILL, SETGID, SETUID and SETPCAP (bits 0, 5-8), no-new-privileges.
    expect([seen.c_capbnd, seen.c_nnp]).toEqual(["00000000000001e1", "1"]);
    expect(Number(seen.uid)).toBeGreaterThanOrEqual(10100);
    // No init asked of the engine (Podman without catatonit has none): the image brings tini.
    expect(seen.init).toBe("tini");
    // The user's files: untouched.
    expect(snapshot(dir)).toEqual(before);
    // Rootless Docker on cgroup v1 (this machine: no systemd) ignores resource limits: the
    // engine drops them with a warning. Everywhere else they hold.
    if (ENGINE === "rootless" && !existsSync("/sys/fs/cgroup/cgroup.controllers")) return;
    // Limits are numbers, not "max" (cgroup v2) or the v1 "unlimited" 9223372036854771712.
    expect(Number(seen.pids)).toBeGreaterThan(0);
    expect(Number(seen.pids)).toBeLessThanOrEqual(4096);
    expect(Number(seen.mem)).toBeGreaterThan(0);
    expect(Number(seen.mem)).toBeLessThanOrEqual(64 * 1024 ** 3);
    // The user's files: untouched.
    expect(snapshot(dir)).toEqual(before);
  });

  test("npm, pip, git, curl and jq work as the agent's own user with its own HOME", async () => {
    const root = tempDir("aicage-tools-");
    const dir = writeAgent(root, "tools", {
      "version.sh": `
set -e
npm config get cache >/dev/null
npm view --offline does-not-exist >/dev/null 2>&1 || true
python3 -m pip --version >/dev/null
git init -q "$TMPDIR/repo" && git -C "$TMPDIR/repo" config user.name probe
curl --version >/dev/null
echo '{"v":"4.5.6"}' | jq -r .v
`,
    });
    const run = await check(["--only", "image", dir]);
    expect(run.results[0]).toMatchObject({ ok: true, source: "image", version: "4.5.6" });
  });
});
