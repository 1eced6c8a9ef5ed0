// One `aicage-util build`: scan the context and work out the image's identity, skip when
// --if-changed finds it built already, pick the way to build (the builder image, or the
// Engine API when that image cannot be had), run it with a log file, and report.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CONTEXT_HASH_LABEL } from "../core/labels.ts";
import type { Report } from "../core/progress.ts";
import { stateDir } from "../core/state-dir.ts";
import { toolVersion } from "../core/tool-info.ts";
import type { DockerClient } from "../docker/client.ts";
import { findImage, tagImage } from "../docker/images.ts";
import { buildThroughApi } from "../engine/api-build.ts";
import { type BuildEvent, eventLine } from "../engine/build-events.ts";
import { BuildFailure } from "../engine/build-failure.ts";
import { createBuildSteps } from "../engine/build-steps.ts";
import { proxyVariables } from "../lib/proxy-env.ts";
import { onShutdown } from "../lib/shutdown.ts";
import type { EnsureOptions } from "../util-images/ensure.ts";
import type { BuildSettings } from "./build-settings.ts";
import { type BuildWay, chooseBuildWay } from "./build-way.ts";
import { UtilImageBuildError } from "../util-images/build-util-image.ts";
import { scanBuildContext } from "./context/scan.ts";
import { tarBuildContext } from "./context/tar.ts";
import { buildFailedError } from "./failure-report.ts";
import { createRedactor, redactEvent, secretValues } from "./secret-values.ts";
import { buildInputsHash, imageLabels } from "./identity.ts";
import { type BuildLog, defaultLogPath, openBuildLog } from "./log-file.ts";
import { buildViaBuilder } from "./via-builder.ts";

export interface BuildRequest extends BuildSettings {
  /** absolute paths */
  contextDir: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  ifChanged?: boolean;
  via: BuildWay;
  /** default: one new file per build under the state dir */
  logFile?: string;
}

export interface BuildResult {
  tag: string;
  tags: string[];
  imageId: string;
  skipped: boolean;
  /** how it was built; "api" also after falling back from "builder" */
  via: BuildWay;
  /** null when skipped */
  logFile: string | null;
  durationMs: number;
}

export interface BuildHooks {
  /** how to get the builder image (flags of the util images) */
  builderImage?: EnsureOptions;
  env?: Record<string, string | undefined>;
  /** ends the build (Ctrl-C): nothing more starts, what runs is stopped and removed */
  signal?: AbortSignal;
  /**
   * What the build tells as it goes: notices (a fall back), the log file's path, the build's
   * events (subject "image"; the log file has each event's line) and the builder image's own.
   */
  report?: Report;
}

export async function runBuild(client: DockerClient, request: BuildRequest, hooks: BuildHooks = {}): Promise<BuildResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const tag = request.tags[0]!;
  const signal = hooks.signal ?? new AbortController().signal;
  signal.throwIfAborted();
  // An engine that does not answer is the first thing to report, before any scan or log file.
  await client.apiVersion();

  const context = await scanBuildContext({
    contextDir: request.contextDir,
    dockerfile: request.dockerfile,
    allowDockerfileOutside: true,
    // An unchanged file is read once per build (to send it), not twice (to hash it first).
    digestCache: digestCachePath(request.contextDir, hooks.env),
  });
  const dockerfile = new Uint8Array(await readFile(request.dockerfile));
  // The two ways may see different files in `COPY .` (see BuildContext.folderContextHash): the
  // hash is the way's, so --if-changed never takes one way's image for the other's.
  const inputsHashFor = (way: BuildWay) =>
    buildInputsHash({
      contextHash: way === "api" ? context.contextHash : context.folderContextHash,
      dockerfile,
      buildArgs: request.buildArgs,
      labels: request.labels,
      target: request.target,
      platform: request.platform,
    });

  if (request.ifChanged) {
    const imageId = await upToDateImage(client, request.tags, inputsHashFor(request.via));
    if (imageId) {
      return { tag, tags: request.tags, imageId, skipped: true, via: request.via, logFile: null, durationMs: elapsed() };
    }
  }

  const proxyArgs = proxyVariables(hooks.env);
  // Values that may be secrets never reach the log, the terminal or an error (see secret-values.ts).
  const redact = createRedactor(secretValues(request.buildArgs, proxyArgs));
  signal.throwIfAborted();
  let log: BuildLog | undefined;
  let settled: Promise<unknown> = Promise.resolve();
  // What the failure line needs: the failed step and the last lines of its own output.
  const steps = createBuildSteps();
  // On Ctrl-C, let the build wind down (its connection closed, its container removed) and the log end.
  const stopWaiting = onShutdown(() => settled);
  try {
    const { via, builderImage, builderUnavailable, apiBuilderSaid } = await chooseBuildWay(client, request.via, {
      contextDir: context.dir,
      dockerfile: request.dockerfile,
      network: request.network,
      builderImage: hooks.builderImage,
      signal,
      report: hooks.report,
    });
    signal.throwIfAborted();
    const inputsHash = inputsHashFor(via);
    log = openBuildLog(request.logFile ?? defaultLogPath(tag, new Date(), hooks.env), { exclusive: !request.logFile });
    hooks.report?.({ type: "build-log", path: log.path });
    const labels = imageLabels(request.labels, { inputsHash, builderImage });
    writeHeader(log, request, { via, builderImage, files: context.files, bytes: context.bytes, inputsHash, proxyArgs });
    if (builderUnavailable) {
      log.note(`builder image unavailable: ${builderUnavailable.message}`);
      const cause = builderUnavailable.cause;
      if (cause instanceof UtilImageBuildError) log.note(`builder image build ${cause.detail}`);
    }

    const onEvent = (raw: BuildEvent) => {
      const event = redactEvent(raw, redact);
      const line = eventLine(event);
      if (line !== undefined) log!.write(line);
      steps.push(event);
      hooks.report?.({ type: "build", subject: "image", ...event });
    };
    const shared = {
      tags: request.tags,
      labels,
      target: request.target,
      platform: request.platform,
      noCache: request.noCache,
      pull: request.pull,
      network: request.network,
    };
    const build =
      via === "builder"
        ? buildViaBuilder(
            client,
            {
              ...shared,
              image: builderImage,
              endpoint: client.endpoint,
              contextDir: context.dir,
              dockerfile: request.dockerfile,
              buildArgs: request.buildArgs,
              proxyArgs,
            },
            { signal, onEvent },
          )
        : buildThroughApi(
            client,
            () => tarBuildContext(context),
            {
              tags: shared.tags,
              dockerfile: context.dockerfile,
              // The user's build arguments win over a proxy variable of the same name.
              buildArgs: { ...proxyArgs, ...request.buildArgs },
              labels,
              target: shared.target,
              platform: shared.platform,
              noCache: shared.noCache,
              pull: shared.pull,
              networkMode: shared.network,
            },
            {
              signal,
              onEvent,
              onNotice: (message) => {
                log!.note(message);
                if (!apiBuilderSaid) hooks.report?.({ type: "notice", level: "warn", message });
              },
            },
          );
    settled = build.catch(() => undefined);
    const { imageId } = await build;
    log.note(`built ${imageId} in ${(elapsed() / 1000).toFixed(1)}s`);
    return { tag, tags: request.tags, imageId, skipped: false, via, logFile: log.path, durationMs: elapsed() };
  } catch (error) {
    if (signal.aborted) {
      log?.note("interrupted");
      throw error;
    }
    // An engine's error may repeat a step's command, values expanded.
    if (error instanceof Error && !(error instanceof BuildFailure)) error.message = redact(error.message);
    if (!log) throw error;
    // The engine went away or stopped answering mid-build: the log still ends saying so.
    if (!(error instanceof BuildFailure)) {
      log.note(`failed: ${(error as Error)?.message ?? String(error)}`);
      throw error;
    }
    const failure = new BuildFailure(redact(error.reason), error.step === undefined ? undefined : redact(error.step));
    log.note(`failed${failure.step ? ` at step ${failure.step}` : ""}: ${failure.reason}`);
    throw buildFailedError({ tag, failure, stepOutput: steps.failedStepOutput(), network: request.network, log });
  } finally {
    log?.close();
    stopWaiting();
  }
}

/** Where the content digests of one context folder's files are remembered between builds. */
function digestCachePath(contextDir: string, env: Record<string, string | undefined> = process.env): string {
  const id = createHash("sha256").update(resolve(contextDir)).digest("hex").slice(0, 24);
  return join(stateDir(env), "context-digests", `${id}.json`);
}

/**
 * The ID of the image the first tag names when it was built from these same inputs. The
 * other tags are pointed at it too, so every tag asked for names the up-to-date image.
 */
async function upToDateImage(client: DockerClient, tags: string[], inputsHash: string): Promise<string | undefined> {
  const image = await findImage(client, tags[0]!);
  if (image?.Config?.Labels?.[CONTEXT_HASH_LABEL] !== inputsHash) return undefined;
  for (const other of tags.slice(1)) {
    if ((await findImage(client, other))?.Id !== image.Id) await tagImage(client, image.Id, other);
  }
  return image.Id;
}

function writeHeader(
  log: BuildLog,
  request: BuildRequest,
  facts: { via: BuildWay; builderImage: string; files: number; bytes: number; inputsHash: string; proxyArgs: Record<string, string> },
): void {
  log.note(`aicage-util ${toolVersion} build, ${new Date().toISOString()}`);
  log.note(`via: ${facts.via}${facts.via === "builder" ? ` (builder image ${facts.builderImage})` : ""}`);
  log.note(`context: ${request.contextDir} (${facts.files} files, ${facts.bytes} bytes after .dockerignore)`);
  log.note(`dockerfile: ${request.dockerfile}`);
  log.note(`tags: ${request.tags.join(" ")}`);
  // Build arguments carry tokens (NPM_TOKEN=…), proxy values credentials: only names are written.
  for (const name of Object.keys(request.buildArgs)) log.note(`build arg: ${name} (value not shown)`);
  const proxies = Object.keys(facts.proxyArgs);
  if (proxies.length) log.note(`proxy variables passed on: ${proxies.join(" ")}`);
  for (const [name, value] of Object.entries(request.labels)) log.note(`label: ${name}=${value}`);
  for (const [name, value] of Object.entries({ target: request.target, platform: request.platform, network: request.network })) {
    if (value) log.note(`${name}: ${value}`);
  }
  if (request.noCache) log.note("no cache");
  if (request.pull) log.note("pull: always");
  log.note(`inputs hash: ${facts.inputsHash}`);
}
