// A HOME whose npm and pip settings hold a marker in every credential form the registry
// forwarding once missed (issue 23): an npm `key[]` array item, a scoped array, a proxy without
// a scheme, a token in a query string; pip's proxy without a scheme and an index URL's query.
// The marker's pieces are numbered 1-6, so a test can count which ones got through.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function writeSecretFormsHome(home: string, marker: string): void {
  writeFileSync(
    join(home, ".npmrc"),
    [
      "registry[]=https://registry.npmjs.org/",
      `registry[]=https://builder:${marker}-1@npm.corp.example/`,
      `@corp:registry[]=https://builder:${marker}-2@npm.corp.example/corp/`,
      `https-proxy=bob:${marker}-3@proxy.corp.example:3128`,
      `@team:registry=https://npm.team.example/?token=${marker}-4`,
      "",
    ].join("\n"),
  );
  mkdirSync(join(home, ".config/pip"), { recursive: true });
  writeFileSync(
    join(home, ".config/pip/pip.conf"),
    `[global]\nproxy = bob:${marker}-5@proxy.corp.example:3128\nindex-url = https://pypi.corp.example/simple/?token=${marker}-6\n`,
  );
}
