// Flags (and their environment variables) that decide what version checks in the image and
// build steps get of the host's registry set-up: by default the settings and CAs; credentials
// only for version checks, when asked.
import type { ArgsDef } from "citty";

export const hostRegistryArgs = {
  "host-registries": {
    type: "boolean",
    default: true,
    description:
      "Give containers (version checks, build steps) the host's npm and pip registry settings and CA certificates",
    negativeDescription:
      "Do not give containers the host's registry settings and CAs (env AICAGE_UTIL_HOST_REGISTRIES=0)",
  },
  "forward-registry-credentials": {
    type: "boolean",
    description:
      "Also forward registry tokens and passwords (never shown; builds: as secrets, --via builder; env AICAGE_UTIL_FORWARD_REGISTRY_CREDENTIALS=1)",
  },
} as const satisfies ArgsDef;

const on = (value: string | undefined) => value !== undefined && /^(1|true|yes|on)$/i.test(value);
const off = (value: string | undefined) => value !== undefined && /^(0|false|no|off)$/i.test(value);

/** Whether credentials may go at all (a proxy variable's too, with the registry set-up off). */
export function credentialsOptIn(
  args: { "forward-registry-credentials"?: boolean },
  env: Record<string, string | undefined> = process.env,
): boolean {
  return Boolean(args["forward-registry-credentials"]) || on(env.AICAGE_UTIL_FORWARD_REGISTRY_CREDENTIALS);
}

/** Flags win over the environment. */
export function hostRegistryChoice(
  args: { "host-registries"?: boolean; "forward-registry-credentials"?: boolean },
  env: Record<string, string | undefined> = process.env,
): { forward: boolean; credentials: boolean } {
  const forward = args["host-registries"] === false ? false : !off(env.AICAGE_UTIL_HOST_REGISTRIES);
  return { forward, credentials: forward && credentialsOptIn(args, env) };
}
