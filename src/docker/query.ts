// Query strings as the Engine reads them.
export type Query = Record<string, string | string[] | number | boolean | undefined>;

/** Drops unset values and spells booleans as the Engine does ("1", "0"); an array repeats its key. */
export function engineQuery(query?: Query): Record<string, string | string[]> | undefined {
  if (!query) return undefined;
  const spelled: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) spelled[key] = value;
    else spelled[key] = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
  }
  return spelled;
}
