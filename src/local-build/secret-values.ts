// Values given on the command line that may be secrets, kept out of everything a build shows.
// BuildKit names a RUN step with the build arguments it uses expanded ("[2/2] RUN npm ci
// --token npm_…"), and its error repeats the command: the status line, the plain output, the
// log, the failure line and the --json error would all show an NPM_TOKEN's value. Which
// arguments hold secrets only the user knows; the tool goes by the name, as BuildKit's own
// check SecretsUsedInArgOrEnv does, and hides every proxy variable's value (they may carry a
// user and password).
import type { BuildEvent } from "../workloads/build-events.ts";

/** Words of a name that mark it as a secret's (BuildKit's list, and a few more). */
const SECRET_WORDS = new Set([
  "apikey",
  "auth",
  "credential",
  "credentials",
  "key",
  "pass",
  "passphrase",
  "passwd",
  "password",
  "pat",
  "pword",
  "pwd",
  "secret",
  "secrets",
  "token",
  "tokens",
]);
/** What is shown instead of a hidden value. */
export const HIDDEN = "***";
/** Shorter values are not hidden: they would hide every "1" or "on" of the output, and are no secret. */
const MIN_LENGTH = 4;

/** NPM_TOKEN, githubToken, DB_PASSWORD, API_KEY: yes; PUBLIC_KEY, FROM_IMAGE, TOKENIZER: no. */
export function secretLookingName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return !words.includes("public") && words.some((word) => SECRET_WORDS.has(word));
}

/** The values to hide: build arguments with names that look like secrets, and every proxy variable's. */
export function secretValues(buildArgs: Record<string, string>, proxyArgs: Record<string, string>): string[] {
  const values = [
    ...Object.entries(buildArgs)
      .filter(([name]) => secretLookingName(name))
      .map(([, value]) => value),
    ...Object.values(proxyArgs),
  ];
  return [...new Set(values)].filter((value) => value.length >= MIN_LENGTH);
}

/**
 * Replaces each value, as written and as it appears inside a JSON or Go quoted string, with
 * HIDDEN; a value of several lines (a key read with `$(cat key)`) line by line too: builders
 * print a step named with it, and a step's output that echoes it, one line at a time.
 */
export function createRedactor(values: string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const value of values) {
    for (const form of [value, ...value.split(/\r?\n|\r/).map((line) => line.trim())]) {
      forms.add(form);
      forms.add(JSON.stringify(form).slice(1, -1));
    }
  }
  // Longest first: a value that holds another is hidden whole.
  const ordered = [...forms].filter((form) => form.length >= MIN_LENGTH).sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => ordered.reduce((shown, form) => shown.split(form).join(HIDDEN), text);
}

/** The event with the values hidden in every text it carries. */
export function redactEvent(event: BuildEvent, redact: (text: string) => string): BuildEvent {
  switch (event.kind) {
    case "image":
      return event;
    case "message":
      return { ...event, line: redact(event.line) };
    case "step-failed":
      return { ...event, name: redact(event.name), error: redact(event.error) };
    case "log":
      return { ...event, name: redact(event.name), line: redact(event.line) };
    case "warning":
      return { ...event, name: redact(event.name), message: redact(event.message) };
    default:
      return { ...event, name: redact(event.name) };
  }
}
