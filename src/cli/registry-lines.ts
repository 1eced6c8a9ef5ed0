// The host's registry set-up as the image attempt would get it: setting names and where each
// came from, never a value that could hold a secret.
import type { HostRegistrySetup } from "../host-registries/setup.ts";

export type RegistryReport = Pick<HostRegistrySetup, "shown" | "withheld" | "notices">;

export function registryLines(report: RegistryReport | null): Array<[string, string]> {
  if (!report) return [["registries", "not forwarded (--no-host-registries or AICAGE_UTIL_HOST_REGISTRIES=0)"]];
  const lines: Array<[string, string]> = [];
  if (report.shown.length === 0)
    lines.push(["registries", "nothing to forward: the host names no npm or pip registry, proxy or CA"]);
  for (const item of report.shown) lines.push(["forwarded", `${item.name} ← ${item.source}`]);
  for (const item of report.withheld)
    lines.push(["withheld", `${item.name} ← ${item.source} (--forward-registry-credentials)`]);
  for (const notice of report.notices) lines.push(["skipped", notice]);
  return lines;
}
