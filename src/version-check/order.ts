// Where a check runs and in which order. Image first, then host, by default; the
// order is a setting (flag or environment) so it can be reversed without code changes.
import { UsageError } from "../core/errors.ts";
import type { CheckPlace } from "../core/progress.ts";

export type { CheckPlace } from "../core/progress.ts";

const PLACES: readonly CheckPlace[] = ["image", "host"];
const DEFAULT_ORDER: CheckPlace[] = ["image", "host"];

function parseOrder(value: string, origin: string): CheckPlace[] {
  const places = value
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const bad = places.filter((p) => !PLACES.includes(p as CheckPlace));
  if (places.length === 0 || bad.length > 0 || new Set(places).size !== places.length) {
    throw new UsageError(`${origin} must be image,host or host,image (or one of them), not '${value}'`);
  }
  return places as CheckPlace[];
}

/**
 * --compare runs both places, image first, whatever else is set; else --only wins over
 * --order, which wins over AICAGE_VERSION_CHECK_ORDER. (--only's values are the CLI's to check.)
 */
export function checkOrder(options: {
  order?: string;
  only?: CheckPlace;
  compare?: boolean;
  env?: Record<string, string | undefined>;
}): CheckPlace[] {
  if (options.compare) return ["image", "host"];
  if (options.order && options.only) throw new UsageError("use --order or --only, not both");
  if (options.only) return [options.only];
  if (options.order) return parseOrder(options.order, "--order");
  const fromEnv = (options.env ?? process.env).AICAGE_VERSION_CHECK_ORDER;
  if (fromEnv) return parseOrder(fromEnv, "AICAGE_VERSION_CHECK_ORDER");
  return [...DEFAULT_ORDER];
}
