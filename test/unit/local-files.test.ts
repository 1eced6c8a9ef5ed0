// What the endpoint's address alone says about an engine seeing this machine's folders, and
// which folders the builder container would mount (workloads/local-files.ts, builder-container.ts).
// The engine's own answer for TCP to loopback is tested against a real one: build.test.ts (an
// engine here keeps the builder) and remote-engine.test.ts (one in a container does not).
import { describe, expect, test } from "bun:test";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { seesLocalFilesByAddress } from "../../src/workloads/local-files.ts";
import { builderMountSources } from "../../src/local-build/builder-container.ts";

const address = (host: string) => seesLocalFilesByAddress(resolveEndpoint({ host, env: {}, exists: () => false }));

describe("seesLocalFilesByAddress", () => {
  test("a unix socket: yes; ssh and TCP to another host: no; TCP to loopback: ask the engine", () => {
    expect(address("unix:///var/run/docker.sock")).toBe("yes");
    expect(address("ssh://me@127.0.0.1")).toBe("no");
    expect(address("ssh://me@buildbox:2222")).toBe("no");
    expect(address("tcp://buildbox:2376")).toBe("no");
    expect(address("tcp://10.0.0.5:2375")).toBe("no");
    for (const host of ["tcp://127.0.0.1:2375", "tcp://127.1.2.3:2376", "tcp://localhost:2375", "tcp://[::1]:2375"]) {
      expect(address(host)).toBe("ask");
    }
  });
});

describe("builderMountSources", () => {
  test("the context; a Dockerfile outside it adds its own folder", () => {
    expect(builderMountSources("/work/app", "/work/app/Dockerfile")).toEqual(["/work/app"]);
    expect(builderMountSources("/work/app", "/work/app/docker/Dockerfile.dev")).toEqual(["/work/app"]);
    expect(builderMountSources("/work/app", "/work/files/Dockerfile")).toEqual(["/work/app", "/work/files"]);
  });
});
