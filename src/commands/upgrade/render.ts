// The human form of an upgrade's outcome: one line.
import type { UpgradeResult } from "../../self-update/upgrade.ts";

export function upgradeLine(result: UpgradeResult, checkOnly: boolean): string {
  const { current, available } = result;
  if (result.upgraded) return `upgraded ${result.binary} from ${current} to ${available}`;
  if (checkOnly)
    return result.newer
      ? `aicage-util ${available} is out (this is ${current}): run 'aicage-util upgrade'`
      : `aicage-util ${current} is the newest release`;
  if (current === available) return `aicage-util ${current} is the newest release; nothing to do`;
  return `aicage-util ${current} is newer than the newest release (${available}); nothing to do`;
}
