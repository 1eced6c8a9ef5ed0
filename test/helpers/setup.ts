// Preloaded before every test file (bunfig.toml): one global afterAll that removes the
// temporary folders of every file, after the last one ran, and after each test the CLI jobs
// it left running are ended.
import { afterAll, afterEach } from "bun:test";
import { endLiveJobs } from "./jobs.ts";
import { removeTempDirs } from "./temp.ts";

afterEach(endLiveJobs, 10_000);
afterAll(removeTempDirs);
