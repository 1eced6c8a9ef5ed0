// Who owns a thing a run made outside itself, and whether that owner still runs
// (lib/process-identity.ts, core/labels.ts, workloads/leftovers.ts isLeftover), against real
// processes of this machine: one that ended, one whose pid is another process's now, a zombie.
// The ssh tunnel's folders: only a killed owner's go (docker/ssh/tunnel-folder.ts).
// The sweep against a real engine, with real kill -9: test/integration/killed-run-leftovers.test.ts.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEADLINE_LABEL, ownerLabels, ownerOf } from "../../src/core/labels.ts";
import { removeStaleTunnelFolders } from "../../src/docker/ssh/tunnel-folder.ts";
import { type ProcessOwner, ownerState, thisProcess } from "../../src/lib/process-identity.ts";
import { leftoverWords } from "../../src/cli/leftovers.ts";
import { isLeftover } from "../../src/workloads/leftovers.ts";

/** A process that has ended (and was reaped), as it was while it ran. */
function endedProcess(): ProcessOwner {
  const run = spawnSync("sh", ["-c", "cut -d' ' -f1,22 /proc/self/stat"], { encoding: "utf8" });
  const [pid, start] = run.stdout.trim().split(" ");
  return { ...thisProcess(), pid: Number(pid), start: start! };
}

describe("ownerState", () => {
  test("this process is alive; one that ended is gone; another machine's is elsewhere", () => {
    expect(ownerState(thisProcess())).toBe("alive");
    expect(ownerState(endedProcess())).toBe("gone");
    expect(ownerState({ ...thisProcess(), machine: "another-boot/pid:[1]" })).toBe("elsewhere");
  });

  test("a pid now used by another process (its start time differs) is gone", () => {
    expect(ownerState({ ...thisProcess(), start: "1" })).toBe("gone");
  });

  test("a zombie (ended, not yet reaped by its parent) is gone", () => {
    // `sleep 0` ends at once; the shell's exec'd `sleep 3` never reaps it.
    const parent = Bun.spawn(["sh", "-c", "sleep 0 & echo $!; exec sleep 3"], { stdout: "pipe" });
    try {
      const pid = Number(spawnSync("sh", ["-c", `sleep 0.3; pgrep -P ${parent.pid} -x sleep`]).stdout.toString());
      expect(Number.isInteger(pid) && pid > 0).toBe(true);
      expect(
        spawnSync("cut", ["-d", " ", "-f3", `/proc/${pid}/stat`])
          .stdout.toString()
          .trim(),
      ).toBe("Z");
      expect(ownerState({ ...thisProcess(), pid, start: "" })).toBe("gone");
    } finally {
      parent.kill("SIGKILL");
    }
  });
});

describe("owner labels", () => {
  test("name this process, and read back as its owner", () => {
    const labels = ownerLabels(new Date("2030-01-01T00:00:00Z"));
    expect(ownerOf(labels)).toEqual(thisProcess());
    expect(labels[DEADLINE_LABEL]).toBe("2030-01-01T00:00:00.000Z");
    expect(ownerOf({ "org.aicage.util.managed": "true" })).toBeUndefined();
    expect(ownerOf({ ...labels, "org.aicage.util.owner-pid": "1; rm" })).toBeUndefined();
  });

  test("a leftover: its owner ended here; another machine's only far past its deadline; a live one never", () => {
    const now = Date.parse("2030-01-01T12:00:00Z");
    const labels = (owner: ProcessOwner, deadline?: string) => ({
      ...ownerLabels(),
      "org.aicage.util.owner-pid": String(owner.pid),
      "org.aicage.util.owner-start": owner.start,
      "org.aicage.util.owner-machine": owner.machine,
      ...(deadline ? { [DEADLINE_LABEL]: deadline } : {}),
    });
    expect(isLeftover({ Labels: labels(thisProcess(), "2000-01-01T00:00:00Z") }, now)).toBe(false);
    expect(isLeftover({ Labels: labels(endedProcess()) }, now)).toBe(true);
    const foreign = { ...thisProcess(), machine: "another-boot/pid:[1]", pid: 1 };
    expect(isLeftover({ Labels: labels(foreign) }, now)).toBe(false);
    expect(isLeftover({ Labels: labels(foreign, "2030-01-01T11:00:00Z") }, now)).toBe(false);
    expect(isLeftover({ Labels: labels(foreign, "2030-01-01T05:00:00Z") }, now)).toBe(true);
    expect(isLeftover({ Labels: { "org.aicage.util.managed": "true" } }, now)).toBe(false);
  });
});

describe("removeStaleTunnelFolders", () => {
  test("a killed owner's folder goes; a live one's, another machine's, a young unowned one and others' names stay", async () => {
    const root = mkdtempSync(join(tmpdir(), "aicage-tunnels-"));
    try {
      const folder = (name: string, owner?: ProcessOwner) => {
        mkdirSync(join(root, name));
        if (owner) writeFileSync(join(root, name, "owner"), JSON.stringify(owner));
        return name;
      };
      const killed = folder("docker-ssh-Killed", endedProcess());
      folder("docker-ssh-LiveOn", thisProcess());
      folder("docker-ssh-Remote", { ...endedProcess(), machine: "another-boot/pid:[1]" });
      folder("docker-ssh-Young");
      folder("docker-ssh-other-name", endedProcess());
      // An older version's folder (no owner file), a minute old, its socket left by a killed process.
      const old = folder("docker-ssh-OldOne");
      const listenThenDie = `require("node:net").createServer().listen(process.argv[1], () => process.kill(process.pid, "SIGKILL"))`;
      spawnSync(process.execPath, ["-e", listenThenDie, join(root, old, "engine.sock")]);
      expect(readdirSync(join(root, old))).toEqual(["engine.sock"]);
      const minuteAgo = new Date(Date.now() - 120_000);
      utimesSync(join(root, old), minuteAgo, minuteAgo);
      // An older version's folder whose process still listens: it stays.
      const busy = folder("docker-ssh-Listen");
      const listening = createServer();
      await new Promise<void>((resolve) => listening.listen(join(root, busy, "engine.sock"), resolve));
      utimesSync(join(root, busy), minuteAgo, minuteAgo);
      try {
        const removed = await removeStaleTunnelFolders(root);
        expect(removed.sort()).toEqual([join(root, killed), join(root, old)].sort());
        expect(readdirSync(root).sort()).toEqual(
          [
            "docker-ssh-Listen",
            "docker-ssh-LiveOn",
            "docker-ssh-Remote",
            "docker-ssh-Young",
            "docker-ssh-other-name",
          ].sort(),
        );
      } finally {
        listening.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("leftoverWords", () => {
  test("counts in words, nothing when nothing was removed", () => {
    const sweep = (containers: number, images: number, tempFolders: number) => ({
      containers: Array.from({ length: containers }, () => ({ id: "x", name: "x", purpose: null })),
      images: Array.from({ length: images }, () => ({ id: "x", tag: "x" })),
      tempFolders: Array.from({ length: tempFolders }, () => "/tmp/x"),
    });
    expect(leftoverWords(sweep(0, 0, 0))).toBe("");
    expect(leftoverWords(sweep(1, 0, 0))).toBe("1 container");
    expect(leftoverWords(sweep(2, 0, 1))).toBe("2 containers and 1 temporary folder");
    expect(leftoverWords(sweep(1, 2, 3))).toBe("1 container, 2 images and 3 temporary folders");
  });
});
