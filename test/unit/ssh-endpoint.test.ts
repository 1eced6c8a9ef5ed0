import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type SshFailureKind, explainSshFailure } from "../../src/docker/ssh/ssh-failure.ts";
import {
  parseSshUrl,
  remoteDialCommand,
  sshArguments,
  sshDisplay,
  sshLoginHint,
} from "../../src/docker/ssh/ssh-target.ts";

const RECORDED = join(import.meta.dir, "..", "fixtures", "recorded", "ssh");

function recordedFailure(name: string) {
  const file = readdirSync(RECORDED).find((f) => f.startsWith(`${name}.`))!;
  const exitCode = Number(file.split(".")[1]);
  return { exitCode, stderr: readFileSync(join(RECORDED, file), "utf8") };
}

describe("ssh:// addresses", () => {
  test("user, host, port and a remote socket path", () => {
    expect(parseSshUrl("ssh://me@build.example:2222/run/user/1000/docker.sock")).toEqual({
      user: "me",
      host: "build.example",
      port: 2222,
      remoteSocket: "/run/user/1000/docker.sock",
      multiplex: true,
    });
    expect(parseSshUrl("ssh://buildbox")).toEqual({
      user: undefined,
      host: "buildbox",
      port: undefined,
      remoteSocket: undefined,
      multiplex: true,
    });
    expect(parseSshUrl("ssh://[::1]:22/").host).toBe("::1");
  });

  test("what ssh cannot or must not do is refused with the reason", () => {
    expect(() => parseSshUrl("ssh://me:secret@box")).toThrow("holds a password; use a key or an ssh agent instead");
    expect(() => parseSshUrl("ssh://box?x=1")).toThrow("may not have a query or fragment");
    expect(() => parseSshUrl("ssh://")).toThrow(/not a valid ssh:\/\/ address|names no host/);
    expect(() => parseSshUrl("ssh://-oProxyCommand=x")).toThrow(
      "'ssh://-oProxyCommand=x': the host '-oProxyCommand=x' is neither a host name nor an IP address",
    );
    expect(() => parseSshUrl("ssh://-oProxyCommand=x@box")).toThrow(
      "the user name '-oProxyCommand=x' is not a login name (letters, digits, '.', '_', '-', '@')",
    );
  });

  test("a host or user name with shell characters is refused before ssh sees it (a ProxyCommand's %h would run it)", () => {
    for (const value of [
      "ssh://h$(cmd)ost",
      "ssh://h`cmd`ost",
      "ssh://a;cmd;b@host",
      "ssh://me@h&x",
      "ssh://h%20x",
      "ssh://h'x",
    ]) {
      expect(() => parseSshUrl(value)).toThrow(/is neither a host name nor an IP address|is not a login name/);
    }
    expect(() => parseSshUrl("ssh://a;cmd;b@host")).toThrow("the user name 'a;cmd;b' is not a login name");
    expect(() => parseSshUrl("ssh://h$(cmd)ost")).toThrow(
      "the host 'h$(cmd)ost' is neither a host name nor an IP address",
    );
    // What a real login looks like passes: a domain login, a ~/.ssh/config alias, addresses.
    expect(parseSshUrl("ssh://me%40corp.example@build_box.lan:2222")).toMatchObject({
      user: "me@corp.example",
      host: "build_box.lan",
      port: 2222,
    });
    expect(parseSshUrl("ssh://10.0.0.5").host).toBe("10.0.0.5");
    expect(parseSshUrl("ssh://[fd00::5]:22").host).toBe("fd00::5");
    expect(parseSshUrl("ssh://Box.Example.").host).toBe("Box.Example.");
  });

  test("a password is refused without being shown", () => {
    expect(() => parseSshUrl("ssh://me:s3cret@box")).toThrow(
      "'ssh://me:***@box' holds a password; use a key or an ssh agent instead",
    );
    const error = (() => {
      try {
        parseSshUrl("ssh://me:s3cret@h$(x)ost:0");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).not.toContain("s3cret");
  });

  test("port 0 and ports above 65535 are refused, not taken for ssh's default", () => {
    expect(() => parseSshUrl("ssh://box:0")).toThrow("'ssh://box:0': port 0 is not between 1 and 65535");
    expect(() => parseSshUrl("ssh://me@box:65536/x")).toThrow("port 65536 is not between 1 and 65535");
    expect(() => parseSshUrl("ssh://[::1]:0")).toThrow("port 0 is not between 1 and 65535");
    expect(parseSshUrl("ssh://box:022").port).toBe(22);
  });

  test("a name of 100,000 characters is refused in a message of bounded length", () => {
    for (const value of [
      `ssh://${"a".repeat(100_000)}`,
      `ssh://${"a".repeat(100_000)}@box`,
      `ssh://box/${"s".repeat(100_000)}`,
    ]) {
      let message = "";
      try {
        parseSshUrl(value);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/…/);
      expect(message.length).toBeLessThan(300);
    }
  });

  test("display is the normalised address", () => {
    expect(sshDisplay(parseSshUrl("ssh://me@box:2222/"))).toBe("ssh://me@box:2222");
    expect(sshDisplay(parseSshUrl("ssh://[::1]:22/var/run/docker.sock"))).toBe("ssh://[::1]:22/var/run/docker.sock");
  });

  test("ssh arguments: batch mode, no tty, a shared master in the private folder, the host after --", () => {
    const target = parseSshUrl("ssh://me@box:2222");
    expect(sshArguments(target, "/tmp/docker-ssh-x/mux")).toEqual([
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=8",
      "-T",
      "-o",
      "ControlMaster=auto",
      "-o",
      "ControlPath=/tmp/docker-ssh-x/mux",
      "-o",
      "ControlPersist=no",
      "-l",
      "me",
      "-p",
      "2222",
      "--",
      "box",
      "docker system dial-stdio",
    ]);
    const unshared = parseSshUrl("ssh://box", { multiplex: false });
    expect(sshArguments(unshared, "/tmp/x/mux")).toEqual([
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=8",
      "-T",
      "--",
      "box",
      "docker system dial-stdio",
    ]);
  });

  test("a remote socket path reaches the far shell quoted", () => {
    expect(remoteDialCommand(parseSshUrl("ssh://box/run/docker.sock"))).toBe(
      "docker --host=unix:///run/docker.sock system dial-stdio",
    );
    expect(remoteDialCommand(parseSshUrl("ssh://box/tmp/a%20b;rm"))).toBe(
      "docker '--host=unix:///tmp/a b;rm' system dial-stdio",
    );
    expect(remoteDialCommand(parseSshUrl("ssh://box/tmp/it's"))).toBe(
      "docker '--host=unix:///tmp/it'\\''s' system dial-stdio",
    );
  });
});

describe("ssh failures, from recorded stderr", () => {
  const target = parseSshUrl("ssh://root@127.0.0.1:22988");
  const cases: Array<[string, SshFailureKind, RegExp]> = [
    [
      "login-refused",
      "login-refused",
      /^ssh login as root to 127\.0\.0\.1 refused \(Permission denied \(publickey\)\)$/,
    ],
    ["host-key-unknown", "host-key-unknown", /^the host key of 127\.0\.0\.1 is not known/],
    ["host-key-changed", "host-key-changed", /^the host key of 127\.0\.0\.1 differs from the one in known_hosts/],
    ["connection-refused", "connection-refused", /^127\.0\.0\.1 refused the ssh connection on port 22988$/],
    ["unknown-host", "unknown-host", /^the host name 127\.0\.0\.1 cannot be resolved$/],
    ["docker-missing-bash", "docker-missing", /^the docker command was not found on 127\.0\.0\.1$/],
    ["docker-missing-dash", "docker-missing", /^the docker command was not found on 127\.0\.0\.1$/],
    [
      "engine-down",
      "engine-down",
      /^no engine answers on 127\.0\.0\.1 \(failed to open the raw stream connection: dial unix \/nonexistent\.sock: connect: no such file or directory\)$/,
    ],
    ["engine-permission", "engine-permission", /^the ssh user may not open the Docker socket on 127\.0\.0\.1/],
    ["no-answer", "no-answer", /ended the session without an answer/],
  ];
  for (const [name, kind, reason] of cases) {
    test(name, () => {
      const failure = explainSshFailure(recordedFailure(name), target);
      expect(failure.kind).toBe(kind);
      expect(failure.reason).toMatch(reason);
      expect(`${failure.reason}; ${failure.fix}`).not.toMatch(/[\r\n]/);
    });
  }

  test("the fixes name the command to run", () => {
    expect(explainSshFailure(recordedFailure("host-key-unknown"), target).fix).toBe(
      "connect once with `ssh -p 22988 root@127.0.0.1` to check and accept it",
    );
    expect(explainSshFailure(recordedFailure("host-key-changed"), target).fix).toContain(
      "`ssh-keygen -R '[127.0.0.1]:22988'`",
    );
    expect(explainSshFailure(recordedFailure("docker-missing-bash"), target).fix).toContain(
      "install the docker CLI there",
    );
  });

  test("a missing ssh program, and an unknown failure with control bytes, stay one clean line", () => {
    expect(explainSshFailure({ exitCode: null, stderr: "", spawnError: "spawn ssh ENOENT" }, target)).toMatchObject({
      kind: "ssh-missing",
      reason: "the ssh command could not be started (spawn ssh ENOENT)",
    });
    const odd = explainSshFailure({ exitCode: 3, stderr: "first\r\n\u001b[31mboom\u0007\r\n" }, target);
    expect(odd).toMatchObject({ kind: "other", reason: "ssh to 127.0.0.1 ended with exit code 3 (boom)" });
    expect(sshLoginHint(parseSshUrl("ssh://box"))).toBe("ssh box");
  });
});
