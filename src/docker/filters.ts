// Label filters in the Engine's `filters` query format: {"label":["k=v", "k"]}.
export function labelFilters(labels: Record<string, string | true>): string {
  const label = Object.entries(labels).map(([key, value]) => (value === true ? key : `${key}=${value}`));
  return JSON.stringify({ label });
}
