// The human form of `images ls`: one table row per util image.
import { shortId } from "../../docker/ids.ts";
import type { UtilImageRow } from "../../util-images/list.ts";
import { formatTable } from "../../cli/output.ts";

const size = (bytes: number | null) => (bytes === null ? "-" : `${(bytes / 1e6).toFixed(0)} MB`);
const state = (row: UtilImageRow) =>
  !row.present ? "missing" : row.current ? "current" : row.expected ? "outdated" : "other version";

export function formatUtilImages(rows: UtilImageRow[]): string {
  return formatTable(
    ["KIND", "IMAGE", "ID", "SIZE", "VERSION", "STATE"],
    rows.map((r) => [r.kind, r.name, r.id ? shortId(r.id) : "-", size(r.size), r.version ?? "-", state(r)]),
  );
}

/** `built` false: another process built it while this one waited for the lock. */
export function utilImageBuiltLine(tag: string, id: string, built = true): string {
  return built ? `built ${tag} (${shortId(id)})` : `${tag} (${shortId(id)}) was built by another aicage-util meanwhile`;
}
