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
import { type CaSource, collectCaCertificates } from "./ca-certificates.ts";
import { type HostFiles, realHostFiles } from "./host-files.ts";
import { type NpmSetting, npmPath, readNpmSettings } from "./npm-settings.ts";
import { npmrcLine } from "./npmrc-format.ts";
import { pipConfigText } from "./pip-config-format.ts";
import { type PipSetting, readPipSettings } from "./pip-settings.ts";
import { isHostPath, urlHasCredentials } from "./url-credentials.ts";

export interface ContainerFile {
  /** absolute path in the container */
  path: string;
  content: Uint8Array;
  /** 0o600 when it holds credentials; owner must be the container user */
  mode: number;
}

export interface SettingOrigin {
  /** e.g. "npm registry", "npm //mirror.example/:_authToken", "pip global.index-url" */
  name: string;
  /** a host file path or `$VARIABLE` */
  source: string;
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
  /** pip's config file locations differ on macOS */
  platform?: NodeJS.Platform;
  files?: HostFiles;
}

export const DEFAULT_CONTAINER_HOME = "/home/aicage";

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
const CA_FILE_VARIABLES = ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"];

/** The sections pip reads for `pip install`, `pip download` and `pip index`, over [global]. */
const PIP_SECTIONS = ["global", "install", "download", "index"];
const PIP_SINGLE_URL = ["index-url", "proxy"];
const PIP_URL_LISTS = ["extra-index-url"];
const PIP_LISTS = ["trusted-host"];

const NPM_PLAIN = ["strict-ssl", "noproxy"];
const NPM_URLS = ["registry", "proxy", "https-proxy"];
const SCOPED_REGISTRY = /^@[^:/\s]+:registry$/;
/** npm credential settings, bare or per registry ("//host/path/:_authToken"). */
const NPM_CREDENTIAL = /^(?:\/\/[^\s]*:)?(?:_authtoken|-authtoken|_auth|_password|password|username)$/i;
/** mTLS client certificate settings: paths to host files, never forwarded. */
const NPM_CLIENT_CERT = /^(?:\/\/[^\s]*:)?(?:certfile|keyfile)$/i;

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

/** A setting value as text, or null when it is unset/empty/null. */
function settingText(value: NpmSetting["value"]): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    const parts = value.filter((v): v is string | boolean => v !== null).map(String);
    return parts.length ? parts.join(",") : null;
  }
  const out = String(value);
  return out === "" ? null : out;
}

/** npm's `ca` may be written with "\n" for each line break. */
function inlinePem(value: string): string {
  return value.includes("\n") ? value : value.replace(/\\n/g, "\n");
}

export function hostRegistrySetup(options: HostRegistryOptions): HostRegistrySetup {
  const env = options.env;
  const home = options.home ?? (env.HOME || homedir());
  const cwd = options.cwd ?? process.cwd();
  const files = options.files ?? realHostFiles;
  const forward = options.forwardCredentials === true;
  const paths = containerPaths(options.containerHome);
  const shown: SettingOrigin[] = [];
  const withheld: SettingOrigin[] = [];
  const notices: string[] = [];
  const caSources: CaSource[] = [];
  const out: ContainerFile[] = [];

  // ---- npm
  const npm = readNpmSettings({ env, home, cwd, files });
  notices.push(...npm.notices);
  const npmLines: string[] = [];
  let npmHasCredentials = false;
  const npmKeys = [...npm.settings.keys()];
  const ordered = [
    "registry",
    ...npmKeys.filter((k) => SCOPED_REGISTRY.test(k)).sort(),
    ...NPM_PLAIN,
    "proxy",
    "https-proxy",
    ...npmKeys.filter((k) => NPM_CREDENTIAL.test(k)).sort(),
  ];
  for (const key of new Set(ordered)) {
    const setting = npm.settings.get(key);
    if (!setting) continue;
    const value = settingText(setting.value);
    if (value === null) continue;
    const name = `npm ${key}`;
    const isCredential = NPM_CREDENTIAL.test(key) || ((NPM_URLS.includes(key) || SCOPED_REGISTRY.test(key)) && urlHasCredentials(value));
    if (isCredential && !forward) {
      withheld.push({ name, source: setting.source });
      continue;
    }
    npmHasCredentials ||= isCredential;
    npmLines.push(npmrcLine(key, value));
    shown.push({ name, source: setting.source });
  }
  for (const key of npmKeys.filter((k) => NPM_CLIENT_CERT.test(k)).sort()) {
    withheld.push({ name: `npm ${key}`, source: npm.settings.get(key)!.source });
    notices.push(`npm ${key}: client certificates are not forwarded`);
  }
  const cafile = npm.settings.get("cafile");
  const cafilePath = cafile && npmPath(cafile.value, { home, cwd });
  if (cafile && cafilePath) caSources.push({ origin: `npm cafile (${cafile.source})`, kind: "file", value: cafilePath });
  const ca = npm.settings.get("ca");
  if (ca) {
    for (const item of Array.isArray(ca.value) ? ca.value : [ca.value]) {
      if (typeof item === "string" && item) caSources.push({ origin: `npm ca (${ca.source})`, kind: "pem", value: inlinePem(item) });
    }
  }
  if (npmLines.length) {
    out.push({ path: paths.npmrc, content: text(`${npmLines.join("\n")}\n`), mode: npmHasCredentials ? 0o600 : 0o644 });
  }

  // ---- pip
  const pip = readPipSettings({ env, home, platform: options.platform ?? process.platform, files });
  notices.push(...pip.notices);
  // Variables beat every section: fold them into [global] and drop the key from the command
  // sections, which pip would otherwise let win over [global].
  const sections = new Map<string, Map<string, PipSetting & { label: string }>>();
  for (const section of PIP_SECTIONS) {
    const options = new Map<string, PipSetting & { label: string }>();
    for (const [key, setting] of pip.sections.get(section) ?? []) options.set(key, { ...setting, label: `${section}.${key}` });
    sections.set(section, options);
  }
  for (const [key, setting] of pip.env) {
    if (!setting.value) continue; // pip ignores empty values
    for (const section of PIP_SECTIONS) sections.get(section)!.delete(key);
    sections.get("global")!.set(key, { ...setting, label: `:env:.${key}` });
  }
  let pipHasCredentials = false;
  const pipOut = new Map<string, Map<string, string[]>>();
  for (const [section, options] of sections) {
    const written = new Map<string, string[]>();
    for (const [key, setting] of options) {
      if (!setting.value) continue;
      const name = `pip ${setting.label}`;
      if (key === "cert") {
        caSources.push({ origin: `${name} (${setting.source})`, kind: "file", value: resolve(cwd, setting.value) });
        continue;
      }
      const isList = PIP_URL_LISTS.includes(key) || PIP_LISTS.includes(key);
      if (!isList && !PIP_SINGLE_URL.includes(key)) continue;
      const items = isList ? setting.value.split(/\s+/).filter(Boolean) : [setting.value.trim()];
      const kept: string[] = [];
      let hidden = 0;
      let local = 0;
      for (const item of items) {
        if (PIP_LISTS.includes(key)) kept.push(item);
        else if (isHostPath(item)) local++;
        else if (urlHasCredentials(item) && !forward) hidden++;
        else {
          pipHasCredentials ||= urlHasCredentials(item);
          kept.push(item);
        }
      }
      const count = (n: number) => (items.length > 1 ? ` (${n} of ${items.length})` : "");
      if (hidden) withheld.push({ name: `${name}${count(hidden)}`, source: setting.source });
      if (local) notices.push(`${name} (${setting.source}): ${local} local ${local === 1 ? "index" : "indexes"} left out (a host path)`);
      if (kept.length) {
        written.set(key, kept);
        shown.push({ name: `${name}${count(kept.length)}`, source: setting.source });
      }
    }
    if (written.size) pipOut.set(section, written);
  }
  if (pipOut.size) {
    out.push({ path: paths.pipConf, content: text(pipConfigText(pipOut)), mode: pipHasCredentials ? 0o600 : 0o644 });
  }

  // ---- CA certificates named by variables
  for (const name of CA_FILE_VARIABLES) {
    const value = env[name];
    if (value) caSources.push({ origin: `$${name}`, kind: "file", value: resolve(cwd, value) });
  }
  for (const dir of (env.SSL_CERT_DIR ?? "").split(":")) {
    if (dir) caSources.push({ origin: "$SSL_CERT_DIR", kind: "folder", value: resolve(cwd, dir) });
  }
  const cas = collectCaCertificates(caSources, files);
  notices.push(...cas.notices);
  // One line per CA file or folder, however many settings name it.
  const byPath = new Map<string, { added: number; origins: string[] }>();
  for (const c of cas.contributions) {
    const entry = byPath.get(c.path ?? "inline certificates") ?? { added: 0, origins: [] };
    entry.added += c.added;
    entry.origins.push(c.origin);
    byPath.set(c.path ?? "inline certificates", entry);
  }
  for (const [what, { added, origins }] of byPath) {
    const count = added ? `${added} ${added === 1 ? "certificate" : "certificates"}` : "no new certificates";
    shown.push({ name: `CA ${what} (${count})`, source: origins.join(", ") });
  }
  let caEnv: string[] = [];
  let prepareScript: string | null = null;
  if (cas.pem) {
    out.push({ path: paths.hostCa, content: text(cas.pem), mode: 0o644 });
    caEnv = CA_ENV_NAMES.map((name) => `${name}=${paths.caBundle}`);
    prepareScript = caBundleScript(paths.hostCa, paths.caBundle);
  }

  return {
    env: caEnv,
    files: out,
    caCertificates: cas.pem,
    caEnvNames: cas.pem ? CA_ENV_NAMES : [],
    prepareScript,
    shown,
    withheld,
    notices,
  };
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
