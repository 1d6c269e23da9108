// One function per command; each returns an exit code and never calls process.exit.
import { EnvError } from '../env/errors.js';
import { loadEnv, type LoadedEnv } from '../env/load.js';
import { PROJECT_MARKER } from '../render/write.js';
import type { Phase } from '../ansible/command.js';
import { ENV_FLAG, noAnsibleArgs, parseFlags } from './args.js';
import { EXIT, UsageError, type Context } from './context.js';
import { ansibleCommandArgs, checkFleet, displayPath, envFiles, hostsJson, load, printJson, renderTo, runAnsible } from './pipeline.js';
import { describeEnv, describeRun, envJson, nextBackups } from './summary.js';

/** The paragraph every command that runs ansible-playbook has in its --help. */
export const ANSIBLE_ARGS_HELP = `Everything after -- (with npm run, the second --) goes to ansible-playbook, after the
tool's own arguments: -K, --limit HOST, -v, --tags, --vault-id, --vault-password-file,
--ask-vault-pass, --forks N ... Refused (exit 2, with the reason): -i/--inventory (the
tool writes the inventory), -C/--check (use the tool's --check), -e/--extra-vars (the
environment file is the configuration), --syntax-check, --list-hosts/-tasks/-tags,
--help, --version (no play would run).
`;

/** The sentence every command with --json has in its --help. */
export const JSON_HELP = `--json prints one JSON document on stdout ("schema": "tracker-backup-cli.<command>.v1",
see docs/json.md); Ansible's output and progress go to stderr; exit codes do not change.`;

export const HELP: Record<string, string> = {
  validate: `Usage: npm run validate -- --env <name|path> [--env ...] [--json]

Checks an environment file and prints what it means: database, schedule, the next
three backup times (UTC) and any warnings. <name> means envs/<name>.json.
With --json, every file gets its verdict: ok with the same facts, or every problem
(JSON path, message, example).
${JSON_HELP}

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
  provision: `Usage: npm run provision -- --env <name|path> [--env ...] [--check] [--phase release|run|all] [--json] [--out DIR] [-- ANSIBLE-FLAGS]

Validates, renders the Ansible project, then runs
  cd build/<env name>/ansible && ansible-playbook site.yml     (--phase all, default)
  ... release.yml (--phase release) or run.yml (--phase run)
with Ansible's output streamed live, and ends with a summary per host. Several --env
(and an environment's instances) go into one inventory and run in parallel; a host
that fails does not stop the others.
--check runs ansible-playbook --check --diff: a dry run that changes nothing.
--out DIR: as for render (new, empty or rendered there before; else exit 2).
A host counts as failed when a task failed on it (not rescued or ignored), it was
unreachable, or the play was meant for it and it is missing from Ansible's recap;
hosts left out with --limit are not run and do not fail.
${JSON_HELP}
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
  backups    list the backups on each host
  restore    restore a verified backup (a dry run unless --yes)

Every command takes --project-dir DIR: where envs/<name>.json and build/ are
(default: the current directory).
provision, backup, backups and restore pass what follows a literal -- to
ansible-playbook: npm run provision -- --env prod -- -K --limit prod-eu

validate, provision, backup, backups and restore take --json: one JSON document on
stdout for scripts, everything else on stderr (docs/json.md).
Run a command with --help for its options. --version prints the version.
Honours NO_COLOR.
`;

export async function validateCommand(argv: string[], ctx: Context): Promise<number> {
  const flags = parseFlags('validate', noAnsibleArgs('validate', argv), { env: ENV_FLAG, json: { type: 'boolean' } });
  if (flags.help) {
    ctx.stdout(HELP.validate ?? '');
    return EXIT.ok;
  }
  if (!flags.json) {
    for (const { file, env } of await load('validate', ctx, flags.env)) ctx.stdout(describeEnv(displayPath(ctx, file), env, ctx.now()));
    return EXIT.ok;
  }
  // Every file gets its verdict, not just the first invalid one.
  const files: Record<string, unknown>[] = [];
  const loaded: LoadedEnv[] = [];
  for (const file of envFiles('validate', ctx, flags.env)) {
    try {
      const one = await loadEnv(file, ctx.env);
      loaded.push(one);
      files.push(envJson(displayPath(ctx, file), one.env, ctx.now()));
    } catch (error) {
      if (!(error instanceof EnvError)) throw error;
      files.push({ file: displayPath(ctx, file), ok: false, errors: error.issues.map((i) => ({ path: i.path, message: i.message, example: i.example ?? null })) });
      ctx.stderr(`error: ${error.message}\n`);
    }
  }
  const ok = loaded.length === files.length;
  if (ok) checkFleet('validate', loaded);
  printJson(ctx, 'validate', { ok, files });
  return ok ? EXIT.ok : EXIT.failed;
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
  const args = ansibleCommandArgs('provision', argv, ctx, HELP.provision ?? '', { check: { type: 'boolean' }, phase: { type: 'string' } } as const);
  if (!args) return EXIT.ok;
  const { flags } = args;
  const phase = (flags.phase ?? 'all') as Phase;
  if (!PHASES.includes(phase)) throw new UsageError(`provision: --phase must be release, run or all (got "${flags.phase}")`);
  const check = flags.check ?? false;
  return runAnsible(ctx, {
    command: 'provision',
    phase,
    check,
    flags,
    ansibleArgs: args.ansible,
    text: (run) => describeRun(run.stats, run.outcome, run.envs, ctx.now(), check),
    json: (run) => ({
      check,
      phase,
      hosts: hostsJson(run.outcome, (host) => ({ created: run.stats?.created[host] ?? [] })),
      nextBackups: Object.fromEntries(run.envs.map((env) => [env.environment.name, nextBackups(env, ctx.now(), 1)[0]?.toISOString() ?? null])),
    }),
  });
}
