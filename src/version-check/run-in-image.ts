// Runs a version.sh inside the version-check image: the agent folder read-only at
// /agent, as the image's non-root user, no capabilities, no new privileges, pid and
// memory limits, and never the Docker socket.
import type { DockerClient } from "../docker/client.ts";
import { runContainer } from "../docker/run-container.ts";
import { managedLabels } from "../labels.ts";
import type { ScriptRun } from "./attempt.ts";

export const AGENT_MOUNT = "/agent";
const PIDS_LIMIT = 256;
const MEMORY_BYTES = 1024 * 1024 * 1024;

export interface ImageRunOptions {
  image: string;
  /** host folder mounted at /agent */
  dir: string;
  argv: string[];
  env: string[];
  network?: string;
  timeoutMs: number;
  maxOutputBytes: number;
  agent: string;
  signal?: AbortSignal;
}

export async function runInImage(client: DockerClient, options: ImageRunOptions): Promise<ScriptRun> {
  const result = await runContainer(
    client,
    {
      Image: options.image,
      Cmd: options.argv,
      Entrypoint: null,
      Env: options.env,
      WorkingDir: AGENT_MOUNT,
      Labels: managedLabels({ "org.aicage.util.agent": options.agent }),
      HostConfig: {
        Mounts: [{ Type: "bind", Source: options.dir, Target: AGENT_MOUNT, ReadOnly: true }],
        NetworkMode: options.network,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        PidsLimit: PIDS_LIMIT,
        Memory: MEMORY_BYTES,
        Init: true, // reaps and forwards signals to whatever the script starts
      },
    },
    { timeoutMs: options.timeoutMs, maxOutputBytes: options.maxOutputBytes, signal: options.signal },
  );
  return {
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    stdout: result.stdout,
    stderr: result.stderr,
    truncated: result.stdoutTruncated || result.stderrTruncated,
    durationMs: result.durationMs,
  };
}
