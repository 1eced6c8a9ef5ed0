// What a build's RUN steps get of the host's registry set-up, by default: the npm and pip
// registry settings and every CA the host trusts (its own bundle and the files npm, pip and the
// CA variables name), read as version checks read them (host-registries/). The files travel in
// a small image of their own (host-setup-image.ts) that every RUN bind-mounts at
// HOST_SETUP_MOUNT: a mount, never a layer, and nothing added to the user's context, where a
// `COPY .` would take it. Build arguments point curl, git, node/npm and python/pip at the files;
// arguments reach a step's environment, never the image's config. The user's Dockerfile on disk
// is not touched (dockerfile-rewrite.ts). Credentials, only when asked for, never travel in the
// image: the files that hold them are build secrets (buildx only), mounted at HOST_SECRETS_MOUNT.
import { CA_ENV_NAMES, type HostRegistrySetup, containerPaths, hostRegistrySetup } from "../host-registries/setup.ts";
import type { HostFiles } from "../host-registries/host-files.ts";
import type { DockerfileAdditions } from "./dockerfile-rewrite.ts";

/** Where a RUN step finds the files. */
export const HOST_SETUP_MOUNT = "/run/aicage-host-setup";
export interface HostSetupFile {
  /** its path under HOST_SETUP_MOUNT, e.g. `.npmrc` */
  name: string;
  content: Uint8Array;
  /** it holds a registry credential: it goes as a build secret, never into the set-up's image */
  credentials: boolean;
}

/** Where a RUN step finds the files that hold credentials (secret mounts, only with --via builder). */
export const HOST_SECRETS_MOUNT = "/run/aicage-host-secrets";

export interface BuildHostSetup {
  files: HostSetupFile[];
  /** the build arguments every stage declares: variable name to a path under HOST_SETUP_MOUNT */
  stageArgs: Record<string, string>;
  /** names and sources of what is forwarded, withheld, skipped: safe to print */
  report: Pick<HostRegistrySetup, "shown" | "withheld" | "notices">;
  /** the credential values in the files that go as secrets: to hide in all a build shows */
  credentialValues: string[];
}

export function buildHostSetup(options: {
  env: Record<string, string | undefined>;
  /** the opt-in of version checks (--forward-registry-credentials): credentials too, as secrets */
  forwardCredentials?: boolean;
  home?: string;
  files?: HostFiles;
}): BuildHostSetup {
  const setup = hostRegistrySetup({
    env: options.env,
    home: options.home,
    files: options.files,
    forwardCredentials: options.forwardCredentials === true,
    containerHome: HOST_SETUP_MOUNT,
    includeHostBundle: true,
  });
  const paths = containerPaths(HOST_SETUP_MOUNT);
  const files: HostSetupFile[] = setup.files.map((file) => {
    const name = file.path.slice(HOST_SETUP_MOUNT.length + 1);
    return { name, content: file.content, credentials: file.mode === 0o600 };
  });
  const stageArgs: Record<string, string> = {};
  // A build step cannot join the image's bundle with the host's (no step of ours runs first):
  // the host's own bundle is in the file, so public sites keep working.
  if (setup.caCertificates) for (const name of CA_ENV_NAMES) stageArgs[name] = paths.hostCa;
  // A file with credentials is found where its secret is mounted, not in the set-up's image.
  const where = (path: string) => {
    const file = files.find((f) => `${HOST_SETUP_MOUNT}/${f.name}` === path);
    return file && (file.credentials ? `${HOST_SECRETS_MOUNT}/${file.name}` : path);
  };
  const npmrc = where(paths.npmrc);
  const pipConf = where(paths.pipConf);
  if (npmrc) stageArgs.NPM_CONFIG_USERCONFIG = npmrc;
  if (pipConf) stageArgs.PIP_CONFIG_FILE = pipConf;
  return {
    files,
    stageArgs,
    report: { shown: setup.shown, withheld: setup.withheld, notices: setup.notices },
    credentialValues: setup.credentialValues,
  };
}

/** Every RUN mounts the set-up's image, and each file with credentials as a secret; every stage points the tools at them. */
export function hostSetupAdditions(setup: BuildHostSetup, image: string): DockerfileAdditions {
  const secrets = hostSetupSecrets(setup).map(
    // Readable by the step's user whoever it is (an image's USER may not be root), as the file is on the host.
    (secret) => `--mount=type=secret,id=${secret.id},target=${HOST_SECRETS_MOUNT}/${secret.name},mode=0444`,
  );
  return {
    runFlags: [`--mount=type=bind,from=${image},target=${HOST_SETUP_MOUNT}`, ...secrets],
    stageArgs: setup.stageArgs,
  };
}

/** The files with credentials, as build secrets (buildx carries them; no cache keeps them). */
export function hostSetupSecrets(setup: BuildHostSetup): Array<{ id: string; name: string; value: Uint8Array }> {
  return setup.files
    .filter((file) => file.credentials)
    .map((file) => ({
      id: `aicage-host-${file.name.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-+|-+$/g, "")}`,
      name: file.name,
      value: file.content,
    }));
}

/**
 * The credential values in the files that hold them, to hide in all a build shows: each value
 * the host's set-up forwarded as a credential (a token, a URL with a user or a query, each item
 * of a list alone), and what follows `=` on a credential line of the files, as written there.
 */
export function hostSetupSecretTexts(setup: BuildHostSetup): string[] {
  const credential = /(?:_authToken|_auth|_password|password|token)\s*=\s*(.+)$|:\/\/([^/@\s]+)@/i;
  const written = setup.files
    .filter((file) => file.credentials)
    .flatMap((file) => new TextDecoder().decode(file.content).split(/\r?\n/))
    .flatMap((line) => {
      const match = credential.exec(line);
      return match ? [(match[1] ?? match[2] ?? "").trim()] : [];
    });
  return [...setup.credentialValues, ...written].filter((value) => value.length > 0);
}

/** What a build would get, one line each: names and sources, never a value. */
export function hostSetupLines(setup: BuildHostSetup): string[] {
  return [
    ...setup.report.shown.map((s) => `forwarded: ${s.name} (${s.source})`),
    ...setup.report.withheld.map((s) => `withheld: ${s.name} (${s.source})`),
    ...setup.report.notices.map((n) => `skipped: ${n}`),
  ];
}
