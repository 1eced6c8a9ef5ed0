// The npmrc file format, read and written the way npm does. npm parses npmrc with the
// `ini` package (npm/ini) and then expands ${VAR} in keys and values (@npmcli/config's
// env-replace). `ini` is not a dependency here: this is a port of the part of its
// decode/encode that npmrc uses (top-level `key = value`, `key[] = value` arrays, quoting,
// `;`/`#` comments and escapes). Keys after a [section] header are not npm settings
// (npm would see them as one object-valued key), so they are left out.

export type NpmrcValue = string | boolean | null | Array<string | boolean | null>;

function isQuoted(value: string): boolean {
  return (value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"));
}

/** ini's `unsafe`: unquote a JSON-quoted value, or cut an unquoted one at the first unescaped ; or #. */
function unsafe(raw: string): string {
  const value = raw.trim();
  if (isQuoted(value)) {
    const inner = value.charAt(0) === "'" ? value.slice(1, -1) : value;
    try {
      const parsed = JSON.parse(inner);
      return typeof parsed === "string" ? parsed : String(parsed);
    } catch {
      return inner;
    }
  }
  let escaped = false;
  let out = "";
  for (const c of value) {
    if (escaped) {
      out += "\\;#".includes(c) ? c : `\\${c}`;
      escaped = false;
    } else if (c === ";" || c === "#") {
      break;
    } else if (c === "\\") {
      escaped = true;
    } else {
      out += c;
    }
  }
  if (escaped) out += "\\";
  return out.trim();
}

/** Top-level settings of an npmrc text, in file order (a later duplicate wins, as in npm). */
export function parseNpmrc(text: string): Map<string, NpmrcValue> {
  const out = new Map<string, NpmrcValue>();
  const line = /^\[([^\]]*)\]\s*$|^([^=]+)(=(.*))?$/;
  let inSection = false;
  for (const raw of text.split(/[\r\n]+/)) {
    if (!raw || /^\s*[;#]/.test(raw) || /^\s*$/.test(raw)) continue;
    const match = line.exec(raw);
    if (!match) continue;
    if (match[1] !== undefined) {
      inSection = true;
      continue;
    }
    if (inSection) continue;
    const rawKey = unsafe(match[2]!);
    const isArray = rawKey.length > 2 && rawKey.endsWith("[]");
    const key = isArray ? rawKey.slice(0, -2) : rawKey;
    if (key === "__proto__") continue;
    const text = match[3] ? unsafe(match[4] ?? "") : true;
    const value = text === "true" ? true : text === "false" ? false : text === "null" ? null : text;
    const previous = out.get(key);
    if (isArray) {
      out.set(
        key,
        Array.isArray(previous) ? [...previous, value] : previous === undefined ? [value] : [previous, value],
      );
    } else if (Array.isArray(previous)) {
      out.set(key, [...previous, value]); // ini keeps an array once started
    } else {
      out.set(key, value);
    }
  }
  return out;
}

/**
 * npm's ${VAR} expansion (@npmcli/config env-replace.js): `${NAME}` becomes the variable's
 * value or stays as written when unset; `${NAME?}` becomes "" when unset; a backslash
 * before the `$` keeps the text literal.
 */
export function npmEnvReplace(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g, (orig, esc: string, name: string, modifier?: string) => {
    const value = env[name] !== undefined ? env[name]! : modifier === "?" ? "" : `\${${name}}`;
    if (esc.length % 2) return orig.slice((esc.length + 1) / 2);
    return esc.slice(esc.length / 2) + value;
  });
}

/** ini's `safe`: a value written so that parseNpmrc (and npm) read back exactly `value`. */
function safe(value: string): string {
  if (
    /[=\r\n]/.test(value) ||
    value.startsWith("[") ||
    (value.length > 1 && isQuoted(value)) ||
    value !== value.trim()
  ) {
    return JSON.stringify(value);
  }
  return value.split(";").join("\\;").split("#").join("\\#");
}

/**
 * One npmrc line. The value is already expanded on the host: a `${` left in it is escaped
 * so that npm in the container does not expand it a second time.
 */
export function npmrcLine(key: string, value: string): string {
  const literal = value.replace(/\$\{/g, "\\${");
  return `${safe(key)}=${safe(literal)}`;
}
