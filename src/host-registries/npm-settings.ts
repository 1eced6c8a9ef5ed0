// The npm settings of the host, resolved the way npm (@npmcli/config) does, without
// running npm. Layers, highest first: environment (npm_config_*, any case), user npmrc
// (NPM_CONFIG_USERCONFIG, else ~/.npmrc), global npmrc (globalconfig, else
// <prefix>/etc/npmrc), npm's builtin npmrc (<npm's own folder>/npmrc, where distributions
// such as Debian set globalconfig=/etc/npmrc). The prefix is npm's: the `prefix` setting,
// else $PREFIX, else two folders above the real path of `node` ($DESTDIR in front).
// Not read: command-line flags (a script's own) and a project .npmrc (it lives in the
// agent folder, which the container sees anyway).
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { HostFiles } from "./host-files.ts";
import { readFailure } from "./host-files.ts";
import { type NpmrcValue, npmEnvReplace, parseNpmrc } from "./npmrc-format.ts";

export interface NpmSetting {
  /** the value after ${VAR} expansion; arrays for `key[]` settings */
  value: string | boolean | null | Array<string | boolean | null>;
  /** where it was set: a file path or `$NAME` */
  source: string;
}

export interface NpmSettings {
  /** every key set in some layer, with the winning layer's value */
  settings: Map<string, NpmSetting>;
  notices: string[];
}

interface Layer {
  values: Map<string, NpmSetting>;
}

const MAX_NPMRC_BYTES = 1024 * 1024;
const TEXT_TYPED = new Set(["ca", "cafile", "noproxy", "userconfig", "globalconfig", "prefix"]);

export interface NpmSettingsOptions {
  env: Record<string, string | undefined>;
  home: string;
  cwd: string;
  files: HostFiles;
}

function expand(value: NpmrcValue, env: NpmSettingsOptions["env"]): NpmSetting["value"] {
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? npmEnvReplace(v.trim(), env) : v));
  return typeof value === "string" ? npmEnvReplace(value.trim(), env) : value;
}

/** npm's `path` type: ${VAR} expanded, `~/` is the home folder, relative to the current folder. */
export function npmPath(value: NpmSetting["value"] | undefined, options: { home: string; cwd: string }): string | null {
  if (typeof value !== "string" || value === "") return null;
  if (value.startsWith("~/")) return resolve(options.home, value.slice(2));
  return isAbsolute(value) ? resolve(value) : resolve(options.cwd, value);
}

function envLayer(env: NpmSettingsOptions["env"]): Layer {
  const values = new Map<string, NpmSetting>();
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || raw === "" || !/^npm_config_/i.test(name)) continue;
    let key = name.slice("npm_config_".length);
    if (!key.startsWith("//")) key = key.replace(/(?!^)_/g, "-").toLowerCase();
    let value: NpmSetting["value"] = npmEnvReplace(raw.trim(), env);
    // npm coerces true/false/null by the setting's type: all but text- and path-typed ones.
    if (!TEXT_TYPED.has(key))
      value = value === "false" ? false : value === "true" ? true : value === "null" ? null : value;
    values.set(npmEnvReplace(key, env), { value, source: `$${name}` });
  }
  return { values };
}

function fileLayer(path: string | null, options: NpmSettingsOptions, notices: string[]): Layer {
  const values = new Map<string, NpmSetting>();
  if (!path) return { values };
  let file: ReturnType<HostFiles["read"]>;
  try {
    file = options.files.read(path, MAX_NPMRC_BYTES);
  } catch (error) {
    notices.push(`${path}: not read (${readFailure(error)})`);
    return { values };
  }
  if (!file) return { values };
  if (file.truncated) {
    notices.push(`${path}: not read (larger than ${MAX_NPMRC_BYTES} bytes)`);
    return { values };
  }
  const text = new TextDecoder().decode(file.bytes);
  for (const [key, value] of parseNpmrc(text)) {
    values.set(npmEnvReplace(key, options.env), { value: expand(value, options.env), source: path });
  }
  return { values };
}

/** An executable on PATH, as a shell would find it. */
function onPath(name: string, options: NpmSettingsOptions): string | null {
  for (const dir of (options.env.PATH ?? "").split(":")) {
    if (!dir) continue;
    const candidate = join(resolve(options.cwd, dir), name);
    if (options.files.isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** npm's own folder (holding package.json and the builtin npmrc), from the npm on PATH. */
function npmFolder(options: NpmSettingsOptions): string | null {
  const bin = onPath("npm", options);
  const real = bin && options.files.realpath(bin);
  if (!real) return null;
  let dir = dirname(real);
  for (let up = 0; up < 4; up++) {
    const manifest = safeRead(join(dir, "package.json"), options.files);
    if (manifest) {
      try {
        if (JSON.parse(manifest).name === "npm") return dir;
      } catch {
        // not npm's package.json: keep climbing
      }
    }
    dir = dirname(dir);
  }
  return null;
}

function safeRead(path: string, files: HostFiles): string | null {
  try {
    const file = files.read(path, 256 * 1024);
    return file && !file.truncated ? new TextDecoder().decode(file.bytes) : null;
  } catch {
    return null;
  }
}

/** npm's default global prefix: $PREFIX, else two folders above the real `node` binary. */
function defaultGlobalPrefix(options: NpmSettingsOptions): string | null {
  if (options.env.PREFIX) return options.env.PREFIX;
  const node = onPath("node", options);
  const real = node && options.files.realpath(node);
  if (!real) return null;
  const prefix = dirname(dirname(real));
  return options.env.DESTDIR ? join(options.env.DESTDIR, prefix) : prefix;
}

function pick(key: string, layers: Layer[]): NpmSetting | undefined {
  for (const layer of layers) {
    const setting = layer.values.get(key);
    if (setting !== undefined) return setting;
  }
  return undefined;
}

export function readNpmSettings(options: NpmSettingsOptions): NpmSettings {
  const notices: string[] = [];
  const env = envLayer(options.env);
  const npmDir = npmFolder(options);
  const builtin = fileLayer(npmDir ? join(npmDir, "npmrc") : null, options, notices);

  const userPath = npmPath(pick("userconfig", [env, builtin])?.value, options) ?? join(options.home, ".npmrc");
  const user = fileLayer(userPath, options, notices);

  const prefix = npmPath(pick("prefix", [env, user, builtin])?.value, options) ?? defaultGlobalPrefix(options);
  const globalSetting = pick("globalconfig", [env, user, builtin]);
  const globalPath = npmPath(globalSetting?.value, options) ?? (prefix ? join(prefix, "etc", "npmrc") : null);
  // npm skips the project file when it is the user file; the same guard for global.
  const global =
    globalPath && globalPath !== userPath ? fileLayer(globalPath, options, notices) : { values: new Map() };

  const layers = [env, user, global, builtin];
  const settings = new Map<string, NpmSetting>();
  for (const layer of [...layers].reverse()) for (const [key, setting] of layer.values) settings.set(key, setting);
  return { settings, notices };
}
