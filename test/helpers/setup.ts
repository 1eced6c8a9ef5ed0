// Preloaded before every test file (bunfig.toml): one global afterAll that removes the
// temporary folders of every file, after the last one ran.
import { afterAll } from "bun:test";
import { removeTempDirs } from "./temp.ts";

afterAll(removeTempDirs);
