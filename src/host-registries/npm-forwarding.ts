// The host's npm settings that the container's npm should have, as the text of its
// ~/.npmrc: registries (default and per scope), strict-ssl, proxies, noproxy; credentials
// only when asked. npm's `cafile` and `ca` become CA sources instead: the container points
// npm at the combined bundle.
import type { Findings } from "./findings.ts";
import { type NpmSetting, type NpmSettings, npmPath } from "./npm-settings.ts";
import { npmrcLine } from "./npmrc-format.ts";
import { anyHasCredentials } from "./url-credentials.ts";

const NPM_PLAIN = ["strict-ssl", "noproxy"];
const NPM_URLS = ["registry", "proxy", "https-proxy"];
const SCOPED_REGISTRY = /^@[^:/\s]+:registry$/;
/** npm credential settings, bare or per registry ("//host/path/:_authToken"). */
const NPM_CREDENTIAL = /^(?:\/\/[^\s]*:)?(?:_authtoken|-authtoken|_auth|_password|password|username)$/i;
/** mTLS client certificate settings: paths to host files, never forwarded. */
const NPM_CLIENT_CERT = /^(?:\/\/[^\s]*:)?(?:certfile|keyfile)$/i;

/** A setting's values as text: one, or each item of a `key[]` array; empty when unset/empty/null. */
function settingTexts(value: NpmSetting["value"]): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.filter((v): v is string | boolean => v !== null && v !== undefined && v !== "").map(String);
}

/** npm's `ca` may be written with "\n" for each line break. */
function inlinePem(value: string): string {
  return value.includes("\n") ? value : value.replace(/\\n/g, "\n");
}

export interface NpmrcForContainer {
  /** null when there is nothing to write */
  text: string | null;
  hasCredentials: boolean;
}

export function npmrcForContainer(
  npm: NpmSettings,
  forward: boolean,
  paths: { home: string; cwd: string },
  findings: Findings,
): NpmrcForContainer {
  const keys = [...npm.settings.keys()];
  const ordered = [
    "registry",
    ...keys.filter((k) => SCOPED_REGISTRY.test(k)).sort(),
    ...NPM_PLAIN,
    "proxy",
    "https-proxy",
    ...keys.filter((k) => NPM_CREDENTIAL.test(k)).sort(),
  ];
  const lines: string[] = [];
  let hasCredentials = false;
  for (const key of new Set(ordered)) {
    const setting = npm.settings.get(key);
    const values = setting ? settingTexts(setting.value) : [];
    if (!setting || values.length === 0) continue;
    const name = `npm ${key}`;
    const isUrl = NPM_URLS.includes(key) || SCOPED_REGISTRY.test(key);
    // Each item of an array on its own: `registry[]=https://a/` then `registry[]=https://u:p@b/`.
    const isCredential = NPM_CREDENTIAL.test(key) || (isUrl && anyHasCredentials(values));
    if (isCredential && !forward) {
      findings.withheld.push({ name, source: setting.source });
      continue;
    }
    hasCredentials ||= isCredential;
    if (isCredential) findings.credentialValues.push(...values);
    lines.push(npmrcLine(key, values.join(",")));
    findings.shown.push({ name, source: setting.source });
  }
  for (const key of keys.filter((k) => NPM_CLIENT_CERT.test(k)).sort()) {
    findings.withheld.push({ name: `npm ${key}`, source: npm.settings.get(key)!.source });
    findings.notices.push(`npm ${key}: client certificates are not forwarded`);
  }

  const cafile = npm.settings.get("cafile");
  const cafilePath = cafile && npmPath(cafile.value, paths);
  if (cafile && cafilePath)
    findings.caSources.push({ origin: `npm cafile (${cafile.source})`, kind: "file", value: cafilePath });
  const ca = npm.settings.get("ca");
  for (const item of ca ? (Array.isArray(ca.value) ? ca.value : [ca.value]) : []) {
    if (typeof item === "string" && item)
      findings.caSources.push({ origin: `npm ca (${ca!.source})`, kind: "pem", value: inlinePem(item) });
  }
  return { text: lines.length ? `${lines.join("\n")}\n` : null, hasCredentials };
}
