// What a build's RUN steps get of the host's registry set-up, by default: the npm and pip
// registry settings and every CA the host trusts (its own bundle and the files npm, pip and the
// CA variables name), read as version checks read them (host-registries/). The files travel in
// a small image of their own (host-setup-image.ts) that every RUN bind-mounts at
// HOST_SETUP_MOUNT: a mount, never a layer, and nothing added to the user's context, where a
// `COPY .` would take it. Build arguments point curl, git, node/npm and python/pip at the files;
// arguments reach a step's environment, never the image's config. The user's Dockerfile on disk
// is not touched (dockerfile-rewrite.ts). Credentials never travel this way.
import { CA_ENV_NAMES, type HostRegistrySetup, containerPaths, hostRegistrySetup } from "../host-registries/setup.ts";
import type { HostFiles } from "../host-registries/host-files.ts";
import type { DockerfileAdditions } from "./dockerfile-rewrite.ts";

/** Where a RUN step finds the files. */
export const HOST_SETUP_MOUNT = "/run/aicage-host-setup";
export interface HostSetupFile {
  /** its path under HOST_SETUP_MOUNT, e.g. `.npmrc` */
  name: string;
  content: Uint8Array;
}

export interface BuildHostSetup {
  files: HostSetupFile[];
  /** the build arguments every stage declares: variable name to a path under HOST_SETUP_MOUNT */
  stageArgs: Record<string, string>;
  /** names and sources of what is forwarded, withheld, skipped: safe to print */
  report: Pick<HostRegistrySetup, "shown" | "withheld" | "notices">;
}

export function buildHostSetup(options: {
  env: Record<string, string | undefined>;
  home?: string;
  files?: HostFiles;
}): BuildHostSetup {
  const setup = hostRegistrySetup({
    env: options.env,
    home: options.home,
    files: options.files,
    forwardCredentials: false,
    containerHome: HOST_SETUP_MOUNT,
    includeHostBundle: true,
  });
  const paths = containerPaths(HOST_SETUP_MOUNT);
  const files: HostSetupFile[] = setup.files.map((file) => {
    const name = file.path.slice(HOST_SETUP_MOUNT.length + 1);
    return { name, content: file.content };
  });
  const stageArgs: Record<string, string> = {};
  // A build step cannot join the image's bundle with the host's (no step of ours runs first):
  // the host's own bundle is in the file, so public sites keep working.
  if (setup.caCertificates) for (const name of CA_ENV_NAMES) stageArgs[name] = paths.hostCa;
  if (files.some((f) => `${HOST_SETUP_MOUNT}/${f.name}` === paths.npmrc)) stageArgs.NPM_CONFIG_USERCONFIG = paths.npmrc;
  if (files.some((f) => `${HOST_SETUP_MOUNT}/${f.name}` === paths.pipConf)) stageArgs.PIP_CONFIG_FILE = paths.pipConf;
  return { files, stageArgs, report: { shown: setup.shown, withheld: setup.withheld, notices: setup.notices } };
}

/** Every RUN mounts the set-up's image; every stage points the tools at its files. */
export function hostSetupAdditions(setup: BuildHostSetup, image: string): DockerfileAdditions {
  return { runFlags: [`--mount=type=bind,from=${image},target=${HOST_SETUP_MOUNT}`], stageArgs: setup.stageArgs };
}

/** What a build would get, one line each: names and sources, never a value. */
export function hostSetupLines(setup: BuildHostSetup): string[] {
  return [
    ...setup.report.shown.map((s) => `forwarded: ${s.name} (${s.source})`),
    ...setup.report.withheld.map((s) => `withheld: ${s.name} (${s.source})`),
    ...setup.report.notices.map((n) => `skipped: ${n}`),
  ];
}
