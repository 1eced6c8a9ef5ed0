// A real OpenSSH server for the ssh:// tests: Debian's sshd on 127.0.0.1 and a random
// port, with its own host key and authorized_keys in a temporary folder, the docker CLI
// on the far side (its engine chosen with SetEnv DOCKER_HOST). The client side is a
// config file passed with -F, through an `ssh` wrapper that can go first on the PATH:
// OpenSSH reads ~/.ssh from the passwd entry, not $HOME, so the user's files stay untouched.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SSHD = "/usr/sbin/sshd";

export interface SshdOptions {
  /** Environment of the far side's sessions, e.g. DOCKER_HOST or a PATH without docker. */
  env?: Record<string, string>;
  /** Extra sshd_config lines. */
  config?: string[];
}

export interface ClientSetup {
  /** identity: the authorized key, or one the server does not know */
  key?: "authorized" | "unknown";
  /** known_hosts: the server's real key, none, or another key under the server's name */
  knownHosts?: "right" | "empty" | "changed";
}

export interface Client {
  /** ssh program and leading args, for DockerClient's ssh.command */
  command: string[];
  /** a folder holding an `ssh` wrapper, to put first on the PATH of a CLI run */
  pathDir: string;
  /** PATH for a CLI run with that wrapper */
  path: string;
}

export interface Sshd {
  port: number;
  /** ssh://root@127.0.0.1:PORT */
  url: string;
  dir: string;
  client(setup?: ClientSetup): Client;
  /** Processes of this test still running: client ssh (by config path) and sshd sessions. */
  leftovers(): string[];
  stop(): Promise<void>;
}

export function keygen(path: string): void {
  const run = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "aicage-test", "-f", path], {
    stderr: "pipe",
  });
  if (run.exitCode !== 0) throw new Error(`ssh-keygen failed: ${run.stderr.toString()}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** pid -> [ppid, cmdline] of every process. */
function processTable(): Map<number, [number, string]> {
  const table = new Map<number, [number, string]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      table.set(Number(entry), [ppid, cmdline]);
    } catch {
      // the process ended while we looked
    }
  }
  return table;
}

/**
 * An ssh client set-up in folder `dir` under `name`: a config that offers only `identity` and
 * trusts only the `knownHosts` text, and an `ssh` wrapper that reads it, to go first on a PATH.
 */
export function sshClientFiles(dir: string, name: string, files: { identity: string; knownHosts: string }): Client {
  const realSsh = Bun.which("ssh");
  if (!realSsh) throw new Error("no ssh client on the PATH");
  const knownHosts = join(dir, `${name}.known_hosts`);
  writeFileSync(knownHosts, files.knownHosts);
  const config = join(dir, `${name}.ssh_config`);
  writeFileSync(
    config,
    [
      "Host *",
      `  IdentityFile ${files.identity}`,
      "  IdentitiesOnly yes",
      "  IdentityAgent none",
      `  UserKnownHostsFile ${knownHosts}`,
      "  GlobalKnownHostsFile /dev/null",
      "",
    ].join("\n"),
  );
  const pathDir = join(dir, `${name}-bin`);
  mkdirSync(pathDir);
  writeFileSync(join(pathDir, "ssh"), `#!/bin/sh\nexec ${realSsh} -F ${config} "$@"\n`, { mode: 0o755 });
  return { command: [realSsh, "-F", config], pathDir, path: `${pathDir}:${process.env.PATH}` };
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), "aicage-sshd-"));
  chmodSync(dir, 0o700);
  keygen(join(dir, "host_key"));
  keygen(join(dir, "id_authorized"));
  keygen(join(dir, "id_unknown"));
  keygen(join(dir, "other_host_key"));
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "id_authorized.pub")));
  // sshd refuses to start without its privilege separation folder (the package makes it at boot).
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

  const env = { DOCKER_HOST: "unix:///var/run/docker.sock", ...options.env };
  let port = 0;
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let log = "";
  for (let attempt = 0; attempt < 3 && !proc; attempt++) {
    port = await freePort();
    const config = join(dir, "sshd_config");
    writeFileSync(
      config,
      [
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${join(dir, "host_key")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "PidFile none",
        `SetEnv ${Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`,
        ...(options.config ?? []),
        "",
      ].join("\n"),
    );
    const started = Bun.spawn([SSHD, "-D", "-e", "-f", config], { stderr: "pipe", stdout: "ignore", stdin: "ignore" });
    const reader = started.stderr.getReader();
    const decoder = new TextDecoder();
    while (!log.includes("Server listening")) {
      const { value, done } = await reader.read();
      if (done) break;
      log += decoder.decode(value);
    }
    reader.releaseLock();
    if (log.includes("Server listening")) {
      proc = started;
      void started.stderr.pipeTo(new WritableStream()); // keep draining its log
    } else {
      await started.exited;
    }
  }
  if (!proc) throw new Error(`sshd did not start: ${log}`);
  const sshdPid = proc.pid;
  const hostKey = readFileSync(join(dir, "host_key.pub"), "utf8").trim();
  const otherKey = readFileSync(join(dir, "other_host_key.pub"), "utf8").trim();
  let clients = 0;

  return {
    port,
    url: `ssh://root@127.0.0.1:${port}`,
    dir,
    client(setup: ClientSetup = {}): Client {
      const known = { right: hostKey, empty: "", changed: otherKey }[setup.knownHosts ?? "right"];
      return sshClientFiles(dir, `client-${++clients}`, {
        identity: join(dir, setup.key === "unknown" ? "id_unknown" : "id_authorized"),
        knownHosts: known ? `[127.0.0.1]:${port} ${known}\n` : "",
      });
    },
    leftovers(): string[] {
      const table = processTable();
      const found: string[] = [];
      for (const [pid, [ppid, cmdline]] of table) {
        if (pid === process.pid || pid === sshdPid) continue;
        const ours = cmdline.includes(dir);
        let descendant = false;
        for (let p = ppid, hops = 0; p > 1 && hops < 20; p = table.get(p)?.[0] ?? 0, hops++) {
          if (p === sshdPid) descendant = true;
        }
        if (ours || descendant) found.push(`${pid} ${cmdline}`);
      }
      return found;
    },
    async stop() {
      proc!.kill("SIGTERM");
      await proc!.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` answers an empty list (processes take a moment to end), or gives up and answers the last list. */
export async function settle(check: () => string[], ms = 5000): Promise<string[]> {
  const deadline = performance.now() + ms;
  let last = check();
  while (last.length > 0 && performance.now() < deadline) {
    await Bun.sleep(50);
    last = check();
  }
  return last;
}
