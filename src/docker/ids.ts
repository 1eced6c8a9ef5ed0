// Engine object IDs as people see them: the first 12 hex digits, without "sha256:".
export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}
