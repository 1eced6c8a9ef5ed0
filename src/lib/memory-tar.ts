// A tar archive of a few in-memory files: the context of a util image build (just its
// embedded Dockerfile), and small archives the tests make. Parent folders are implied.
import { pack } from "tar-stream";

export type MemoryFile = string | Uint8Array | { content: string | Uint8Array; mode: number };

export async function tarOfFiles(files: Record<string, MemoryFile>): Promise<Uint8Array> {
  const archive = pack();
  const chunks: Uint8Array[] = [];
  const done = new Promise<void>((resolve, reject) => {
    archive.on("data", (chunk) => chunks.push(chunk as Uint8Array));
    archive.on("end", resolve);
    archive.on("error", reject);
  });
  for (const [name, file] of Object.entries(files)) {
    const { content, mode } = typeof file === "object" && "mode" in file ? file : { content: file, mode: 0o644 };
    const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
    archive.entry({ name, mode, mtime: new Date(0), uid: 0, gid: 0 }, Buffer.from(data));
  }
  archive.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
