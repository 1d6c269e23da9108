// User text in the generated project, read back by the parser Ansible itself uses
// (ansible-inventory loads inventory.yml and every group_vars file through PyYAML). A line
// break left raw, including the ones only YAML counts as such (NEL, U+2028, U+2029), would
// end a scalar and start a new variable, e.g. ansible_ssh_executable, which runs on the
// controller.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/env/load.js';
import { hostsOf } from '../../src/env/hosts.js';
import { roleVars } from '../../src/render/vars.js';
import { deployerEnv, runMain, withValue } from '../helpers.js';

const LINE_BREAKS = ['\n', '\r', '\v', '\f', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029'];
// No slash: it also goes into file and directory names.
const INJECTION = 'ansible_ssh_executable: pwned';

const cli = (argv: string[], cwd: string) => runMain(argv, { cwd });

/** Every host's variables as Ansible sees them, with an !unsafe value shown as { __ansible_unsafe }. */
async function hostvars(project: string): Promise<Record<string, Record<string, unknown>>> {
  const result = await execa('ansible-inventory', ['-i', 'inventory.yml', '--list'], { cwd: project, env: { ANSIBLE_CONFIG: path.join(project, 'ansible.cfg') } });
  return (JSON.parse(result.stdout) as { _meta: { hostvars: Record<string, Record<string, unknown>> } })._meta.hostvars;
}

/** What the inventory and group_vars should give one host, and nothing else. */
function expectedVars(envFile: unknown, cwd: string): Record<string, unknown> {
  const env = parseEnv('e.json', JSON.stringify(envFile));
  const [host] = hostsOf(env);
  const { vars, secrets } = roleVars(env);
  const unsafe = Object.fromEntries(Object.entries(secrets).map(([key, value]) => [key, { __ansible_unsafe: value }]));
  return {
    ansible_host: host?.address,
    ansible_port: host?.port,
    ansible_user: host?.user,
    ansible_ssh_private_key_file: path.resolve(cwd, env.ssh_credentials.private_key_path),
    ansible_host_key_checking: true,
    ...vars,
    ...unsafe,
  };
}

/** Generated files: everything but the role and playbooks copied from this repository. */
function generatedTexts(project: string, envNames: string[]): string[] {
  const files = ['ansible.cfg', 'inventory.yml'];
  for (const name of envNames) files.push(`group_vars/env_${name.replaceAll('-', '_')}/tracker_backup.yml`, `group_vars/env_${name.replaceAll('-', '_')}/secrets.yml`);
  return files.map((file) => readFileSync(path.join(project, file), 'utf8'));
}

describe('user text with line breaks in the generated project', () => {
  it('env file paths, the working directory and passwords with every line break reach Ansible exactly, adding no variable', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'tb-breaks-'));
    // Relative key paths are resolved against the caller's directory, so its name lands in the inventory.
    const cwd = path.join(base, `cwd${LINE_BREAKS.join('')}${INJECTION}`);
    mkdirSync(cwd);
    const envs: { name: string; data: Record<string, unknown> }[] = [];
    const files: string[] = [];
    LINE_BREAKS.forEach((lineBreak, i) => {
      const name = `env-${String.fromCharCode(97 + i)}`;
      let env = withValue(deployerEnv(), 'environment.name', name);
      env = withValue(env, 'ssh_credentials.private_key_path', 'keys/id');
      // One deployment per host: each environment gets an address of its own.
      env = withValue(env, 'instance.host', `203.0.113.${i + 1}`);
      env = withValue(env, 'tracker.core.database.password', `p${lineBreak}${INJECTION}${lineBreak}`);
      const file = path.join(base, `e${lineBreak}${INJECTION}${lineBreak}.json`);
      writeFileSync(file, JSON.stringify(env));
      envs.push({ name, data: env });
      files.push(file);
    });
    const out = path.join(base, 'project');
    const run = await cli(['render', ...files.flatMap((file) => ['--env', file]), '--out', out], cwd);
    expect(run.code, run.stderr).toBe(0);

    const seen = await hostvars(out);
    expect(Object.keys(seen).sort()).toEqual(envs.map((env) => env.name).sort());
    for (const env of envs) expect(seen[env.name], env.name).toStrictEqual(expectedVars(env.data, cwd));
    for (const text of generatedTexts(out, envs.map((env) => env.name))) {
      // Headers name the environments, not their files.
      expect(text).not.toContain('.json');
      // The only line break left raw is the line feed that ends each line.
      for (const lineBreak of LINE_BREAKS.slice(1)) expect(text).not.toContain(lineBreak);
    }
  });

  it.each(LINE_BREAKS.map((lineBreak) => [`U+${lineBreak.charCodeAt(0).toString(16).padStart(4, '0')}`, lineBreak]))(
    'a private_key_path with %s is refused at validate or reaches Ansible exactly',
    async (_shown, lineBreak) => {
      const base = mkdtempSync(path.join(tmpdir(), 'tb-breaks-'));
      const env = withValue(deployerEnv(), 'ssh_credentials.private_key_path', `/keys/id${lineBreak}${INJECTION.replaceAll(' ', '')}`);
      const file = path.join(base, 'env.json');
      writeFileSync(file, JSON.stringify(env));
      const out = path.join(base, 'project');
      const run = await cli(['render', '--env', file, '--out', out], base);
      if (run.code !== 0) {
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('ssh_credentials.private_key_path');
        return;
      }
      expect((await hostvars(out))['tracker-demo']).toStrictEqual(expectedVars(env, base));
    },
  );
});
