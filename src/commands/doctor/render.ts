// The human form of the doctor report: label, value, one line each.
import { registryLines } from "../../cli/registry-lines.ts";
import { leftoverWords } from "../../cli/leftovers.ts";
import { shortId } from "../../docker/ids.ts";
import type { DoctorReport } from "../../doctor/report.ts";

const yesNo = (value: boolean | null) => (value === null ? "unknown" : value ? "yes" : "no");

function buildWays(apiBuilder: string | null, ways: { api: boolean; builder: boolean } | null): string {
  const api = `--via api (${apiBuilder === "buildah" ? "buildah" : "BuildKit"})`;
  if (ways?.builder) return `${api}, --via builder (buildx in the builder image)`;
  return `${api}; --via builder is not possible here and goes through the API`;
}

export function formatDoctorReport(report: DoctorReport): string {
  const { tool, endpoint, engine } = report;
  const lines: Array<[string, string]> = [
    ["aicage-util", `${tool.version} (${tool.revision}) on ${tool.runtime}, ${tool.platform}`],
    ["endpoint", `${endpoint.address} (${endpoint.source})`],
  ];
  if (!engine.reachable) {
    lines.push(["engine", `not usable: ${engine.error?.message ?? "unknown error"}`]);
    lines.push(["version checks", "will run on the host only until an engine answers"]);
  } else {
    lines.push(
      [
        "engine",
        `${engine.product === "unknown" ? "unknown engine" : engine.product} ${engine.version}, API ${engine.apiVersion} (using ${engine.usedApiVersion})`,
      ],
      ["system", `${engine.operatingSystem ?? "?"}, ${engine.os}/${engine.arch}, kernel ${engine.kernel ?? "?"}`],
      ["storage driver", engine.storageDriver ?? "unknown"],
      ["rootless", yesNo(engine.rootless)],
      ["builds", buildWays(engine.apiBuilder, engine.buildWays)],
    );
    for (const image of report.images) {
      const state = !image.present
        ? "missing (pulled or built on first use)"
        : image.current
          ? `present, current (${shortId(image.id ?? "")})`
          : `present, outdated (version ${image.version ?? "unknown"}; rebuilt on first use)`;
      lines.push([`${image.kind} image`, `${image.ref}: ${state}`]);
    }
  }
  // What version checks in the image get of the host's npm, pip and CA set-up.
  lines.push(...registryLines(report.hostRegistries));
  for (const item of report.hostRegistries?.buildSteps ?? [])
    lines.push(["builds get", `${item.name} ← ${item.source}`]);
  const removed = leftoverWords(report.leftovers);
  if (removed) lines.push(["leftovers", `removed ${removed} left by killed runs`]);
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}
