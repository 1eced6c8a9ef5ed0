// Makes sure a util image is there before a command uses it: present and current,
// else pulled, else built locally from the embedded Dockerfile. Callers decide what to
// do when even that fails (the version check falls back to the host).
import type { DockerClient } from "../docker/client.ts";
import type { UtilImageBuildOptions } from "./build-util-image.ts";
import { buildUtilImageOnce } from "./build-lock.ts";
import { pullUtilImage } from "./pull-util-image.ts";
import { type UtilImageKind, pullReference } from "./catalog.ts";
import { type UtilImageLookup, findUtilImage, isCurrent } from "./status.ts";
import { clip, oneLine } from "../lib/text.ts";

/**
 * How to find, pull or build the image; `report` (UtilImageBuildOptions) gets the notices
 * ("pulling …" info, "could not pull …; building locally" warn), the pull's and the build's progress.
 */
export interface EnsureOptions extends UtilImageLookup, UtilImageBuildOptions {}

export interface EnsuredImage {
  kind: UtilImageKind;
  /** what to run: an image ID, stable while we use it */
  id: string;
  ref: string;
  action: "present" | "pulled" | "built";
}

export class UtilImageUnavailableError extends Error {
  override name = "UtilImageUnavailableError";
}

/** One ensure per kind and engine at a time: twenty concurrent checks build once. */
const inFlight = new Map<string, Promise<EnsuredImage>>();

export function ensureUtilImage(
  client: DockerClient,
  kind: UtilImageKind,
  options: EnsureOptions = {},
): Promise<EnsuredImage> {
  const key = `${client.endpoint.display}|${kind}|${options.image ?? ""}|${options.repository ?? ""}`;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = ensureOnce(client, kind, options).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

async function ensureOnce(client: DockerClient, kind: UtilImageKind, options: EnsureOptions): Promise<EnsuredImage> {
  const found = await findUtilImage(client, kind, options);
  const { names } = found;
  if (found.image && (options.image || isCurrent(kind, found.image, names))) {
    return { kind, id: found.image.Id, ref: found.ref, action: "present" };
  }

  const pullRef = pullReference(names);
  let pullError: string;
  try {
    options.report?.({ type: "notice", level: "info", message: `pulling ${pullRef}` });
    const pulled = await pullUtilImage(client, kind, options);
    return { kind, id: pulled.id, ref: pulled.ref, action: "pulled" };
  } catch (error) {
    options.signal?.throwIfAborted();
    pullError = (error as Error).message;
  }

  options.report?.({
    type: "notice",
    level: "warn",
    message: `could not pull ${pullRef} (${pullError}); building it locally from the embedded Dockerfile`,
  });
  try {
    // Another process may be building the same image: one build, its image for both.
    const { id } = await buildUtilImageOnce(client, kind, names.tag, options);
    return { kind, id, ref: names.tag, action: "built" };
  } catch (error) {
    options.signal?.throwIfAborted();
    throw new UtilImageUnavailableError(
      // The pull's error was its own notice already: here it is kept short.
      `the ${kind} image is not available: pull failed (${clip(oneLine(pullError), 120, { trimEnd: true })}) and the local build failed (${(error as Error).message})`,
      // The build's whole step and reason, for a log that has room for them.
      { cause: error },
    );
  }
}
