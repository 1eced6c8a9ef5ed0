// Validates --json outputs against the schemas in schemas/ with Ajv (JSON Schema 2020-12,
// strict mode: a schema with a typo is an error, not a schema that accepts everything).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";

export const SCHEMA_DIR = join(import.meta.dir, "..", "..", "schemas");

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".schema.json"))) {
  validators.set(
    file.replace(/\.schema\.json$/, ""),
    ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, file), "utf8"))),
  );
}

/** The names of the schemas: "doctor", "build", "error", … */
export const schemaNames = () => [...validators.keys()].sort();

/** Throws, naming every violation, unless `value` is valid under schemas/<name>.schema.json. */
export function validateJson(name: string, value: unknown): void {
  const validate = validators.get(name);
  if (!validate) throw new Error(`no schema schemas/${name}.schema.json`);
  if (!validate(value)) {
    throw new Error(
      `output does not match schemas/${name}.schema.json: ${ajv.errorsText(validate.errors, { separator: "; " })}\n${JSON.stringify(value, null, 2)}`,
    );
  }
}
