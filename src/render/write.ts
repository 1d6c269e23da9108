// The one place the generated project touches the disk: written in full to a sibling
// temporary directory, then swapped in, so a reader never sees half a project.
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Project } from './project.js';

export async function writeProject(outDir: string, project: Project): Promise<void> {
  const parent = path.dirname(path.resolve(outDir));
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(path.join(parent, `.${path.basename(outDir)}.tmp-`));
  try {
    await chmod(staging, 0o755);
    for (const [relative, file] of project) {
      const target = path.join(staging, relative);
      await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      await writeFile(target, file.content, { mode: file.mode });
      // writeFile's mode is filtered by the umask; secrets must end up exactly 0600.
      await chmod(target, file.mode);
    }
    const previous = `${staging}.old`;
    await rename(outDir, previous).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(staging, outDir);
    await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
