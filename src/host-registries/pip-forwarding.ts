// The host's pip settings that the container's pip should have, as the text of its
// pip.conf: index-url, extra-index-url, trusted-host and proxy in [global], [install],
// [download] and [index], kept apart as pip applies them. PIP_* variables beat every
// section: they are folded into [global] and dropped from the command sections, which
// pip would otherwise let win over [global]. Local indexes (file:, paths) are left out;
// URLs with credentials only when asked. pip's `cert` becomes a CA source instead.
import { resolve } from "node:path";
import type { Findings } from "./findings.ts";
import { pipConfigText } from "./pip-config-format.ts";
import type { PipSetting, PipSettings } from "./pip-settings.ts";
import { isHostPath, urlHasCredentials } from "./url-credentials.ts";

/** The sections pip reads for `pip install`, `pip download` and `pip index`, over [global]. */
const PIP_SECTIONS = ["global", "install", "download", "index"];
const SINGLE_URL = ["index-url", "proxy"];
const URL_LISTS = ["extra-index-url"];
const HOST_LISTS = ["trusted-host"];

type Labelled = PipSetting & { label: string };

export interface PipConfForContainer {
  text: string | null;
  hasCredentials: boolean;
}

export function pipConfForContainer(
  pip: PipSettings,
  forward: boolean,
  cwd: string,
  findings: Findings,
): PipConfForContainer {
  const sections = new Map<string, Map<string, Labelled>>();
  for (const section of PIP_SECTIONS) {
    const options = new Map<string, Labelled>();
    for (const [key, setting] of pip.sections.get(section) ?? [])
      options.set(key, { ...setting, label: `${section}.${key}` });
    sections.set(section, options);
  }
  for (const [key, setting] of pip.env) {
    if (!setting.value) continue; // pip ignores empty values
    for (const section of PIP_SECTIONS) sections.get(section)!.delete(key);
    sections.get("global")!.set(key, { ...setting, label: `:env:.${key}` });
  }

  let hasCredentials = false;
  const out = new Map<string, Map<string, string[]>>();
  for (const [section, options] of sections) {
    const written = new Map<string, string[]>();
    for (const [key, setting] of options) {
      if (!setting.value) continue;
      const name = `pip ${setting.label}`;
      if (key === "cert") {
        findings.caSources.push({
          origin: `${name} (${setting.source})`,
          kind: "file",
          value: resolve(cwd, setting.value),
        });
        continue;
      }
      const isList = URL_LISTS.includes(key) || HOST_LISTS.includes(key);
      if (!isList && !SINGLE_URL.includes(key)) continue;
      const items = isList ? setting.value.split(/\s+/).filter(Boolean) : [setting.value.trim()];
      const kept: string[] = [];
      let hidden = 0;
      let local = 0;
      for (const item of items) {
        if (HOST_LISTS.includes(key)) kept.push(item);
        else if (isHostPath(item)) local++;
        else if (urlHasCredentials(item) && !forward) hidden++;
        else {
          if (urlHasCredentials(item)) {
            hasCredentials = true;
            findings.credentialValues.push(item);
          }
          kept.push(item);
        }
      }
      const count = (n: number) => (items.length > 1 ? ` (${n} of ${items.length})` : "");
      if (hidden) findings.withheld.push({ name: `${name}${count(hidden)}`, source: setting.source });
      if (local)
        findings.notices.push(
          `${name} (${setting.source}): ${local} local ${local === 1 ? "index" : "indexes"} left out (a host path)`,
        );
      if (kept.length) {
        written.set(key, kept);
        findings.shown.push({ name: `${name}${count(kept.length)}`, source: setting.source });
      }
    }
    if (written.size) out.set(section, written);
  }
  return { text: out.size ? pipConfigText(out) : null, hasCredentials };
}
