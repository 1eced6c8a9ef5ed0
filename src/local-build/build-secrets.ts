// Secrets a Dockerfile asks for (`RUN --mount=type=secret,id=NAME`), given with `--secret`.
// BuildKit asks the client for them over its session: buildx in the builder container has one,
// an Engine API build has none. So only `--via builder` carries them; there each value is a
// file of the builder container (copied in through the API, 0600, never in its config or
// command) that buildx hands on. No value reaches a log, a line or `--json` (secret-values.ts).
import type { MemoryFile } from "../lib/memory-tar.ts";

export interface BuildSecret {
  id: string;
  value: Uint8Array;
}

/** Where the builder container holds the values. */
const SECRETS_DIR = "/aicage-secrets";

/** buildx's `--secret` arguments for the values copied in (secretFiles). */
export function buildxSecretArgs(secrets: BuildSecret[]): string[] {
  return secrets.flatMap((secret) => ["--secret", `id=${secret.id},src=${SECRETS_DIR}/${secret.id}`]);
}

/** The files to copy into the builder container, relative to its root. */
export function secretFiles(secrets: BuildSecret[]): Record<string, MemoryFile> {
  return Object.fromEntries(secrets.map((s) => [`${SECRETS_DIR.slice(1)}/${s.id}`, { content: s.value, mode: 0o600 }]));
}

/** The texts to hide: each value whole, and each of its lines (a key read with $(cat key)). */
export function secretTexts(secrets: BuildSecret[]): string[] {
  return secrets.flatMap((secret) => {
    const text = new TextDecoder().decode(secret.value);
    const trimmed = text.replace(/\r?\n$/, "");
    return [text, trimmed, ...trimmed.split(/\r?\n/)];
  });
}

/** Why secrets cannot go the way chosen, in one line; undefined when they can. */
export function secretsRefused(
  secrets: BuildSecret[],
  via: "builder" | "api",
  askedVia: "builder" | "api",
): string | undefined {
  if (secrets.length === 0 || via === "builder") return undefined;
  const why =
    askedVia === "builder"
      ? "this build goes through the Engine API (see the notice above)"
      : "an Engine API build has no BuildKit session to hand them over";
  return `--secret needs --via builder: ${why}`;
}
