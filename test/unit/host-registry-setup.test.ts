import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_CA_PEM_BYTES, pemCertificates } from "../../src/host-registries/ca-certificates.ts";
import { type HostRegistrySetup, hostRegistrySetup } from "../../src/host-registries/setup.ts";
import { layOut, link, rootedHostFiles } from "../helpers/rooted-host-files.ts";

const CERTS = join(import.meta.dir, "..", "fixtures", "host-registries");
const cert = (name: string) => readFileSync(join(CERTS, `${name}.pem`), "utf8");
const CORP = cert("corp-root");
const PROXY = cert("proxy-inspection");
const TEAM = cert("team-ca");

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fresh host under a temp folder: node and npm as a Node.js tarball install puts them in /usr. */
function host(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "aicage-host-"));
  roots.push(root);
  layOut(root, {
    "/usr/bin/node": "#!/bin/sh\n",
    "/usr/lib/node_modules/npm/bin/npm-cli.js": "#!/usr/bin/env node\n",
    "/usr/lib/node_modules/npm/package.json": '{"name":"npm","version":"11.0.0"}',
    ...files,
  });
  link(root, "/usr/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js");
  mkdirSync(join(root, "home/dev"), { recursive: true });
  return root;
}

const BASE_ENV = { HOME: "/home/dev", PATH: "/usr/local/bin:/usr/bin:/bin" };

function setup(root: string, env: Record<string, string> = {}, forwardCredentials = false): HostRegistrySetup {
  return hostRegistrySetup({
    env: { ...BASE_ENV, ...env },
    cwd: "/home/dev",
    platform: "linux",
    forwardCredentials,
    files: rootedHostFiles(root),
  });
}

const fileText = (result: HostRegistrySetup, path: string) => {
  const file = result.files.find((f) => f.path === path);
  return file ? new TextDecoder().decode(file.content) : null;
};
const NPMRC = "/home/aicage/.npmrc";
const PIPCONF = "/home/aicage/.config/pip/pip.conf";
const HOSTCA = "/home/aicage/.aicage-util/host-ca.pem";

/** Every string in the result, files decoded: nothing secret may be anywhere in it. */
function everything(result: HostRegistrySetup): string {
  return JSON.stringify({
    ...result,
    files: result.files.map((f) => ({ ...f, content: new TextDecoder().decode(f.content) })),
  });
}

describe("npm settings", () => {
  const SECRET = "npm_Zq8secretTOKENvalue";
  const corporateHost = () =>
    host({
      // the global npmrc of a /usr install: <prefix>/etc/npmrc, prefix = two folders above node
      "/usr/etc/npmrc": [
        "; set by IT",
        "registry=https://registry.npmjs.org/",
        "cafile=/etc/corp/ca-bundle.pem",
        "strict-ssl=true",
      ].join("\n"),
      "/home/dev/.npmrc": [
        "registry = https://npm.mirror.corp.example/api/npm/npm-all/",
        "@corp:registry=https://npm.corp.example/repository/npm-private/",
        "//npm.corp.example/repository/npm-private/:_authToken=${NPM_TOKEN}",
        "//npm.corp.example/repository/npm-private/:always-auth=true",
        "https-proxy=http://proxy.corp.example:3128",
        "noproxy[]=.corp.example",
        "noproxy[]=localhost",
        "fund=false",
      ].join("\n"),
      "/etc/corp/ca-bundle.pem": `# corporate roots\n${CORP}${PROXY}`,
      "/etc/npmrc": "registry=https://not-this-npms-global.example/\n",
    });

  test("user npmrc beats the global one; scoped registries, proxies and CA files come along; the token stays home", () => {
    const result = setup(corporateHost(), { NPM_TOKEN: SECRET });
    expect(fileText(result, NPMRC)).toBe(
      [
        "registry=https://npm.mirror.corp.example/api/npm/npm-all/",
        "@corp:registry=https://npm.corp.example/repository/npm-private/",
        "strict-ssl=true",
        "noproxy=.corp.example,localhost",
        "https-proxy=http://proxy.corp.example:3128",
        "",
      ].join("\n"),
    );
    expect(result.files.find((f) => f.path === NPMRC)!.mode).toBe(0o644);
    expect(result.shown.filter((s) => s.name.startsWith("npm "))).toEqual([
      { name: "npm registry", source: "/home/dev/.npmrc" },
      { name: "npm @corp:registry", source: "/home/dev/.npmrc" },
      { name: "npm strict-ssl", source: "/usr/etc/npmrc" },
      { name: "npm noproxy", source: "/home/dev/.npmrc" },
      { name: "npm https-proxy", source: "/home/dev/.npmrc" },
    ]);
    expect(result.withheld).toEqual([
      { name: "npm //npm.corp.example/repository/npm-private/:_authToken", source: "/home/dev/.npmrc" },
    ]);
    expect(everything(result)).not.toContain(SECRET);
    // the CA file npm names reaches the container, each certificate once
    expect(result.caCertificates).toBe(pemCertificates(CORP + PROXY).join(""));
    expect(result.shown).toContainEqual({
      name: "CA /etc/corp/ca-bundle.pem (2 certificates)",
      source: "npm cafile (/usr/etc/npmrc)",
    });
  });

  test("forwarding credentials writes the expanded token, readable by the owner only", () => {
    const result = setup(corporateHost(), { NPM_TOKEN: SECRET }, true);
    const npmrc = fileText(result, NPMRC)!;
    expect(npmrc).toContain(`//npm.corp.example/repository/npm-private/:_authToken=${SECRET}\n`);
    expect(result.files.find((f) => f.path === NPMRC)!.mode).toBe(0o600);
    expect(result.withheld).toEqual([]);
    expect(result.shown).toContainEqual({
      name: "npm //npm.corp.example/repository/npm-private/:_authToken",
      source: "/home/dev/.npmrc",
    });
    // shown/withheld/notices never hold the value, even when it is forwarded
    expect(JSON.stringify([result.shown, result.withheld, result.notices, result.env])).not.toContain(SECRET);
  });

  test("npm_config_* variables beat the files, in either case; empty ones are ignored", () => {
    const result = setup(corporateHost(), {
      NPM_CONFIG_REGISTRY: "https://env.mirror.example/npm/",
      npm_config_https_proxy: "http://env-proxy.example:8080",
      NPM_CONFIG_STRICT_SSL: "false",
      npm_config_noproxy: "",
    });
    const npmrc = fileText(result, NPMRC)!;
    expect(npmrc).toContain("registry=https://env.mirror.example/npm/\n");
    expect(npmrc).toContain("https-proxy=http://env-proxy.example:8080\n");
    expect(npmrc).toContain("strict-ssl=false\n");
    expect(npmrc).toContain("noproxy=.corp.example,localhost\n");
    expect(result.shown).toContainEqual({ name: "npm registry", source: "$NPM_CONFIG_REGISTRY" });
    expect(result.shown).toContainEqual({ name: "npm https-proxy", source: "$npm_config_https_proxy" });
    expect(result.shown).toContainEqual({ name: "npm strict-ssl", source: "$NPM_CONFIG_STRICT_SSL" });
  });

  test("NPM_CONFIG_USERCONFIG moves the user file; its globalconfig moves the global one", () => {
    const root = host({
      "/work/ci.npmrc": "registry=https://ci.mirror.example/\nglobalconfig=~/global.npmrc\n",
      "/home/dev/global.npmrc": "@team:registry=https://team.example/npm/\n",
      "/home/dev/.npmrc": "registry=https://not-read.example/\n",
      "/usr/etc/npmrc": "@other:registry=https://not-read-either.example/\n",
    });
    const result = setup(root, { NPM_CONFIG_USERCONFIG: "/work/ci.npmrc" });
    expect(fileText(result, NPMRC)).toBe(
      "registry=https://ci.mirror.example/\n@team:registry=https://team.example/npm/\n",
    );
    expect(result.shown).toEqual([
      { name: "npm registry", source: "/work/ci.npmrc" },
      { name: "npm @team:registry", source: "/home/dev/global.npmrc" },
    ]);
  });

  test("a distribution's builtin npmrc (Debian: globalconfig=/etc/npmrc) is followed", () => {
    const root = host({
      "/usr/share/nodejs/npm/bin/npm-cli.js": "#!/usr/bin/env node\n",
      "/usr/share/nodejs/npm/package.json": '{"name":"npm","version":"9.2.0"}',
      "/usr/share/nodejs/npm/npmrc":
        "# DO NOT MODIFY THIS FILE - use /etc/npmrc instead.\nglobalconfig=/etc/npmrc\nprefix=/usr/local\n",
      "/etc/npmrc": "registry=https://debian-global.example/\n",
      "/usr/local/etc/npmrc": "registry=https://not-read.example/\n",
    });
    rmSync(join(root, "usr/bin/npm"));
    link(root, "/usr/bin/npm", "../share/nodejs/npm/bin/npm-cli.js");
    const result = setup(root);
    expect(fileText(result, NPMRC)).toBe("registry=https://debian-global.example/\n");
    expect(result.shown).toEqual([{ name: "npm registry", source: "/etc/npmrc" }]);
  });

  test("PREFIX and a prefix setting choose the global npmrc the way npm does", () => {
    const root = host({
      "/opt/node/etc/npmrc": "registry=https://from-PREFIX.example/\n",
      "/srv/npm-prefix/etc/npmrc": "registry=https://from-prefix-setting.example/\n",
    });
    expect(fileText(setup(root, { PREFIX: "/opt/node" }), NPMRC)).toBe("registry=https://from-PREFIX.example/\n");
    expect(fileText(setup(root, { PREFIX: "/opt/node", npm_config_prefix: "/srv/npm-prefix" }), NPMRC)).toBe(
      "registry=https://from-prefix-setting.example/\n",
    );
  });

  test("cafile is a path as npm reads it: ~/ is the home folder, a relative one the current folder", () => {
    const root = host({ "/home/dev/.npmrc": "cafile=~/certs/corp.pem\n", "/home/dev/certs/corp.pem": CORP });
    expect(setup(root).shown).toEqual([
      { name: "CA /home/dev/certs/corp.pem (1 certificate)", source: "npm cafile (/home/dev/.npmrc)" },
    ]);
    layOut(root, { "/home/dev/.npmrc": "cafile=certs/corp.pem\n" });
    expect(setup(root).caCertificates).toBe(pemCertificates(CORP).join(""));
  });

  test("no node and no npm on PATH: the user npmrc and the variables still count", () => {
    const root = host({
      "/home/dev/.npmrc": "registry=https://user.example/\n",
      "/usr/etc/npmrc": "strict-ssl=false\n",
    });
    const result = setup(root, { PATH: "/nowhere" });
    expect(fileText(result, NPMRC)).toBe("registry=https://user.example/\n");
  });

  test("${VAR} expansion as npm does it: unset stays literal, ${VAR?} empties, \\${ is literal", () => {
    const root = host({
      "/home/dev/.npmrc": [
        "registry=https://${MIRROR_HOST}/npm/",
        "@a:registry=https://${UNSET_HOST}/a/",
        "@b:registry=https://b.example/${UNSET_PATH?}npm/",
        "@c:registry=https://c.example/\\${NOT_EXPANDED}/",
        "@${SCOPE}:registry=https://scoped.example/",
      ].join("\n"),
    });
    const result = setup(root, { MIRROR_HOST: "mirror.example", SCOPE: "team" });
    expect(fileText(result, NPMRC)).toBe(
      [
        "registry=https://mirror.example/npm/",
        // npm in the container must not expand these a second time: the `${` is escaped
        "@a:registry=https://\\${UNSET_HOST}/a/",
        "@b:registry=https://b.example/npm/",
        "@c:registry=https://c.example/\\${NOT_EXPANDED}/",
        "@team:registry=https://scoped.example/",
        "",
      ].join("\n"),
    );
  });

  test("every credential form is withheld: bare and per-registry tokens, _auth, passwords, URLs with a password", () => {
    const secrets = ["tok-bare-1", "dXNlcjpwYXNz", "cGFzc3dvcmQ=", "proxy-pass-9", "registry-pass-7", "tok-env-3"];
    const root = host({
      "/home/dev/.npmrc": [
        `_authToken=${secrets[0]}`,
        `//npm.corp.example/:_auth=${secrets[1]}`,
        "//npm.corp.example/:username=builder",
        `//npm.corp.example/:_password=${secrets[2]}`,
        `proxy=http://builder:${secrets[3]}@proxy.corp.example:3128`,
        `@corp:registry=https://builder:${secrets[4]}@npm.corp.example/`,
        "//npm.corp.example/:certfile=/home/dev/client.crt",
        "//npm.corp.example/:keyfile=/home/dev/client.key",
        "registry=https://npm.corp.example/",
      ].join("\n"),
    });
    const result = setup(root, { "npm_config_//npm.corp.example/:_authToken": secrets[5]! });
    expect(fileText(result, NPMRC)).toBe("registry=https://npm.corp.example/\n");
    expect(result.withheld.map((w) => w.name).sort()).toEqual(
      [
        "npm //npm.corp.example/:_auth",
        "npm //npm.corp.example/:_authToken",
        "npm //npm.corp.example/:_password",
        "npm //npm.corp.example/:certfile",
        "npm //npm.corp.example/:keyfile",
        "npm //npm.corp.example/:username",
        "npm @corp:registry",
        "npm _authToken",
        "npm proxy",
      ].sort(),
    );
    expect(result.withheld).toContainEqual({
      name: "npm //npm.corp.example/:_authToken",
      source: "$npm_config_//npm.corp.example/:_authToken",
    });
    const all = everything(result);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });

  test("values that need quoting survive the round trip (ini quoting as npm reads it)", () => {
    const root = host({ "/home/dev/.npmrc": 'registry="https://mirror.example/npm/tenant=a;b#c"\n' });
    const result = setup(root);
    expect(fileText(result, NPMRC)).toBe('registry="https://mirror.example/npm/tenant=a;b#c"\n');
  });
});

describe("credentials in every form npm and pip read (issue 23)", () => {
  const fixture = (name: string) => readFileSync(join(CERTS, name), "utf8");
  const NPM_SECRETS = [
    "npm-array-Secret1",
    "npm-scope-Secret2",
    "npm-proxy-Secret3",
    "npm-query-Secret4",
    "npm-query-Secret5",
  ];
  const PIP_SECRETS = ["pip-proxy-Secret6", "pip-query-Secret7", "pip-query-Secret8"];
  /** find-links is never forwarded (local wheels, mostly): its token neither. */
  const FIND_LINKS_SECRET = "pip-query-Secret9";
  const ENV_SECRETS = ["env-proxy-Secret10", "env-proxy-Secret11", "env-query-Secret12", "env-array-Secret13"];
  const SECRETS = [...NPM_SECRETS, ...PIP_SECRETS, FIND_LINKS_SECRET, ...ENV_SECRETS];
  const recordedHost = () =>
    host({
      "/home/dev/.npmrc": fixture("secret-forms.npmrc"),
      "/home/dev/.config/pip/pip.conf": fixture("secret-forms.pip.conf"),
    });
  /** The same forms in variables, as npm and pip read them, on a host without files. */
  const ENV = {
    NPM_CONFIG_HTTPS_PROXY: `ci:${ENV_SECRETS[0]}@proxy.ci.example:8080`,
    PIP_PROXY: `ci:${ENV_SECRETS[1]}@proxy.ci.example:8080`,
    PIP_EXTRA_INDEX_URL: `https://ci.example/simple/ https://ci.example/private/?key=${ENV_SECRETS[2]}`,
  };
  const named = (result: HostRegistrySetup) => result.withheld.map((w) => `${w.name} ← ${w.source}`).sort();

  test("in files: array items, proxies without a scheme and query strings are withheld whole; nothing of them anywhere", () => {
    const result = setup(recordedHost());
    expect(fileText(result, NPMRC)).toBe("strict-ssl=true\n");
    expect(fileText(result, PIPCONF)).toBe(
      "[global]\nextra-index-url = https://public.corp.example/simple/\ntrusted-host = pypi.corp.example\n",
    );
    expect(named(result)).toEqual(
      [
        "npm registry ← /home/dev/.npmrc",
        "npm @corp:registry ← /home/dev/.npmrc",
        "npm @team:registry ← /home/dev/.npmrc",
        "npm https-proxy ← /home/dev/.npmrc",
        "npm proxy ← /home/dev/.npmrc",
        "pip global.proxy ← /home/dev/.config/pip/pip.conf",
        "pip global.index-url ← /home/dev/.config/pip/pip.conf",
        "pip global.extra-index-url (1 of 2) ← /home/dev/.config/pip/pip.conf",
      ].sort(),
    );
    const all = everything(result);
    for (const secret of SECRETS) expect(all).not.toContain(secret);
  });

  test("in variables: the same forms are withheld", () => {
    const result = setup(host(), ENV);
    expect(fileText(result, NPMRC)).toBeNull();
    expect(fileText(result, PIPCONF)).toBe("[global]\nextra-index-url = https://ci.example/simple/\n");
    expect(named(result)).toEqual([
      "npm https-proxy ← $NPM_CONFIG_HTTPS_PROXY",
      "pip :env:.extra-index-url (1 of 2) ← $PIP_EXTRA_INDEX_URL",
      "pip :env:.proxy ← $PIP_PROXY",
    ]);
    const all = everything(result);
    for (const secret of SECRETS) expect(all).not.toContain(secret);
  });

  test("an npm array is a credential when any one item is", () => {
    const root = host({ "/home/dev/.npmrc": "registry[]=https://a.example/\nregistry[]=https://b.example/\n" });
    expect(fileText(setup(root), NPMRC)).toBe("registry=https://a.example/,https://b.example/\n");
    layOut(root, { "/home/dev/.npmrc": `registry[]=https://a.example/\nregistry[]=u:${ENV_SECRETS[3]}@b.example\n` });
    expect(everything(setup(root))).not.toContain(ENV_SECRETS[3]);
  });

  test("with --forward-registry-credentials they go as written, in files only their owner reads, each value known alone", () => {
    for (const [result, expected] of [
      [setup(recordedHost(), {}, true), [...NPM_SECRETS, ...PIP_SECRETS]],
      [setup(host(), ENV, true), ENV_SECRETS.slice(0, 3)],
    ] as const) {
      expect(result.withheld).toEqual([]);
      const files = `${fileText(result, NPMRC)}${fileText(result, PIPCONF)}`;
      for (const secret of expected) expect(files).toContain(secret);
      expect(files).not.toContain(FIND_LINKS_SECRET);
      for (const file of result.files.filter((f) => [NPMRC, PIPCONF].includes(f.path))) expect(file.mode).toBe(0o600);
      // For a build to hide: each value forwarded as a credential, an array's items one by one.
      for (const secret of expected) expect(result.credentialValues.some((value) => value.includes(secret))).toBe(true);
      const report = JSON.stringify([result.shown, result.withheld, result.notices, result.env]);
      for (const secret of SECRETS) expect(report).not.toContain(secret);
    }
    expect(setup(recordedHost(), {}, true).credentialValues).toContain(
      "https://builder:npm-array-Secret1@npm.corp.example/",
    );
  });
});

describe("pip settings", () => {
  const PASSWORD = "pypi-S3cretPass";
  const corporateHost = () =>
    host({
      "/etc/xdg/pip/pip.conf": "[global]\nindex-url = https://xdg.example/simple/\ntimeout = 60\n",
      "/etc/pip.conf":
        "[global]\nindex-url = https://pypi.mirror.corp.example/simple/\ntrusted-host = pypi.mirror.corp.example\ncert = /etc/corp/ca.pem\n",
      "/home/dev/.pip/pip.conf": "[global]\ntrusted-host = legacy.example\n",
      "/home/dev/.config/pip/pip.conf": [
        "# the new location beats the legacy one",
        "[global]",
        "trusted-host = pypi.mirror.corp.example",
        "    files.corp.example",
        "",
        "[install]",
        "extra-index-url =",
        `    https://builder:${PASSWORD}@private.corp.example/simple/`,
        "    https://public.corp.example/simple/",
        "    file:///opt/wheels/simple",
        "",
        "[index]",
        "Index_URL: https://index-only.corp.example/simple/",
        "",
        "[freeze]",
        "index-url = https://not-a-section-pip-index-reads.example/",
      ].join("\n"),
      "/etc/corp/ca.pem": TEAM,
    });

  test("files merge key by key, sections stay apart, a password URL and a host path are left out", () => {
    const result = setup(corporateHost());
    expect(fileText(result, PIPCONF)).toBe(
      [
        "[global]",
        "index-url = https://pypi.mirror.corp.example/simple/",
        "trusted-host =",
        "    pypi.mirror.corp.example",
        "    files.corp.example",
        "",
        "[install]",
        "extra-index-url = https://public.corp.example/simple/",
        "",
        "[index]",
        "index-url = https://index-only.corp.example/simple/",
        "",
      ].join("\n"),
    );
    expect(result.shown.filter((s) => s.name.startsWith("pip "))).toEqual([
      { name: "pip global.index-url", source: "/etc/pip.conf" },
      { name: "pip global.trusted-host (2 of 2)", source: "/home/dev/.config/pip/pip.conf" },
      { name: "pip install.extra-index-url (1 of 3)", source: "/home/dev/.config/pip/pip.conf" },
      { name: "pip index.index-url", source: "/home/dev/.config/pip/pip.conf" },
    ]);
    expect(result.withheld).toEqual([
      { name: "pip install.extra-index-url (1 of 3)", source: "/home/dev/.config/pip/pip.conf" },
    ]);
    expect(result.notices).toContain(
      "pip install.extra-index-url (/home/dev/.config/pip/pip.conf): 1 local index left out (a host path)",
    );
    expect(everything(result)).not.toContain(PASSWORD);
    expect(result.caCertificates).toBe(pemCertificates(TEAM).join(""));
    expect(result.shown).toContainEqual({
      name: "CA /etc/corp/ca.pem (1 certificate)",
      source: "pip global.cert (/etc/pip.conf)",
    });
  });

  test("forwarding credentials keeps the password URL, in a file only its owner reads", () => {
    const result = setup(corporateHost(), {}, true);
    expect(fileText(result, PIPCONF)).toContain(
      `[install]\nextra-index-url =\n    https://builder:${PASSWORD}@private.corp.example/simple/\n    https://public.corp.example/simple/\n`,
    );
    expect(result.files.find((f) => f.path === PIPCONF)!.mode).toBe(0o600);
    expect(result.withheld).toEqual([]);
    expect(JSON.stringify([result.shown, result.notices])).not.toContain(PASSWORD);
  });

  test("PIP_* variables beat every section, [install] included", () => {
    const result = setup(corporateHost(), {
      PIP_INDEX_URL: "https://env.mirror.example/simple/",
      PIP_EXTRA_INDEX_URL: "https://env-extra-1.example/simple/ https://env-extra-2.example/simple/",
      PIP_TRUSTED_HOST: "",
      PIP_CERT: "/etc/corp/ca.pem",
      pip_index_url: "https://lower-case-is-not-pip.example/",
    });
    expect(fileText(result, PIPCONF)).toBe(
      [
        "[global]",
        "trusted-host =",
        "    pypi.mirror.corp.example",
        "    files.corp.example",
        "index-url = https://env.mirror.example/simple/",
        "extra-index-url =",
        "    https://env-extra-1.example/simple/",
        "    https://env-extra-2.example/simple/",
        "",
      ].join("\n"),
    );
    expect(result.shown).toContainEqual({ name: "pip :env:.index-url", source: "$PIP_INDEX_URL" });
    expect(result.shown).toContainEqual({ name: "pip :env:.extra-index-url (2 of 2)", source: "$PIP_EXTRA_INDEX_URL" });
  });

  test("PIP_CONFIG_FILE: an existing file replaces the user files; /dev/null turns every file off", () => {
    const root = corporateHost();
    layOut(root, { "/work/pip-ci.conf": "[global]\nextra-index-url = https://ci.example/simple/\n" });
    const withFile = setup(root, { PIP_CONFIG_FILE: "/work/pip-ci.conf" });
    expect(fileText(withFile, PIPCONF)).toBe(
      "[global]\nindex-url = https://pypi.mirror.corp.example/simple/\ntrusted-host = pypi.mirror.corp.example\nextra-index-url = https://ci.example/simple/\n",
    );
    const missing = setup(root, { PIP_CONFIG_FILE: "/work/absent.conf" });
    expect(fileText(missing, PIPCONF)).toContain("[index]\nindex-url = https://index-only.corp.example/simple/\n");
    const devNull = setup(root, { PIP_CONFIG_FILE: "/dev/null", PIP_INDEX_URL: "https://only-env.example/simple/" });
    expect(fileText(devNull, PIPCONF)).toBe("[global]\nindex-url = https://only-env.example/simple/\n");
  });

  test("XDG_CONFIG_HOME and XDG_CONFIG_DIRS move the user and global files", () => {
    const root = host({
      "/srv/xdg-a/pip/pip.conf": "[global]\nindex-url = https://a.example/simple/\n",
      "/srv/xdg-b/pip/pip.conf": "[global]\nindex-url = https://b.example/simple/\n",
      "/home/dev/cfg/pip/pip.conf": "[install]\nindex-url = https://user.example/simple/\n",
    });
    const result = setup(root, { XDG_CONFIG_DIRS: "/srv/xdg-a:/srv/xdg-b", XDG_CONFIG_HOME: "/home/dev/cfg" });
    // a later global file wins: /srv/xdg-b over /srv/xdg-a (and /etc/pip.conf would win over both)
    expect(fileText(result, PIPCONF)).toBe(
      "[global]\nindex-url = https://b.example/simple/\n\n[install]\nindex-url = https://user.example/simple/\n",
    );
  });

  test("macOS: ~/Library/Application Support/pip when it exists, else ~/.config/pip", () => {
    const root = host({
      "/home/dev/Library/Application Support/pip/pip.conf": "[global]\nindex-url = https://mac.example/simple/\n",
      "/home/dev/.config/pip/pip.conf": "[global]\nindex-url = https://not-read-on-mac.example/simple/\n",
      "/Library/Application Support/pip/pip.conf": "[global]\ntrusted-host = mac-global.example\n",
    });
    const result = hostRegistrySetup({
      env: BASE_ENV,
      cwd: "/home/dev",
      platform: "darwin",
      files: rootedHostFiles(root),
    });
    expect(fileText(result, PIPCONF)).toBe(
      "[global]\ntrusted-host = mac-global.example\nindex-url = https://mac.example/simple/\n",
    );
  });

  test("a file pip cannot parse is skipped with a notice, as pip would refuse it", () => {
    const root = host({
      "/etc/pip.conf": "[global]\nindex-url = https://global.example/simple/\n",
      "/home/dev/.config/pip/pip.conf": "index-url = https://no-section.example/\n",
    });
    const result = setup(root);
    expect(fileText(result, PIPCONF)).toBe("[global]\nindex-url = https://global.example/simple/\n");
    expect(result.notices).toEqual([
      "/home/dev/.config/pip/pip.conf: not used, pip cannot parse it (line 1: a setting before any [section] header)",
    ]);
  });
});

describe("CA certificates", () => {
  test("files and folders the host names, each certificate once, appended to the image's bundle in the container", () => {
    const root = host({
      "/etc/corp/bundle.pem": CORP + PROXY,
      "/etc/corp/certs/corp-root.pem": CORP,
      "/etc/corp/certs/team.crt": TEAM,
      "/etc/corp/certs/README": "not a certificate",
      "/etc/corp/certs/team.key":
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n",
      "/home/dev/.npmrc": `ca="${PROXY.trim().replace(/\n/g, "\\n")}"\n`,
    });
    link(root, "/etc/corp/certs/5ad8a5d6.0", "corp-root.pem");
    const result = setup(root, {
      SSL_CERT_FILE: "/etc/corp/bundle.pem",
      NODE_EXTRA_CA_CERTS: "/etc/corp/bundle.pem",
      SSL_CERT_DIR: "/etc/corp/certs:/etc/absent",
      GIT_SSL_CAINFO: "/etc/corp/missing.pem",
    });
    expect(result.caCertificates).toBe(pemCertificates(PROXY + CORP + TEAM).join(""));
    expect(result.caCertificates).not.toContain("PRIVATE KEY");
    expect(new TextDecoder().decode(result.files.find((f) => f.path === HOSTCA)!.content)).toBe(result.caCertificates!);
    expect(result.shown.filter((s) => s.name.startsWith("CA "))).toEqual([
      { name: "CA inline certificates (1 certificate)", source: "npm ca (/home/dev/.npmrc)" },
      { name: "CA /etc/corp/bundle.pem (1 certificate)", source: "$SSL_CERT_FILE, $NODE_EXTRA_CA_CERTS" },
      { name: "CA /etc/corp/certs (1 certificate)", source: "$SSL_CERT_DIR" },
    ]);
    expect(result.notices).toEqual([
      "$GIT_SSL_CAINFO: /etc/corp/missing.pem does not exist",
      "$SSL_CERT_DIR: /etc/absent is not a folder",
    ]);
    expect(result.caEnvNames).toEqual([
      "SSL_CERT_FILE",
      "CURL_CA_BUNDLE",
      "GIT_SSL_CAINFO",
      "NODE_EXTRA_CA_CERTS",
      "NPM_CONFIG_CAFILE",
      "REQUESTS_CA_BUNDLE",
      "PIP_CERT",
    ]);
    expect(result.env).toEqual(result.caEnvNames.map((name) => `${name}=/home/aicage/.aicage-util/ca-bundle.pem`));
    expect(result.prepareScript).toContain("/etc/ssl/certs/ca-certificates.crt");
  });

  test("an unreadable CA source is skipped with a notice and the rest still counts", () => {
    const root = host({ "/etc/corp/ok.pem": TEAM, "/etc/corp/empty.pem": "no certificates here\n" });
    mkdirSync(join(root, "/etc/corp/a-folder.pem"));
    const result = setup(root, {
      SSL_CERT_FILE: "/etc/corp/a-folder.pem",
      CURL_CA_BUNDLE: "/etc/corp/empty.pem",
      REQUESTS_CA_BUNDLE: "/etc/corp/ok.pem",
    });
    expect(result.caCertificates).toBe(pemCertificates(TEAM).join(""));
    expect(result.notices).toEqual([
      "$SSL_CERT_FILE: /etc/corp/a-folder.pem not read (not a regular file)",
      "$CURL_CA_BUNDLE: /etc/corp/empty.pem holds no PEM certificate",
    ]);
  });

  test("a file skipped is never listed as forwarded, however often it is named (issue 23: CA /dev/zero)", () => {
    const root = host({ "/etc/corp/ok.pem": TEAM, "/etc/corp/certs/README": "not a certificate\n" });
    Bun.spawnSync(["mkfifo", join(root, "/etc/corp/fifo")]);
    const result = setup(root, {
      SSL_CERT_FILE: "/etc/corp/fifo",
      NODE_EXTRA_CA_CERTS: "/etc/corp/fifo",
      CURL_CA_BUNDLE: "/etc/corp/certs/README",
      GIT_SSL_CAINFO: "/etc/corp/certs/README",
      REQUESTS_CA_BUNDLE: "/etc/corp/ok.pem",
      SSL_CERT_DIR: "/etc/corp/certs",
    });
    expect(result.shown.filter((s) => s.name.startsWith("CA "))).toEqual([
      { name: "CA /etc/corp/ok.pem (1 certificate)", source: "$REQUESTS_CA_BUNDLE" },
    ]);
    expect(result.notices).toEqual([
      "$SSL_CERT_FILE: /etc/corp/fifo not read (not a regular file)",
      "$NODE_EXTRA_CA_CERTS: /etc/corp/fifo not read (not a regular file)",
      "$CURL_CA_BUNDLE: /etc/corp/certs/README holds no PEM certificate",
      "$GIT_SSL_CAINFO: /etc/corp/certs/README holds no PEM certificate",
      "$SSL_CERT_DIR: /etc/corp/certs holds no PEM certificate",
    ]);
  });

  test("the CA text handed on is bounded", () => {
    // Made-up PEM blocks (valid base64, not real certificates): only their size matters here.
    const block = (n: number) =>
      `-----BEGIN CERTIFICATE-----\n${Buffer.from(`cert ${n} `.padEnd(1500, "x")).toString("base64")}\n-----END CERTIFICATE-----\n`;
    const many = Array.from({ length: 3500 }, (_, n) => block(n)).join("");
    const root = host({ "/etc/corp/huge.pem": many });
    const result = setup(root, { SSL_CERT_FILE: "/etc/corp/huge.pem" });
    expect(result.caCertificates!.length).toBeLessThanOrEqual(MAX_CA_PEM_BYTES);
    expect(result.caCertificates!.length).toBeGreaterThan(MAX_CA_PEM_BYTES - 3000);
    expect(result.notices).toEqual([`CA certificates beyond ${MAX_CA_PEM_BYTES / 1024 / 1024} MiB were left out`]);
  });

  test("nothing named: no CA file, no variables, no prepare step", () => {
    const result = setup(host());
    expect(result).toEqual({
      env: [],
      files: [],
      caCertificates: null,
      caEnvNames: [],
      prepareScript: null,
      shown: [],
      withheld: [],
      notices: [],
      credentialValues: [],
    });
  });
});
