#!/usr/bin/env bun
// aicage-util: runs agent version checks and local image builds through Docker,
// talking to the Engine API directly (no docker CLI, Node or npm needed on the host).
import { root } from "./commands/root.ts";
import { toolRevision, toolVersion } from "./core/tool-info.ts";
import { runCli } from "./cli/run.ts";

await runCli(root, process.argv.slice(2), `aicage-util ${toolVersion} (${toolRevision})`);
