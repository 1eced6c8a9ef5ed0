// Names in the order people read them: a2 before a10, "Agent" next to "agent". Digits compare
// as numbers, the rest without regard to case or accents; names equal that way fall back to
// their code points, so the order is total and the same on every machine and locale.
const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A sorted copy. */
export function naturalSort(names: readonly string[]): string[] {
  return [...names].sort(naturalCompare);
}
