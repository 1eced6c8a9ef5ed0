// Latency of an ssh:// endpoint against the local unix socket, measured in one run on one
// machine (the test sshd of test/helpers/sshd.ts on 127.0.0.1; the far side's docker CLI
// reaches this machine's engine, so only the ssh path differs):
//   1. one request on a new connection: the unix socket; over ssh as the first
//      connection (full ssh handshake); as a further connection riding on the shared ssh
//      connection (the session the tunnel started ahead for it); and as a further
//      connection with sharing off (DOCKER_SSH_NO_MUX=1: a new handshake each time).
//   2. `aicage-util doctor` end to end (bun src/cli.ts): unix socket, ssh, ssh without sharing.
// Prints medians; the machine is shared, so compare within one run.
import { DockerClient } from "../../src/docker/client.ts";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { startSshd } from "../../test/helpers/sshd.ts";
import { benchArgs } from "./lib.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const values = benchArgs(import.meta.path, { runs: { type: "string", default: "7" } });
const runs = Number(values.runs);

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(label: string, fn: () => Promise<number>): Promise<number> {
  await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await fn());
  const value = median(samples);
  console.log(`  ${label.padEnd(62)} ${value.toFixed(value < 10 ? 1 : 0).padStart(6)} ms`);
  return value;
}

const sshd = await startSshd();
const sshClient = sshd.client();
try {
  const client = (host: string, env: Record<string, string> = {}) =>
    new DockerClient(resolveEndpoint({ host, env, exists: () => false }), { ssh: { command: sshClient.command } });

  /** A ping on a new connection while another connection of the same client is busy. */
  async function secondConnection(host: string, env: Record<string, string> = {}): Promise<number> {
    const c = client(host, env);
    try {
      await c.ping();
      // Holds its connection (and so the first ssh, the master) until aborted.
      const busy = new AbortController();
      const events = await c.stream("GET", "/events", { signal: busy.signal });
      const started = performance.now();
      await c.ping();
      const elapsed = performance.now() - started;
      busy.abort();
      await events.cancel().catch(() => undefined);
      return elapsed;
    } finally {
      await c.close();
    }
  }

  console.log(`one request (GET /_ping), median of ${runs}:`);
  await measure("unix socket, new connection", async () => {
    const c = client("unix:///var/run/docker.sock");
    const started = performance.now();
    await c.ping();
    return performance.now() - started;
  });
  await measure("ssh, first connection (ssh handshake + dial-stdio)", async () => {
    const c = client(sshd.url);
    const started = performance.now();
    await c.ping();
    const elapsed = performance.now() - started;
    await c.close();
    return elapsed;
  });
  await measure("ssh, further connection, shared ssh connection (spare session)", () => secondConnection(sshd.url));
  await measure("ssh, further connection, sharing off (new handshake)", () =>
    secondConnection(sshd.url, { DOCKER_SSH_NO_MUX: "1" }),
  );

  console.log(`aicage-util doctor (bun src/cli.ts), median of ${runs}:`);
  const doctor = (env: Record<string, string>) => async () => {
    const started = performance.now();
    const proc = Bun.spawn([process.execPath, `${ROOT}/src/cli.ts`, "doctor"], {
      env: { ...process.env, PATH: sshClient.path, ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`doctor failed (${code}): ${stderr}`);
    return performance.now() - started;
  };
  const unix = await measure("unix socket", doctor({ DOCKER_HOST: "unix:///var/run/docker.sock" }));
  const shared = await measure("ssh", doctor({ DOCKER_HOST: sshd.url }));
  const unshared = await measure("ssh, DOCKER_SSH_NO_MUX=1", doctor({ DOCKER_HOST: sshd.url, DOCKER_SSH_NO_MUX: "1" }));
  console.log(`  ssh - unix: ${(shared - unix).toFixed(0)} ms; sharing saves ${(unshared - shared).toFixed(0)} ms`);
} finally {
  await sshd.stop();
}
