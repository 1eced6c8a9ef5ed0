// A tar archive of a few in-memory files: the context of a util image build, which is
// just its embedded Dockerfile.
import { pack } from "tar-stream";

export async function tarOfFiles(files: Record<string, string | Uint8Array>): Promise<Uint8Array> {
  const archive = pack();
  const chunks: Uint8Array[] = [];
  const done = new Promise<void>((resolve, reject) => {
    archive.on("data", (chunk) => chunks.push(chunk as Uint8Array));
    archive.on("end", resolve);
    archive.on("error", reject);
  });
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
    archive.entry({ name, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, Buffer.from(data));
  }
  archive.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
