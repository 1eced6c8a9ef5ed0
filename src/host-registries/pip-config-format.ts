// pip's config file format: Python's configparser.RawConfigParser with its defaults, which
// is what pip reads pip.conf with (pip/_internal/configuration.py). That is not the npmrc
// `ini` dialect: `:` also separates key and value, indented lines continue a value,
// `#`/`;` start a comment only at the start of a line (so `url # note` keeps the `# note`),
// option names are lower-cased, section names are not, [DEFAULT] feeds every section,
// and there is no %-interpolation (Raw). A file RawConfigParser rejects (no section
// header, a repeated option or section, a line without `=`/`:`) makes pip fail outright;
// here it throws PipConfigError so the caller can skip the file and say so.

export class PipConfigError extends Error {
  override name = "PipConfigError";
}

/** Sections in file order; each maps lower-cased option names to values. */
export type PipConfigSections = Map<string, Map<string, string>>;

export function parsePipConfig(text: string): PipConfigSections {
  const sections: PipConfigSections = new Map();
  const defaults = new Map<string, string[]>();
  const raw = new Map<string, Map<string, string[]>>();
  const seen = new Set<string>();
  let current: Map<string, string[]> | null = null;
  let sectionName = "";
  let option: string | null = null;
  let indentLevel = 0;

  const lines = text.split(/\r\n|\r|\n/);
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    const isComment = line.trim().startsWith("#") || line.trim().startsWith(";");
    const value = isComment ? "" : line.trim();
    if (!value) {
      // An empty line inside a value is kept (empty_lines_in_values), a comment line is not.
      if (!isComment && current && option && current.get(option)) current.get(option)!.push("");
      return;
    }
    const indent = line.search(/\S/);
    if (current && option && indent > indentLevel) {
      current.get(option)!.push(value);
      return;
    }
    indentLevel = indent;
    const header = /^\[(.+)\]/.exec(value);
    if (header) {
      sectionName = header[1]!;
      if (sectionName === "DEFAULT") {
        current = defaults;
      } else {
        if (seen.has(`[${sectionName}]`)) throw new PipConfigError(`line ${lineNo}: section [${sectionName}] repeated`);
        seen.add(`[${sectionName}]`);
        current = raw.get(sectionName) ?? new Map();
        raw.set(sectionName, current);
      }
      option = null;
      return;
    }
    if (!current) throw new PipConfigError(`line ${lineNo}: a setting before any [section] header`);
    const pair = /^(.*?)\s*([=:])\s*(.*)$/.exec(value);
    if (!pair?.[1]) throw new PipConfigError(`line ${lineNo}: not a 'name = value' line`);
    option = pair[1].trimEnd().toLowerCase();
    const id = `${sectionName}\u0000${option}`;
    if (seen.has(id)) throw new PipConfigError(`line ${lineNo}: '${option}' repeated in [${sectionName}]`);
    seen.add(id);
    current.set(option, [pair[3]!.trim()]);
  });

  const join = (parts: string[]) => parts.join("\n").trimEnd();
  for (const [name, options] of raw) {
    const merged = new Map<string, string>();
    for (const [key, parts] of defaults) merged.set(key, join(parts));
    for (const [key, parts] of options) merged.set(key, join(parts));
    sections.set(name, merged);
  }
  return sections;
}

/** pip's _normalize_name: one spelling for names from files and from PIP_* variables. */
export function pipOptionName(name: string): string {
  const normal = name.toLowerCase().replace(/_/g, "-");
  return normal.startsWith("--") ? normal.slice(2) : normal;
}

/** A pip.conf text for the given sections; list values go one per continuation line. */
export function pipConfigText(sections: Map<string, Map<string, string[]>>): string {
  const out: string[] = [];
  for (const [name, options] of sections) {
    if (options.size === 0) continue;
    out.push(`[${name}]`);
    for (const [key, values] of options) {
      if (values.length === 1) out.push(`${key} = ${values[0]}`);
      else out.push(`${key} =`, ...values.map((v) => `    ${v}`));
    }
    out.push("");
  }
  return out.join("\n");
}
