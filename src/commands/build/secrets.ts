// `--secret id=NAME,src=FILE` and `--secret id=NAME,env=VAR`, as `docker buildx build` takes
// them, for Dockerfiles that ask for a secret (`RUN --mount=type=secret,id=NAME`). The value is
// read here, once: from a regular file (no FIFO, no device, at most SECRET_MAX_BYTES) or a
// variable that is set. Errors name the flag and the source, never the value.
import { repeatedValues } from "../../cli/args.ts";
import { UsageError } from "../../core/errors.ts";
import { readRegularFile } from "../../lib/regular-file.ts";
import { quoted } from "../../lib/safe-text.ts";
import type { BuildSecret } from "../../local-build/build-secrets.ts";

/** BuildKit's own limit for a secret is 500 KiB. */
const SECRET_MAX_BYTES = 500 * 1024;
const ID = /^[A-Za-z0-9_.-]{1,128}$/;

export function buildSecretsFrom(
  rawArgs: string[],
  cwd: string,
  env: Record<string, string | undefined> = process.env,
): BuildSecret[] {
  const secrets = new Map<string, BuildSecret>();
  for (const spec of repeatedValues(rawArgs, "secret")) {
    const fields = fieldsOf(spec);
    const id = fields.id ?? "";
    if (!ID.test(id)) throw new UsageError(`--secret needs id=NAME (letters, digits, . _ -), not ${quoted(spec, 80)}`);
    const file = fields.src ?? fields.source;
    if ((file === undefined) === (fields.env === undefined)) {
      throw new UsageError(`--secret id=${id}: give one of src=FILE or env=VARIABLE`);
    }
    secrets.set(id, { id, value: file !== undefined ? fromFile(id, file, cwd) : fromEnv(id, fields.env!, env) });
  }
  return [...secrets.values()];
}

/** `id=a,src=b` as fields; `type=` is accepted and ignored (buildx's own spelling). */
function fieldsOf(spec: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of spec.split(",")) {
    const equals = part.indexOf("=");
    if (equals <= 0)
      throw new UsageError(`--secret takes id=NAME,src=FILE or id=NAME,env=VARIABLE, not ${quoted(spec, 80)}`);
    fields[part.slice(0, equals).trim().toLowerCase()] = part.slice(equals + 1);
  }
  return fields;
}

function fromFile(id: string, file: string, cwd: string): Uint8Array {
  const path = file.startsWith("/") ? file : `${cwd}/${file}`;
  try {
    return readRegularFile(path, SECRET_MAX_BYTES);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new UsageError(`--secret id=${id}: cannot read ${quoted(path, 200)}: ${reason}`);
  }
}

function fromEnv(id: string, name: string, env: Record<string, string | undefined>): Uint8Array {
  const value = env[name];
  if (value === undefined) throw new UsageError(`--secret id=${id}: the variable ${quoted(name, 80)} is not set`);
  return new TextEncoder().encode(value);
}
