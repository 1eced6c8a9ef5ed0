// What the check container gets of the host's registry set-up (host-registries/): the npm
// and pip settings and the CAs the host names, as files every agent may read under
// /aicage/shared, and the variables that point the tools at them. Nothing here holds a
// secret unless the user asked to forward credentials; then only the files do, never Env.
import { CA_ENV_NAMES, type HostRegistrySetup, containerPaths, hostRegistrySetup } from "../host-registries/setup.ts";
import { SHARED_ROOT, type SharedFile } from "./check-files.ts";

export interface RegistryForward {
  /** NAME=value for the container */
  env: string[];
  files: SharedFile[];
  /** what is forwarded, withheld and skipped: names and sources, safe to print */
  report: Pick<HostRegistrySetup, "shown" | "withheld" | "notices">;
}

/** The script the runner runs as root before any agent: the image's CA bundle plus the host's. */
export const PREPARE_SCRIPT = `${SHARED_ROOT}/prepare.sh`;

export function registryForward(options: {
  env: Record<string, string | undefined>;
  forwardCredentials: boolean;
}): RegistryForward {
  const setup = hostRegistrySetup({
    env: options.env,
    forwardCredentials: options.forwardCredentials,
    containerHome: SHARED_ROOT,
  });
  const paths = containerPaths(SHARED_ROOT);
  const files: SharedFile[] = setup.files.map((file) => ({ path: file.path, content: file.content }));
  const env = [...setup.env];
  if (files.some((f) => f.path === paths.npmrc)) env.push(`NPM_CONFIG_USERCONFIG=${paths.npmrc}`);
  if (files.some((f) => f.path === paths.pipConf)) env.push(`PIP_CONFIG_FILE=${paths.pipConf}`);
  if (setup.prepareScript)
    files.push({ path: PREPARE_SCRIPT, content: new TextEncoder().encode(`${setup.prepareScript}\n`) });
  return { env, files, report: { shown: setup.shown, withheld: setup.withheld, notices: setup.notices } };
}

/** The variables the runner unsets when the CA bundle could not be made: no tool points at a missing file. */
export const CA_VARIABLES: readonly string[] = CA_ENV_NAMES;
