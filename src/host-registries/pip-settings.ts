// The pip settings of the host, resolved the way pip does (pip/_internal/configuration.py,
// cli/parser.py) without running pip. Files, lowest first: global (each $XDG_CONFIG_DIRS
// folder, default /etc/xdg, + /pip/pip.conf, then /etc/pip.conf), user (~/.pip/pip.conf,
// then $XDG_CONFIG_HOME or ~/.config + /pip/pip.conf), then $PIP_CONFIG_FILE; a later file
// overrides an earlier one key by key. $PIP_CONFIG_FILE naming an existing file skips the
// user files; naming /dev/null skips every file. PIP_<NAME> variables come last and beat
// everything. Sections are not merged here: pip applies [global], then the command's own
// section ([install], [download], [index]), then the variables, so a command section beats
// [global] whichever file either came from. The virtualenv's own pip.conf (sys.prefix) is
// not read: it belongs to a Python on the host that the container does not run.
import { join } from "node:path";
import type { HostFiles } from "./host-files.ts";
import { readFailure } from "./host-files.ts";
import { PipConfigError, parsePipConfig, pipOptionName } from "./pip-config-format.ts";

export interface PipSetting {
  value: string;
  /** a file path or `$PIP_NAME` */
  source: string;
}

export interface PipSettings {
  /** section name → option name (pip's spelling) → winning value */
  sections: Map<string, Map<string, PipSetting>>;
  /** PIP_* variables, by option name */
  env: Map<string, PipSetting>;
  notices: string[];
}

export interface PipSettingsOptions {
  env: Record<string, string | undefined>;
  home: string;
  platform: NodeJS.Platform;
  files: HostFiles;
}

const MAX_PIP_CONF_BYTES = 1024 * 1024;
const DEV_NULL = "/dev/null";

/** The config files pip reads, lowest priority first, with the rule about the user files. */
function pipConfigFiles(options: PipSettingsOptions): string[] {
  const { env, home, platform } = options;
  const configFile = env.PIP_CONFIG_FILE;
  if (configFile === DEV_NULL) return [];
  const expandHome = (path: string) => (path === "~" || path.startsWith("~/") ? join(home, path.slice(1)) : path);

  let global: string[];
  let user: string;
  if (platform === "darwin") {
    global = ["/Library/Application Support/pip/pip.conf"];
    const appSupport = join(home, "Library", "Application Support", "pip");
    user = join(options.files.isDirectory(appSupport) ? appSupport : join(home, ".config", "pip"), "pip.conf");
  } else {
    const dirs = env.XDG_CONFIG_DIRS?.trim() ? env.XDG_CONFIG_DIRS.split(":") : ["/etc/xdg"];
    global = [...dirs.filter(Boolean).map((dir) => join(expandHome(dir), "pip", "pip.conf")), "/etc/pip.conf"];
    const configHome = env.XDG_CONFIG_HOME?.trim() ? expandHome(env.XDG_CONFIG_HOME) : join(home, ".config");
    user = join(configHome, "pip", "pip.conf");
  }
  const files = [...global];
  const configFileExists = configFile !== undefined && configFile !== "" && exists(configFile, options.files);
  if (!configFileExists) files.push(join(home, ".pip", "pip.conf"), user);
  if (configFile) files.push(configFile);
  return files;
}

function exists(path: string, files: HostFiles): boolean {
  try {
    return files.read(path, 0) !== null;
  } catch {
    return true; // there but unreadable: pip would see it exists
  }
}

export function readPipSettings(options: PipSettingsOptions): PipSettings {
  const notices: string[] = [];
  const sections = new Map<string, Map<string, PipSetting>>();
  for (const path of pipConfigFiles(options)) {
    let file: ReturnType<HostFiles["read"]>;
    try {
      file = options.files.read(path, MAX_PIP_CONF_BYTES);
    } catch (error) {
      notices.push(`${path}: not read (${readFailure(error)})`);
      continue;
    }
    if (!file) continue;
    if (file.truncated) {
      notices.push(`${path}: not read (larger than ${MAX_PIP_CONF_BYTES} bytes)`);
      continue;
    }
    let parsed: ReturnType<typeof parsePipConfig>;
    try {
      parsed = parsePipConfig(new TextDecoder().decode(file.bytes));
    } catch (error) {
      if (!(error instanceof PipConfigError)) throw error;
      // pip itself stops on such a file; the image attempt goes on without it.
      notices.push(`${path}: not used, pip cannot parse it (${error.message})`);
      continue;
    }
    for (const [section, options] of parsed) {
      const target = sections.get(section) ?? new Map<string, PipSetting>();
      sections.set(section, target);
      for (const [name, value] of options) target.set(pipOptionName(name), { value, source: path });
    }
  }

  const env = new Map<string, PipSetting>();
  for (const [name, value] of Object.entries(options.env)) {
    // pip reads variables starting with "PIP_" exactly (case matters), version/help aside.
    if (value === undefined || !name.startsWith("PIP_")) continue;
    const option = pipOptionName(name.slice(4));
    if (option === "version" || option === "help") continue;
    env.set(option, { value, source: `$${name}` });
  }
  return { sections, env, notices };
}
