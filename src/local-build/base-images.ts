// The images a build starts from, by the ID each FROM resolves to on the engine now: part of
// what decides a rebuild (--if-changed), as aicage rebuilds when its base changed. A base that
// is not on the engine yet counts as "" (the build pulls it; the next build sees its ID).
import type { DockerClient } from "../docker/client.ts";
import { findImage } from "../docker/images.ts";
import { fromImages } from "./dockerfile-rewrite.ts";

/** FROM reference to image ID ("" when the engine does not have it), in the Dockerfile's order. */
export type BaseImages = Record<string, string>;

export async function baseImageIds(
  client: DockerClient,
  dockerfile: Uint8Array,
  buildArgs: Record<string, string>,
): Promise<BaseImages> {
  const refs = fromImages(new TextDecoder().decode(dockerfile), buildArgs).filter(
    (ref) => ref !== "" && ref.toLowerCase() !== "scratch" && !ref.includes("$"),
  );
  const ids: BaseImages = {};
  for (const ref of refs) ids[ref] = (await findImage(client, ref))?.Id ?? "";
  return ids;
}

/** The label's value read back; {} for an image built before bases were recorded, or a label not ours. */
export function recordedBaseImages(label: string | undefined): BaseImages {
  if (!label) return {};
  try {
    const value = JSON.parse(label) as unknown;
    if (!value || typeof value !== "object" || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter(([, id]) => typeof id === "string")) as BaseImages;
  } catch {
    return {};
  }
}

/** The bases whose ID is not the one recorded (a base new to the Dockerfile counts too). */
export function changedBaseImages(recorded: BaseImages, now: BaseImages): string[] {
  return Object.keys(now).filter((ref) => recorded[ref] !== now[ref]);
}
