// The check runner is imported as text (`with { type: "text" }`), as util-images/ imports the
// Dockerfiles: Bun (also in a compiled binary) and Deno support it.
declare module "*/runner.sh" {
  const text: string;
  export default text;
}
