// What a container needs so that npm, pip, curl and git in it reach registries the way
// they do on the host: the host's npm and pip registry settings (as a ~/.npmrc and a
// pip.conf for the container user) and every CA certificate the host names (appended,
// inside the container, to the image's own bundle, which every tool is then pointed at).
// Everything is described by content, not host path: the files are copied into the
// container, which may run on another machine.
//
// Credentials (npm tokens and passwords, URLs with a user or password in them) stay out
// unless `forwardCredentials`; what is left out is listed in `withheld`. `shown`,
// `withheld` and `notices` hold setting names, paths and counts, never a setting's value.
import { homedir } from "node:os";
import { resolve } from "node:path";
import { type CaCollection, collectCaCertificates } from "./ca-certificates.ts";
import type { Findings, SettingOrigin } from "./findings.ts";
import { type HostFiles, realHostFiles } from "./host-files.ts";
import { npmrcForContainer } from "./npm-forwarding.ts";
import { readNpmSettings } from "./npm-settings.ts";
import { pipConfForContainer } from "./pip-forwarding.ts";
import { readPipSettings } from "./pip-settings.ts";

export type { SettingOrigin } from "./findings.ts";

export interface ContainerFile {
  /** absolute path in the container */
  path: string;
  content: Uint8Array;
  /** 0o600 when it holds credentials; owner must be the container user */
  mode: number;
}

export interface HostRegistrySetup {
  /** NAME=value for the container: the CA variables, pointing at the combined bundle */
  env: string[];
  /** files to copy into the container before it starts */
  files: ContainerFile[];
  /** PEM of every CA certificate the host names, once each; null when none */
  caCertificates: string | null;
  /** variables that `env` points at the combined bundle */
  caEnvNames: readonly string[];
  /**
   * Shell text (fixed, no host input) to run in the container as its user before
   * anything else: writes the combined bundle (image's CAs + the host's). Null when
   * there are no host CAs.
   */
  prepareScript: string | null;
  /** what is forwarded: safe to print */
  shown: SettingOrigin[];
  /** credentials found and not forwarded: safe to print */
  withheld: SettingOrigin[];
  /** things skipped and why (unreadable files, host paths, size limits): safe to print */
  notices: string[];
  /** the credential values forwarded (only with forwardCredentials), each alone: to hide wherever text is shown; never printed */
  credentialValues: string[];
}

export interface HostRegistryOptions {
  /** the host's environment */
  env: Record<string, string | undefined>;
  /** default: $HOME, else the account's home folder */
  home?: string;
  /** for relative paths in settings; default the current folder */
  cwd?: string;
  /** forward registry tokens, passwords and URLs with credentials in them too */
  forwardCredentials?: boolean;
  /** the container user's home folder (the version-check image's user) */
  containerHome?: string;
  /**
   * Take the host's own CA bundle too (its system store: the first of the usual bundle files):
   * for a container that cannot join it with its own (a build step), public sites keep working.
   */
  includeHostBundle?: boolean;
  /** pip's config file locations differ on macOS */
  platform?: NodeJS.Platform;
  files?: HostFiles;
}

const DEFAULT_CONTAINER_HOME = "/home/aicage";

/** Every variable through which curl, git, node/npm and python/pip find CA certificates. */
export const CA_ENV_NAMES = [
  "SSL_CERT_FILE",
  "CURL_CA_BUNDLE",
  "GIT_SSL_CAINFO",
  "NODE_EXTRA_CA_CERTS",
  "NPM_CONFIG_CAFILE",
  "REQUESTS_CA_BUNDLE",
  "PIP_CERT",
] as const;

/** Host variables that name CA files or folders. */
const CA_FILE_VARIABLES = [
  "SSL_CERT_FILE",
  "NODE_EXTRA_CA_CERTS",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "GIT_SSL_CAINFO",
];

/** Debian/Ubuntu first (the image's family), then the other usual places. */
const IMAGE_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

export function containerPaths(containerHome = DEFAULT_CONTAINER_HOME) {
  return {
    npmrc: `${containerHome}/.npmrc`,
    pipConf: `${containerHome}/.config/pip/pip.conf`,
    hostCa: `${containerHome}/.aicage-util/host-ca.pem`,
    caBundle: `${containerHome}/.aicage-util/ca-bundle.pem`,
  };
}

function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

export function hostRegistrySetup(options: HostRegistryOptions): HostRegistrySetup {
  const env = options.env;
  const home = options.home ?? (env.HOME || homedir());
  const cwd = options.cwd ?? process.cwd();
  const files = options.files ?? realHostFiles;
  const forward = options.forwardCredentials === true;
  const paths = containerPaths(options.containerHome);
  const findings: Findings = { shown: [], withheld: [], notices: [], caSources: [], credentialValues: [] };
  const out: ContainerFile[] = [];

  const npmSettings = readNpmSettings({ env, home, cwd, files });
  findings.notices.push(...npmSettings.notices);
  const npmrc = npmrcForContainer(npmSettings, forward, { home, cwd }, findings);
  if (npmrc.text)
    out.push({ path: paths.npmrc, content: text(npmrc.text), mode: npmrc.hasCredentials ? 0o600 : 0o644 });

  const pipSettings = readPipSettings({ env, home, platform: options.platform ?? process.platform, files });
  findings.notices.push(...pipSettings.notices);
  const pipConf = pipConfForContainer(pipSettings, forward, cwd, findings);
  if (pipConf.text)
    out.push({ path: paths.pipConf, content: text(pipConf.text), mode: pipConf.hasCredentials ? 0o600 : 0o644 });

  if (options.includeHostBundle) {
    const bundle = IMAGE_BUNDLES.find((path) => files.realpath(path) !== null);
    if (bundle) findings.caSources.unshift({ origin: "the host's CA bundle", kind: "file", value: bundle });
  }
  // CA files and folders named by variables come after those npm and pip name.
  for (const name of CA_FILE_VARIABLES) {
    const value = env[name];
    if (value) findings.caSources.push({ origin: `$${name}`, kind: "file", value: resolve(cwd, value) });
  }
  for (const dir of (env.SSL_CERT_DIR ?? "").split(":")) {
    if (dir) findings.caSources.push({ origin: "$SSL_CERT_DIR", kind: "folder", value: resolve(cwd, dir) });
  }
  const cas = collectCaCertificates(findings.caSources, files);
  findings.notices.push(...cas.notices);
  findings.shown.push(...caLines(cas.contributions));
  if (!cas.pem) {
    return { env: [], files: out, caCertificates: null, caEnvNames: [], prepareScript: null, ...report(findings) };
  }
  out.push({ path: paths.hostCa, content: text(cas.pem), mode: 0o644 });
  return {
    env: CA_ENV_NAMES.map((name) => `${name}=${paths.caBundle}`),
    files: out,
    caCertificates: cas.pem,
    caEnvNames: CA_ENV_NAMES,
    prepareScript: caBundleScript(paths.hostCa, paths.caBundle),
    ...report(findings),
  };
}

function report({ shown, withheld, notices, credentialValues }: Findings) {
  return { shown, withheld, notices, credentialValues };
}

/** One line per CA file or folder, however many settings name it. */
function caLines(contributions: CaCollection["contributions"]): SettingOrigin[] {
  const byPath = new Map<string, { added: number; origins: string[] }>();
  for (const c of contributions) {
    const what = c.path ?? "inline certificates";
    const entry = byPath.get(what) ?? { added: 0, origins: [] };
    entry.added += c.added;
    entry.origins.push(c.origin);
    byPath.set(what, entry);
  }
  return [...byPath].map(([what, { added, origins }]) => {
    const count = added ? `${added} ${added === 1 ? "certificate" : "certificates"}` : "no new certificates";
    return { name: `CA ${what} (${count})`, source: origins.join(", ") };
  });
}

/**
 * The image's own CA bundle (so public sites keep working) followed by the host's CAs,
 * written where the CA variables point. Fixed text: the paths are this module's constants.
 */
function caBundleScript(hostCa: string, bundle: string): string {
  const candidates = IMAGE_BUNDLES.map((p) => `'${p}'`).join(" ");
  return [
    `for f in ${candidates}; do if [ -r "$f" ]; then cat "$f"; echo; break; fi; done > '${bundle}.tmp'`,
    `cat '${hostCa}' >> '${bundle}.tmp' && mv -f '${bundle}.tmp' '${bundle}'`,
  ].join("\n");
}
