// The CLI as an npm package: compiled to dist/, run from any directory, envs/ and build/
// found in the caller's directory or --project-dir, and a package that ships only what
// a project is built from.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { callerDir, splitProjectDir } from '../../src/cli/main.js';
import { exampleEnv, ROOT, runMain } from '../helpers.js';

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const cli = (argv: string[], cwd: string) => runMain(argv, { cwd, projectDir: cwd });

/** A user's directory with envs/site.json (the example) in it, and nothing else. */
function projectWithEnv(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tb-npm-'));
  mkdirSync(path.join(dir, 'envs'));
  writeFileSync(path.join(dir, 'envs/site.json'), JSON.stringify(exampleEnv()));
  return dir;
}

describe('splitProjectDir', () => {
  const cwd = '/home/op';
  it.each([
    [['validate', '--env', 'a'], ['validate', '--env', 'a'], undefined],
    [['validate', '--project-dir', 'ops', '--env', 'a'], ['validate', '--env', 'a'], '/home/op/ops'],
    [['render', '--env', 'a', '--project-dir=/srv/ops'], ['render', '--env', 'a'], '/srv/ops'],
    [['--project-dir', '..', 'validate'], ['validate'], '/home'],
    [['validate', '--', '--project-dir', 'x'], ['validate', '--', '--project-dir', 'x'], undefined],
  ])('%j -> %j in %s', (argv, rest, projectDir) => {
    expect(splitProjectDir(argv, cwd)).toEqual({ argv: rest, projectDir });
  });

  it.each([[['validate', '--project-dir']], [['validate', '--project-dir', '--env', 'a']], [['validate', '--project-dir=']]])(
    'refuses %j as a usage error',
    (argv) => {
      expect(() => splitProjectDir(argv, cwd)).toThrow('--project-dir needs a directory');
    },
  );
});

describe('callerDir', () => {
  it.each([
    ['our own npm run alias: where the user was', { npm_package_name: 'tracker-backup', INIT_CWD: '/home/op/ops' }, '/srv/pkg', '/home/op/ops'],
    ['npx in this package: its own directory', { npm_package_name: 'tracker-backup', npm_lifecycle_event: 'npx', INIT_CWD: '/srv/pkg/sub' }, '/srv/pkg/sub', '/srv/pkg/sub'],
    ["another package's npm script: that package, not INIT_CWD", { npm_package_name: 'site-ops', INIT_CWD: '/srv/site/sub' }, '/srv/site', '/srv/site'],
    ['no npm at all: the process directory', {}, '/srv/site', '/srv/site'],
  ])('%s', (_, env, processCwd, expected) => {
    expect(callerDir(env, processCwd)).toBe(expected);
  });
});

describe('the CLI in-process', () => {
  it('prints the package.json version for --version and exits 0', async () => {
    expect(await cli(['--version'], tmpdir())).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('exits 2 for --project-dir without a directory', async () => {
    const run = await cli(['validate', '--env', 'site', '--project-dir'], tmpdir());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--project-dir needs a directory');
  });

  it('reads envs/<name>.json and writes build/ under --project-dir, not under the current directory', async () => {
    const project = projectWithEnv();
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'tb-npm-cwd-'));
    const relative = path.relative(elsewhere, project);
    const validate = await cli(['validate', '--env', 'site', '--project-dir', relative], elsewhere);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    const render = await cli(['render', '--project-dir', relative, '--env', 'site'], elsewhere);
    expect(render.code).toBe(0);
    expect(existsSync(path.join(project, 'build/my-deployment/ansible/site.yml'))).toBe(true);
    expect(existsSync(path.join(elsewhere, 'build'))).toBe(false);
  });

  it('without --project-dir looks for envs/ in the current directory, not the package', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'tb-npm-empty-'));
    const run = await cli(['validate', '--env', 'example'], empty);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(path.join(empty, 'envs/example.json'));
  });
});

describe('the compiled CLI', () => {
  const bin = path.join(ROOT, 'dist/cli/bin.js');
  // A process started the way an installed bin is: from elsewhere, outside this package's npm run.
  const node = (args: string[], cwd: string) =>
    execa('node', [bin, ...args], { cwd, reject: false, env: { NO_COLOR: '1', INIT_CWD: undefined, npm_package_name: undefined } });

  // tsc takes 4 s of CPU; on a loaded machine that is more than vitest's default 10 s for a hook.
  beforeAll(async () => {
    await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  }, 120_000);

  it('runs from another directory: --version, validate and render use that directory', async () => {
    const project = projectWithEnv();
    const version = await node(['--version'], project);
    expect([version.exitCode, version.stdout]).toEqual([0, VERSION]);
    const validate = await node(['validate', '--env', 'site'], project);
    expect(validate.stderr).toBe('');
    expect(validate.exitCode).toBe(0);
    expect(validate.stdout).toContain('envs/site.json is valid.');
    const render = await node(['render', '--env', 'site'], project);
    expect(render.exitCode).toBe(0);
    // The role and playbooks come from the package; the project lands in the caller's build/.
    expect(existsSync(path.join(project, 'build/my-deployment/ansible/roles/tracker_backup/tasks/main.yml'))).toBe(true);
    expect(existsSync(path.join(project, 'build/my-deployment/ansible/site.yml'))).toBe(true);
  });

  it('loads only what a command needs: --version nothing, validate neither the renderer (eta, yaml) nor execa, render no execa', async () => {
    const hook = pathToFileURL(path.join(ROOT, 'test/fixtures/log-packages.mjs')).href;
    const register = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(hook)});`;
    const packages = async (args: string[]) => {
      const run = await execa('node', ['--import', register, bin, ...args], { cwd: ROOT, reject: false, env: { NO_COLOR: '1' } });
      expect(run.exitCode).toBe(0);
      return [...new Set(run.stderr.match(/(?<=^loaded package ).*$/gm) ?? [])].sort();
    };
    expect(await packages(['--version'])).toEqual([]);
    expect(await packages(['validate', '--env', 'example'])).toEqual(['zod']);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tb-npm-out-')), 'ansible');
    expect(await packages(['render', '--env', 'example', '--out', out])).toEqual(['eta', 'yaml', 'zod']);
  });

  it('npm run validate (the tsx alias) started elsewhere reads envs/ from where it was started', async () => {
    const project = projectWithEnv();
    const run = await execa('npm', ['--prefix', ROOT, 'run', '--silent', 'validate', '--', '--env', 'site'], { cwd: project, reject: false, env: { NO_COLOR: '1' } });
    expect(run.stderr).toBe('');
    expect([run.exitCode, run.stdout.split('\n')[0]]).toEqual([0, 'envs/site.json is valid.']);
  });

  it('npm pack ships dist, the role, the playbooks, the templates and the schema, and nothing heavy', async () => {
    const { stdout } = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const [pack] = JSON.parse(stdout) as { files: { path: string }[]; unpackedSize: number }[];
    const files = (pack?.files ?? []).map((f) => f.path);
    for (const needed of [
      'package.json',
      'dist/cli/bin.js',
      'dist/render/sources.js',
      'roles/tracker_backup/tasks/main.yml',
      'roles/tracker_backup/files/maintenance-backup.sh',
      'playbooks/site.yml',
      'playbooks/callback_plugins/tracker_backup_stats.py',
      'src/render/templates/ansible.cfg.eta',
      'schemas/environment.schema.json',
    ]) {
      expect(files).toContain(needed);
    }
    const allowed = /^(package\.json|README\.md|LICENSE|dist\/.*\.js|roles\/tracker_backup\/.*|playbooks\/.*|src\/render\/templates\/.*|schemas\/.*)$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    expect(files.filter((f) => f.includes('molecule') || f.endsWith('.ts'))).toEqual([]);
    expect(pack?.unpackedSize).toBeLessThan(1_000_000);
  });
});
