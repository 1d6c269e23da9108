// Reads what the generated project is built from: the role, the playbooks and the
// templates, all shipped in this repository.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProjectFile, ProjectSources } from './project.js';

export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Scenario files are for testing the role, not for running it. */
const SKIP = new Set(['molecule', '__pycache__']);

async function readTree(root: string): Promise<Map<string, ProjectFile>> {
  const files = new Map<string, ProjectFile>();
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIP.has(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const info = await stat(full);
        files.set(path.relative(root, full), { content: await readFile(full, 'utf8'), mode: info.mode & 0o777 });
      }
    }
  };
  await walk(root);
  return files;
}

export async function loadSources(cwd: string, root = PACKAGE_ROOT): Promise<ProjectSources> {
  const templatesDir = path.join(root, 'src/render/templates');
  const templates = new Map<string, string>();
  for (const [name, file] of await readTree(templatesDir)) templates.set(name, file.content);
  return {
    cwd,
    role: await readTree(path.join(root, 'roles/tracker_backup')),
    playbooks: await readTree(path.join(root, 'playbooks')),
    templates,
  };
}
