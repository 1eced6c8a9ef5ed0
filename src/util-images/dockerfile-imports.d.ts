// Dockerfiles are imported as text (`with { type: "text" }`), supported by Bun and Deno.
declare module "*/Dockerfile" {
  const text: string;
  export default text;
}
