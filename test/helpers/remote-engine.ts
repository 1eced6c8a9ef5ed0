// The remote test engine (scripts/engines/remote26.sh): Docker 26 in a container of the
// primary engine that sees none of the tests' folders, reached as an engine on another machine
// is: over tcp:// with TLS, and over ssh:// through a real sshd. Under AICAGE_TEST_ENGINE=remote26
// scripts/test.sh has started it and copied the base and util images in; under another engine
// openRemote() does the same through scripts/test-engine.sh, and closeRemote() stops it again
// when it was not running before.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DockerClient } from "../../src/docker/client.ts";
import { ENGINE, REPO_ROOT, tempDir, testClient } from "./engine.ts";
import { type Client, keygen, sshClientFiles } from "./sshd.ts";

export interface Remote {
  /** tcp://127.0.0.1:PORT, TLS with client certificates */
  tlsHost: string;
  /** DOCKER_CERT_PATH for it: ca.pem, cert.pem, key.pem */
  certPath: string;
  /** ssh://root@127.0.0.1:PORT */
  sshHost: string;
  /** the engine's unix socket in its state folder: for the tests' own checks, never for the tool */
  client: DockerClient;
  /** an ssh set-up (wrapper first on PATH) with the authorized key, or one with a key sshd does not know, or no known host key */
  ssh(setup?: "right" | "unknown-key" | "unknown-host"): Client;
  startedHere: boolean;
}

const REMOTE_VARIABLES = [
  "AICAGE_TEST_REMOTE_TLS_HOST",
  "AICAGE_TEST_REMOTE_CERT_PATH",
  "AICAGE_TEST_REMOTE_SSH_HOST",
  "AICAGE_TEST_REMOTE_SSH_DIR",
  "AICAGE_TEST_SOCKET",
];

function engineVariables(): { values: Record<string, string>; startedHere: boolean } {
  if (ENGINE === "remote26") return { values: process.env as Record<string, string>, startedHere: false };
  const running =
    Bun.spawnSync(["bash", `${REPO_ROOT}/scripts/engines/engine.sh`, "remote26", "status"]).exitCode === 0;
  const run = Bun.spawnSync(["bash", `${REPO_ROOT}/scripts/test-engine.sh`], {
    env: { ...process.env, AICAGE_TEST_ENGINE: "remote26" },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (run.exitCode !== 0) throw new Error(`starting the remote engine failed: ${run.stderr.toString()}`);
  const values = Object.fromEntries(
    run.stdout
      .toString()
      .split("\n")
      .filter((line) => line.startsWith("AICAGE_TEST_"))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  return { values, startedHere: !running };
}

export function openRemote(): Remote {
  const { values, startedHere } = engineVariables();
  const missing = REMOTE_VARIABLES.filter((name) => !values[name]);
  if (missing.length > 0) throw new Error(`the remote engine's variables are missing: ${missing.join(", ")}`);
  const sshDir = values.AICAGE_TEST_REMOTE_SSH_DIR!;
  const clientDir = tempDir("aicage-remote-ssh-");
  const wrongKey = join(clientDir, "id_unknown");
  keygen(wrongKey);
  let clients = 0;
  return {
    tlsHost: values.AICAGE_TEST_REMOTE_TLS_HOST!,
    certPath: values.AICAGE_TEST_REMOTE_CERT_PATH!,
    sshHost: values.AICAGE_TEST_REMOTE_SSH_HOST!,
    client: testClient(`unix://${values.AICAGE_TEST_SOCKET}`),
    ssh(setup = "right") {
      return sshClientFiles(clientDir, `client-${++clients}`, {
        identity: setup === "unknown-key" ? wrongKey : join(sshDir, "id_ed25519"),
        knownHosts: setup === "unknown-host" ? "" : readFileSync(join(sshDir, "known_hosts"), "utf8"),
      });
    },
    startedHere,
  };
}

/** Stops the engine when openRemote() started it; the host's network must be as it was. */
export function closeRemote(remote: Remote): void {
  if (!remote.startedHere) return;
  for (const args of [["remote26", "stop"], ["check-network"]]) {
    const run = Bun.spawnSync(["bash", `${REPO_ROOT}/scripts/engines/engine.sh`, ...args], {
      stdout: "ignore",
      stderr: "pipe",
    });
    if (run.exitCode !== 0) throw new Error(`engine.sh ${args.join(" ")} failed: ${run.stderr.toString()}`);
  }
}
