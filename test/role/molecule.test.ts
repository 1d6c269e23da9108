// roles/tracker_backup/molecule/default is a scenario Molecule itself can run: a driver
// whose create and destroy playbooks bring a sandbox target up and down, platforms in the
// group the playbooks target, and every variable the scenario's own plays read defined in
// the scenario's inventory (none from group_vars only the CLI renders).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers.js';

const SCENARIO = path.join(ROOT, 'roles/tracker_backup/molecule/default');

interface MoleculeYml {
  driver: { name: string; options?: { managed?: boolean } };
  platforms: { name: string; groups?: string[] }[];
  provisioner: { name: string; playbooks: Record<string, string>; inventory?: { links?: Record<string, string> }; env?: Record<string, string> };
  scenario: { test_sequence: string[] };
}

const molecule = parse(readFileSync(path.join(SCENARIO, 'molecule.yml'), 'utf8')) as MoleculeYml;
const playbookText = (step: string) => readFileSync(path.join(SCENARIO, molecule.provisioner.playbooks[step] as string), 'utf8');
const plays = (step: string) => parse(playbookText(step)) as { hosts: string }[];

/** Every variable defined in the scenario's linked group_vars and host_vars. */
function scenarioVars(): Set<string> {
  const names = new Set<string>();
  for (const link of Object.values(molecule.provisioner.inventory?.links ?? {})) {
    const dir = path.join(SCENARIO, link);
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (!statSync(path.join(dir, file)).isFile()) continue;
      for (const name of Object.keys(parse(readFileSync(path.join(dir, file), 'utf8')) as object)) names.add(name);
    }
  }
  return names;
}

describe('Molecule scenario default', () => {
  it('has the delegated driver with create and destroy playbooks that use the sandbox', () => {
    expect(['default', 'delegated']).toContain(molecule.driver.name);
    expect(molecule.driver.options?.managed ?? true).toBe(true);
    expect(playbookText('create')).toMatch(/scripts\/sandbox\.sh"\n\s+- up\n/);
    expect(playbookText('create')).toContain('molecule_instance_config');
    expect(playbookText('destroy')).toMatch(/scripts\/sandbox\.sh"\n\s+- down\n/);
    expect(molecule.scenario.test_sequence).toEqual(expect.arrayContaining(['create', 'converge', 'idempotence', 'verify', 'destroy']));
    for (const step of ['create', 'prepare', 'converge', 'verify', 'destroy']) {
      expect(existsSync(path.join(SCENARIO, molecule.provisioner.playbooks[step] as string)), step).toBe(true);
    }
  });

  it('puts every platform in the group the scenario plays target', () => {
    expect(molecule.platforms.length).toBeGreaterThan(0);
    const targeted = new Set(['prepare', 'converge', 'verify'].flatMap((step) => plays(step).map((play) => play.hosts)));
    for (const platform of molecule.platforms) {
      for (const group of targeted) expect(platform.groups, platform.name).toContain(group);
    }
  });

  it('defines in its own inventory every role variable its plays read outside the role', () => {
    const links = Object.values(molecule.provisioner.inventory?.links ?? {});
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(path.resolve(SCENARIO, link).startsWith(SCENARIO + path.sep)).toBe(true);
    // prepare and verify run no role, so the role's defaults do not reach them.
    const read = new Set(['prepare', 'verify'].flatMap((step) => playbookText(step).match(/\btracker_backup_\w+/g) ?? []));
    expect(read.size).toBeGreaterThan(0);
    const defined = scenarioVars();
    expect([...read].filter((name) => !defined.has(name))).toEqual([]);
  });

  it('finds the role converge names through its ANSIBLE_ROLES_PATH, whatever Galaxy name Molecule installs it under', () => {
    // Molecule expands ${MOLECULE_PROJECT_DIRECTORY} (the role's directory) in molecule.yml.
    const rolesPath = (molecule.provisioner.env?.ANSIBLE_ROLES_PATH ?? '').split('$' + '{MOLECULE_PROJECT_DIRECTORY}').join(path.join(ROOT, 'roles/tracker_backup'));
    const [converge] = parse(playbookText('converge')) as { roles: { role: string }[] }[];
    const role = converge?.roles[0]?.role as string;
    expect(rolesPath.split(':').some((dir) => existsSync(path.join(dir, role, 'tasks/main.yml')))).toBe(true);
  });
});
