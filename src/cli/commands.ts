// One function per command; each returns an exit code and never calls process.exit.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { printable } from '../env/errors.js';
import { fleetIssues } from '../env/hosts.js';
import { loadEnv, resolveEnvPath, type LoadedEnv } from '../env/load.js';
import { vaultedSecrets, vaultPasswordGiven } from '../env/secrets.js';
import { PROJECT_MARKER, replaceRefusal, writeProject } from '../render/write.js';
import { formatCommand, playbookCommand, type Phase } from '../ansible/command.js';
import { ENV_FLAG, noAnsibleArgs, parseFlags, requireEnvFlag, splitAnsibleArgs } from './args.js';
import { EXIT, UsageError, type Context } from './context.js';
import { describeEnv, describeRun, failedHosts } from './summary.js';

/** The paragraph every command that runs ansible-playbook has in its --help. */
export const ANSIBLE_ARGS_HELP = `Everything after -- (with npm run, the second --) goes to ansible-playbook, after the
tool's own arguments: -K, --limit HOST, -v, --tags, --vault-id, --vault-password-file,
--ask-vault-pass, --forks N ... Refused (exit 2, with the reason): -i/--inventory (the
tool writes the inventory), -C/--check (use the tool's --check), -e/--extra-vars (the
environment file is the configuration), --syntax-check, --list-hosts/-tasks/-tags,
--help, --version (no play would run).
`;

export const HELP: Record<string, string> = {
  validate: `Usage: npm run validate -- --env <name|path> [--env ...]

Checks an environment file and prints what it means: database, schedule, the next
three backup times (UTC) and any warnings. <name> means envs/<name>.json.

Exit codes: 0 valid, 1 invalid (each problem on stderr), 2 usage error.
`,
  render: `Usage: npm run render -- --env <name|path> [--env ...] [--out DIR]

Writes the Ansible project for one or more environments (default
build/<env name>/ansible/, or build/<name1>+<name2>/ansible/ for several).
The project runs on its own: cd there and run ansible-playbook site.yml.
Nothing is written when the environment file is invalid.
--out DIR is replaced whole, so it must be new, empty, or a project rendered there
before (it holds ${PROJECT_MARKER}); anything else, the current directory, its
parents and / are refused as a usage error before anything is written.

Exit codes: 0 written, 1 invalid environment, 2 usage error (including a refused --out).
`,
  provision: `Usage: npm run provision -- --env <name|path> [--env ...] [--check] [--phase release|run|all] [--out DIR] [-- ANSIBLE-FLAGS]

Validates, renders the Ansible project, then runs
  cd build/<env name>/ansible && ansible-playbook site.yml     (--phase all, default)
  ... release.yml (--phase release) or run.yml (--phase run)
with Ansible's output streamed live, and ends with a summary per host. Several --env
(and an environment's instances) go into one inventory and run in parallel; a host
that fails does not stop the others.
--check runs ansible-playbook --check --diff: a dry run that changes nothing.
--out DIR: as for render (new, empty or rendered there before; else exit 2).
${ANSIBLE_ARGS_HELP}  npm run provision -- --env prod -- -K --limit prod-eu -v

Exit codes: 0 done, 1 invalid environment or a host failed, 2 usage error.
`,
};

export const MAIN_HELP = `Usage: tracker-backup <command> [options]   (npm run <command> -- [options])

Commands:
  validate   check an environment file and show its schedule
  render     write the Ansible project for an environment
  provision  render, then run ansible-playbook against the environment's host
  backup     take a backup now, as cron would
  backups    list the backups on each host (--json for scripts)
  restore    restore a verified backup (a dry run unless --yes)

Every command takes --project-dir DIR: where envs/<name>.json and build/ are
(default: the current directory).
provision, backup, backups and restore pass what follows a literal -- to
ansible-playbook: npm run provision -- --env prod -- -K --limit prod-eu

Run a command with --help for its options. --version prints the version.
Honours NO_COLOR.
`;

/** One or more --env files, all valid and fit for one inventory, or an error naming why. */
export async function load(command: string, ctx: Context, refs: unknown): Promise<LoadedEnv[]> {
  const files = requireEnvFlag(command, refs).map((ref) => resolveEnvPath(ref, ctx.projectDir, ctx.cwd));
  const loaded: LoadedEnv[] = [];
  // Every file is read and checked before anything is written.
  for (const file of files) loaded.push(await loadEnv(file, ctx.env));
  const issues = fleetIssues(loaded.map((l) => l.env));
  if (issues.length > 0) throw new UsageError(`${command}: these environments cannot share one inventory: ${issues.join('; ')}`);
  return loaded;
}

/**
 * A vault-encrypted secret needs Ansible to have the vault password: ansible-core 2.19
 * decrypts every role variable when it checks them, so each command that runs the role
 * would fail, and the password task's own failure is hidden by no_log. Said up front instead.
 */
export function requireVaultPassword(command: string, ctx: Context, loaded: readonly LoadedEnv[], ansibleArgs: readonly string[]): void {
  const vaulted = [...new Set(loaded.flatMap((l) => vaultedSecrets(l.env)))];
  if (vaulted.length === 0 || vaultPasswordGiven(ansibleArgs, ctx.env)) return;
  throw new UsageError(
    `${command}: ${vaulted.join(', ')} is an ansible-vault string; give Ansible its vault password after --: -- --vault-password-file FILE, --vault-id ID@SOURCE or --ask-vault-pass`,
  );
}

export function displayPath(ctx: Context, file: string): string {
  const relative = path.relative(ctx.cwd, file);
  return printable(relative.startsWith('..') ? file : relative);
}

/** A file name's limit on Linux file systems. */
const NAME_MAX = 255;

/**
 * The build directory's name for these environments: all their names joined by "+", or,
 * when that would be longer than a file name may be, the first name, how many others,
 * and a hash of the full list (so each set of environments keeps its own directory).
 */
export function buildName(names: readonly string[]): string {
  const joined = names.join('+');
  if (joined.length <= NAME_MAX) return joined;
  const hash = createHash('sha256').update(joined).digest('hex').slice(0, 12);
  return `${names[0] ?? ''}+${names.length - 1}-more-${hash}`;
}

export async function validateCommand(argv: string[], ctx: Context): Promise<number> {
  const flags = parseFlags('validate', noAnsibleArgs('validate', argv), { env: ENV_FLAG });
  if (flags.help) {
    ctx.stdout(HELP.validate ?? '');
    return EXIT.ok;
  }
  for (const { file, env } of await load('validate', ctx, flags.env)) ctx.stdout(describeEnv(displayPath(ctx, file), env, ctx.now()));
  return EXIT.ok;
}

export async function renderTo(ctx: Context, loaded: readonly LoadedEnv[], out: unknown): Promise<string> {
  // Several environments share one project, named after all of them.
  const name = buildName(loaded.map((l) => l.env.environment.name));
  const outDir = typeof out === 'string' ? path.resolve(ctx.cwd, out) : path.join(ctx.projectDir, 'build', name, 'ansible');
  if (typeof out === 'string') {
    const refusal = await replaceRefusal(outDir, { 'the current directory': ctx.cwd, 'the tracker-backup package': ctx.root });
    if (refusal) throw new UsageError(`--out ${out}: ${refusal}; it would be replaced whole, so nothing was written`);
  }
  const envs = loaded.map((l) => l.env);
  // The renderer (eta, yaml) is loaded only by the commands that write a project.
  const [{ renderProject }, { loadSources }] = await Promise.all([import('../render/project.js'), import('../render/sources.js')]);
  const project = renderProject(envs, await loadSources(ctx.cwd, ctx.root));
  await writeProject(outDir, project);
  return outDir;
}

export async function renderCommand(argv: string[], ctx: Context): Promise<number> {
  const flags = parseFlags('render', noAnsibleArgs('render', argv), { env: ENV_FLAG, out: { type: 'string' } });
  if (flags.help) {
    ctx.stdout(HELP.render ?? '');
    return EXIT.ok;
  }
  const loaded = await load('render', ctx, flags.env);
  const outDir = await renderTo(ctx, loaded, flags.out);
  ctx.stdout(`Wrote ${displayPath(ctx, outDir)}/ (run: cd ${displayPath(ctx, outDir)} && ansible-playbook site.yml)\n`);
  return EXIT.ok;
}

const PHASES: readonly Phase[] = ['release', 'run', 'all'];

export async function provisionCommand(argv: string[], ctx: Context): Promise<number> {
  const { own, ansible } = splitAnsibleArgs('provision', argv);
  const options = {
    env: ENV_FLAG,
    out: { type: 'string' },
    check: { type: 'boolean' },
    phase: { type: 'string' },
  } as const;
  const flags = parseFlags('provision', own, options);
  if (flags.help) {
    ctx.stdout(HELP.provision ?? '');
    return EXIT.ok;
  }
  const phase = (flags.phase ?? 'all') as Phase;
  if (!PHASES.includes(phase)) throw new UsageError(`provision: --phase must be release, run or all (got "${flags.phase}")`);
  const loaded = await load('provision', ctx, flags.env);
  requireVaultPassword('provision', ctx, loaded, ansible);
  const projectDir = await renderTo(ctx, loaded, flags.out);
  const check = flags.check ?? false;
  const color = !ctx.env.NO_COLOR && process.stdout.isTTY === true;
  const shown = playbookCommand({ projectDir: displayPath(ctx, projectDir), phase, check, color, statsFile: '', ansibleArgs: ansible });
  ctx.stdout(`Running: ${formatCommand(shown)}\n`);
  // execa is loaded only by the commands that run Ansible.
  const { runPlaybook } = await import('../ansible/run.js');
  const result = await runPlaybook({ projectDir, phase, check, color, ansibleArgs: ansible });
  if (result.error) {
    ctx.stderr(`provision: ${result.error}\n`);
    return EXIT.failed;
  }
  const envs = loaded.map((l) => l.env);
  ctx.stdout(describeRun(result.stats, envs, ctx.now(), check));
  return result.exitCode === 0 && failedHosts(result.stats, envs).length === 0 ? EXIT.ok : EXIT.failed;
}


