import { describe, expect, test } from "bun:test";
import { npmEnvReplace, npmrcLine, parseNpmrc } from "../../src/host-registries/npmrc-format.ts";
import { PipConfigError, parsePipConfig, pipConfigText } from "../../src/host-registries/pip-config-format.ts";
import { urlHasCredentials } from "../../src/host-registries/url-credentials.ts";

const object = (map: Map<string, unknown>) => Object.fromEntries(map);

describe("npmrc format", () => {
  test("reads what npm's own parser (ini 6, bundled with npm 11) reads", () => {
    const text = [
      "registry = https://a.example/npm/ ; trailing comment",
      "  # comment",
      "key\\;semi = v\\#hash\\;x # c",
      'quoted="a=b;c#d"',
      "single='it''s'",
      'ca[]="-----BEGIN CERTIFICATE-----\\nAAA\\n-----END CERTIFICATE-----"',
      "ca[]=second",
      "flag",
      "empty=",
      "strict-ssl=false",
      "proxy=null",
      "//host/:_authToken=${TOKEN}",
      "dup=1",
      "dup=2",
      "[section]",
      "registry=https://in-section.example/",
    ].join("\n");
    // ini.parse() of the same text (its [section] object left out), run with npm 11.19's ini 6.0.0
    expect(object(parseNpmrc(text))).toEqual({
      registry: "https://a.example/npm/",
      "key;semi": "v#hash;x",
      quoted: "a=b;c#d",
      single: "it''s",
      ca: ["-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----", "second"],
      flag: true,
      empty: "",
      "strict-ssl": false,
      proxy: null,
      "//host/:_authToken": "${TOKEN}",
      dup: "2",
    });
    expect(object(parseNpmrc("registry=https://x/\r\n\r\n@s:registry = https://s/ \r\n"))).toEqual({
      registry: "https://x/",
      "@s:registry": "https://s/",
    });
  });

  test("${VAR} expansion follows @npmcli/config's env-replace", () => {
    const env = { A: "alpha", EMPTY: "" };
    expect(npmEnvReplace("${A}/${EMPTY}/${B}/${B?}/\\${A}/\\\\${A}", env)).toBe("alpha//${B}//${A}/\\alpha");
  });

  test("a written line reads back as the same value, unexpanded", () => {
    const values = [
      "https://m.example/npm/",
      "https://m.example/?a=b;c#d",
      " padded ",
      "[bracket",
      '"quoted"',
      "x${NOT}y",
      "back\\slash",
    ];
    for (const value of values) {
      const read = parseNpmrc(npmrcLine("registry", value)).get("registry");
      expect(npmEnvReplace(String(read), { NOT: "expanded" })).toBe(value);
    }
  });
});

describe("pip config format", () => {
  test("reads what Python's configparser.RawConfigParser reads (pip's parser)", () => {
    const text = [
      "# comment",
      "; another",
      "[global]",
      "index-url = https://a.example/simple/ # not a comment for configparser",
      "Extra_Index_URL:",
      "    https://b.example/simple/",
      "",
      "    https://c.example/simple/",
      "  ; indented comment",
      "trusted-host=a.example",
      "timeout  =   60   ",
      "[DEFAULT]",
      "retries = 3",
      "[install]",
      "  cert = /x.pem",
      "find-links =",
      "[download]",
      "index-url = %(here)s/simple",
    ].join("\n");
    // {s: dict(p.items(s)) for s in p.sections()} of RawConfigParser().read() on Python 3.11.7
    const expected = {
      global: {
        retries: "3",
        "index-url": "https://a.example/simple/ # not a comment for configparser",
        extra_index_url: "\nhttps://b.example/simple/\n\nhttps://c.example/simple/",
        "trusted-host": "a.example",
        timeout: "60",
      },
      install: { retries: "3", cert: "/x.pem", "find-links": "" },
      download: { retries: "3", "index-url": "%(here)s/simple" },
    };
    const parsed = parsePipConfig(text);
    expect(Object.fromEntries([...parsed].map(([name, options]) => [name, object(options)]))).toEqual(expected);
  });

  test("what RawConfigParser refuses, pip refuses: each is an error here", () => {
    expect(() => parsePipConfig("index-url = x\n")).toThrow(PipConfigError);
    expect(() => parsePipConfig("[global]\nindex-url = a\nINDEX-URL = b\n")).toThrow(
      "'index-url' repeated in [global]",
    );
    expect(() => parsePipConfig("[global]\n[global]\n")).toThrow("section [global] repeated");
    expect(() => parsePipConfig("[global]\njust words\n")).toThrow("line 2: not a 'name = value' line");
  });

  test("a written pip.conf reads back", () => {
    const sections = new Map([
      [
        "global",
        new Map([
          ["index-url", ["https://m.example/simple/"]],
          ["trusted-host", ["m.example", "n.example"]],
        ]),
      ],
      ["install", new Map([["extra-index-url", ["https://x.example/simple/"]]])],
    ]);
    const parsed = parsePipConfig(pipConfigText(sections));
    expect(object(parsed.get("global")!)).toEqual({
      "index-url": "https://m.example/simple/",
      "trusted-host": "\nm.example\nn.example",
    });
    expect(object(parsed.get("install")!)).toEqual({ "extra-index-url": "https://x.example/simple/" });
  });
});

describe("a credential inside a registry, index or proxy value (issue 23)", () => {
  test("a user or password before the host, with or without a scheme, and any query string count", () => {
    for (const value of [
      "https://u:p@mirror.example/simple/",
      "https://token@mirror.example/",
      "bob:secret@proxy.example:3128",
      "bob@proxy.example",
      "http:bob:secret@proxy.example:3128",
      "https://mirror.example/simple/?token=abc",
      "mirror.example/simple?key=abc",
      "  https://mirror.example/?a=b  ",
    ])
      expect({ value, credential: urlHasCredentials(value) }).toEqual({ value, credential: true });
  });

  test("hosts, ports, paths with an @ after the host, fragments and an empty query do not", () => {
    for (const value of [
      "https://registry.npmjs.org/",
      "http://proxy.example:3128",
      "proxy.example:3128",
      "https://npm.pkg.github.com/@myorg",
      "https://mirror.example/simple/#frag?not-a-query",
      "https://mirror.example/simple/?",
      "[::1]:3128",
    ])
      expect({ value, credential: urlHasCredentials(value) }).toEqual({ value, credential: false });
  });
});
