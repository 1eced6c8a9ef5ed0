// A whole host (its /etc, /usr and home folder) laid out under a temporary folder, seen
// through the HostFiles interface as if the folder were `/`: tests of the host registry
// set-up read real files without touching the machine's own /etc.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type HostFiles, realHostFiles } from "../../src/host-registries/host-files.ts";

export function rootedHostFiles(root: string): HostFiles {
  const inside = (path: string) => join(root, path);
  return {
    read: (path, maxBytes) => realHostFiles.read(inside(path), maxBytes),
    list: (path) => realHostFiles.list(inside(path)),
    realpath: (path) => {
      const real = realHostFiles.realpath(inside(path));
      if (real === null) return null;
      if (!real.startsWith(`${root}/`)) throw new Error(`${path} leads out of the test host (${real})`);
      return real.slice(root.length);
    },
    isExecutableFile: (path) => realHostFiles.isExecutableFile(inside(path)),
    isDirectory: (path) => realHostFiles.isDirectory(inside(path)),
  };
}

/** Writes files under root: path (absolute, as on the host) → content; mode 0755 for "#!" files. */
export function layOut(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
    if (content.startsWith("#!")) chmodSync(join(root, path), 0o755);
  }
}

/** A relative symlink, so that it resolves inside root. */
export function link(root: string, path: string, relativeTarget: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(relativeTarget, join(root, path));
}
