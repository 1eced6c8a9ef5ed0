// Path questions asked in more than one place.
import path from "node:path";

/** Whether `child` lies strictly inside the folder `parent` (both absolute). */
export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative !== "" && relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
