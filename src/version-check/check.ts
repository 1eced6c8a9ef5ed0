// The version check of many agents: each script tried in the configured order (image,
// then host, by default) until one answers a version; failures fall back to the last
// recorded version. Checks run concurrently up to --jobs; results keep input order.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { DockerClient } from "../docker/client.ts";
import { type EnsureOptions, ensureUtilImage } from "../util-images/ensure.ts";
import { mapWithLimit } from "../util/pool.ts";
import type { AgentScript } from "./agents.ts";
import { type Attempt, attemptFromRun, attemptNotRun } from "./attempt.ts";
import type { CheckPlace } from "./order.ts";
import { readRecord, recordAgeSeconds, writeRecord } from "./records.ts";
import { AGENT_MOUNT, runInImage } from "./run-in-image.ts";
import { runOnHost } from "./run-on-host.ts";
import { bashArgs, hasCrlf } from "./script-output.ts";

export interface CheckSettings {
  order: CheckPlace[];
  timeoutMs: number;
  jobs: number;
  /** container network; undefined = the engine's default */
  network?: string;
  /** NAME=value pairs for the container */
  env: string[];
  maxOutputBytes: number;
  /** answer from a record younger than this, for an unchanged script, without running */
  cacheTtlSeconds?: number;
  cacheFallback: boolean;
  /** run every place and compare instead of stopping at the first success */
  compare: boolean;
  imageOptions: EnsureOptions;
  signal?: AbortSignal;
  /** one-line warnings for the user */
  onWarning: (message: string) => void;
  onProgress?: (done: number, total: number, agent: string) => void;
}

export interface CheckResult {
  agent: string;
  script: string;
  ok: boolean;
  version: string | null;
  source: CheckPlace | "cache" | null;
  stale: boolean;
  /** when the answered version was found (now, or when the record was written) */
  checkedAt: string | null;
  durationMs: number;
  attempts: Attempt[];
  /** with --compare: each place's version and whether they agree */
  compare?: { image: string | null; host: string | null; match: boolean };
}

export async function checkAgents(
  client: DockerClient | undefined,
  agents: AgentScript[],
  settings: CheckSettings,
): Promise<CheckResult[]> {
  const image = imageProvider(client, settings);
  let done = 0;
  return mapWithLimit(agents, settings.jobs, async (agent) => {
    const result = await checkAgent(agent, settings, image);
    settings.onProgress?.(++done, agents.length, agent.agent);
    return result;
  });
}

/** Answers the engine and the version-check image ID, or throws why there is none. */
type ImageProvider = () => Promise<{ client: DockerClient; imageId: string }>;

/** Ensures the version-check image once per run; every image attempt shares the outcome. */
function imageProvider(client: DockerClient | undefined, settings: CheckSettings): ImageProvider {
  let pending: Promise<{ client: DockerClient; imageId: string }> | undefined;
  return () => {
    pending ??= (async () => {
      if (!client) throw new Error("no Docker engine configured");
      try {
        const ensured = await ensureUtilImage(client, "version-check", settings.imageOptions);
        return { client, imageId: ensured.id };
      } catch (error) {
        // Said once per run, not once per agent.
        if (settings.order.includes("host")) {
          settings.onWarning(`${(error as Error).message.replace(/\.$/, "")}; version checks run on the host instead`);
        }
        throw error;
      }
    })();
    return pending;
  };
}

async function checkAgent(agent: AgentScript, settings: CheckSettings, image: ImageProvider): Promise<CheckResult> {
  const started = performance.now();
  const content = new Uint8Array(readFileSync(agent.script));
  const scriptSha256 = createHash("sha256").update(content).digest("hex");
  const crlf = hasCrlf(content);
  const base = { agent: agent.agent, script: agent.script };
  const elapsed = () => Math.round(performance.now() - started);

  const previous = readRecord(agent.script, agent.agent);
  if (
    !settings.compare &&
    settings.cacheTtlSeconds !== undefined &&
    previous?.scriptSha256 === scriptSha256 &&
    recordAgeSeconds(previous) < settings.cacheTtlSeconds
  ) {
    return { ...base, ok: true, version: previous.version, source: "cache", stale: false, checkedAt: previous.checkedAt, durationMs: elapsed(), attempts: [] };
  }

  const attempts: Attempt[] = [];
  for (const place of settings.order) {
    settings.signal?.throwIfAborted();
    const attempt = await attemptIn(place, agent, crlf, settings, image);
    attempts.push(attempt);
    if (attempt.ok && !settings.compare) break;
  }

  if (settings.compare) return compareResult(base, attempts, elapsed());

  const good = attempts.find((a) => a.ok);
  if (good) {
    const checkedAt = new Date().toISOString();
    writeRecord({ ...base, version: good.version!, source: good.source, checkedAt, scriptSha256 });
    return { ...base, ok: true, version: good.version, source: good.source, stale: false, checkedAt, durationMs: elapsed(), attempts };
  }
  if (settings.cacheFallback && previous) {
    settings.onWarning(`${agent.agent}: every attempt failed; answering the version recorded at ${previous.checkedAt}`);
    return { ...base, ok: true, version: previous.version, source: "cache", stale: true, checkedAt: previous.checkedAt, durationMs: elapsed(), attempts };
  }
  return { ...base, ok: false, version: null, source: null, stale: false, checkedAt: null, durationMs: elapsed(), attempts };
}

async function attemptIn(
  place: CheckPlace,
  agent: AgentScript,
  crlf: boolean,
  settings: CheckSettings,
  image: ImageProvider,
): Promise<Attempt> {
  const started = performance.now();
  const notRun = (error: unknown) => {
    settings.signal?.throwIfAborted();
    return attemptNotRun(place, (error as Error).message, Math.round(performance.now() - started));
  };
  const scriptName = agent.script.slice(agent.dir.length + 1);
  try {
    if (place === "host") {
      const run = await runOnHost({
        argv: bashArgs(agent.script, crlf),
        cwd: agent.dir,
        timeoutMs: settings.timeoutMs,
        maxOutputBytes: settings.maxOutputBytes,
        signal: settings.signal,
      });
      return attemptFromRun(place, run, settings.timeoutMs);
    }
    const { client, imageId } = await image();
    const run = await runInImage(client, {
      image: imageId,
      dir: agent.dir,
      argv: bashArgs(`${AGENT_MOUNT}/${scriptName}`, crlf),
      env: settings.env,
      network: settings.network,
      timeoutMs: settings.timeoutMs,
      maxOutputBytes: settings.maxOutputBytes,
      agent: agent.agent,
      signal: settings.signal,
    });
    return attemptFromRun(place, run, settings.timeoutMs);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && place === "host") {
      return notRun(new Error("bash not found on the host (install bash, or check in the image)"));
    }
    return notRun(error);
  }
}

function compareResult(base: { agent: string; script: string }, attempts: Attempt[], durationMs: number): CheckResult {
  const versionOf = (place: CheckPlace) => attempts.find((a) => a.source === place)?.version ?? null;
  const imageVersion = versionOf("image");
  const hostVersion = versionOf("host");
  const match = imageVersion !== null && imageVersion === hostVersion;
  return {
    ...base,
    ok: match,
    version: match ? imageVersion : null,
    source: match ? "image" : null,
    stale: false,
    checkedAt: new Date().toISOString(),
    durationMs,
    attempts,
    compare: { image: imageVersion, host: hostVersion, match },
  };
}
