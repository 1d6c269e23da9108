// The one path every command takes: load (every --env, all checked before anything is
// written) -> render (the Ansible project) -> run (ansible-playbook) -> summarise (one
// rule for "a host failed", judgeRun, then text for people or one JSON document).
// validate stops after load, render after render; the commands only add their flags
// and what their hosts report.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { printable } from '../env/errors.js';
import { fleetIssues, hostsOf } from '../env/hosts.js';
import { loadEnv, resolveEnvPath, type LoadedEnv } from '../env/load.js';
import type { EnvFile } from '../env/schema.js';
import { vaultedSecrets, vaultPasswordGiven } from '../env/secrets.js';
import { replaceRefusal, writeProject } from '../render/write.js';
import { formatCommand, playbookCommand, type Phase } from '../ansible/command.js';
import { judgeRun, type HostOutcome, type PlayStats, type RunOutcome } from '../ansible/stats.js';
import { ENV_FLAG, parseFlags, requireEnvFlag, splitAnsibleArgs, type Options } from './args.js';
import { EXIT, UsageError, type Context } from './context.js';

/** One or more --env files, all valid and fit for one inventory, or an error naming why. */
export async function load(command: string, ctx: Context, refs: unknown): Promise<LoadedEnv[]> {
  const loaded: LoadedEnv[] = [];
  // Every file is read and checked before anything is written.
  for (const file of envFiles(command, ctx, refs)) loaded.push(await loadEnv(file, ctx.env));
  checkFleet(command, loaded);
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

/** The files --env names, resolved; a missing --env is a usage error. */
export function envFiles(command: string, ctx: Context, refs: unknown): string[] {
  return requireEnvFlag(command, refs).map((ref) => resolveEnvPath(ref, ctx.projectDir, ctx.cwd));
}

/** Valid files that could not share one inventory (same name, same host) are a usage error. */
export function checkFleet(command: string, loaded: readonly LoadedEnv[]): void {
  const issues = fleetIssues(loaded.map((l) => l.env));
  if (issues.length > 0) throw new UsageError(`${command}: these environments cannot share one inventory: ${issues.join('; ')}`);
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

/** The `schema` field of a command's --json document; bumped when its shape changes incompatibly. */
function schemaId(command: string): string {
  return `tracker-backup-cli.${command}.v1`;
}

/** The one JSON document a --json run prints on stdout. */
export function printJson(ctx: Context, command: string, body: Record<string, unknown>): void {
  ctx.stdout(`${JSON.stringify({ schema: schemaId(command), ...body }, null, 2)}\n`);
}

/** The flags every command that runs Ansible takes, besides its own. */
const ANSIBLE_COMMAND_FLAGS = { env: ENV_FLAG, out: { type: 'string' }, json: { type: 'boolean' } } as const;

/**
 * An Ansible command's flags (its own, and --env, --out, --json) and what follows --
 * for ansible-playbook; undefined when --help was asked for (and printed).
 */
export function ansibleCommandArgs<T extends Options>(command: string, argv: readonly string[], ctx: Context, help: string, own: T) {
  const split = splitAnsibleArgs(command, argv);
  const flags = parseFlags(command, split.own, { ...ANSIBLE_COMMAND_FLAGS, ...own });
  // parseFlags always adds --help; TypeScript cannot see it through the generic.
  if ((flags as { help?: boolean }).help) {
    ctx.stdout(help);
    return undefined;
  }
  return { flags, ansible: split.ansible };
}

/** What a finished ansible-playbook run hands to a command's summary. */
export interface Finished {
  envs: EnvFile[];
  stats?: PlayStats;
  outcome: RunOutcome;
  /** ansible-playbook's exit code. */
  exitCode: number;
  /** Why ansible-playbook could not run at all, when that is the case. */
  error?: string;
}

export interface AnsibleCommand {
  command: 'provision' | 'backup' | 'backups' | 'restore';
  phase: Phase;
  check?: boolean;
  flags: { env?: unknown; out?: unknown; json?: boolean };
  ansibleArgs: readonly string[];
  extraVars?: Record<string, unknown>;
  /** The text after Ansible's own output, for people. */
  text: (run: Finished) => string;
  /** The JSON document's fields (besides schema, ok, ansibleExitCode, failed, error); hosts included. */
  json: (run: Finished) => Record<string, unknown>;
}

/** The recap part every command's JSON has per host: the verdict, and Ansible's counts. */
function hostJson(host: HostOutcome): Record<string, unknown> {
  return { state: host.state, ...(host.reason ? { reason: host.reason } : {}), recap: host.recap ?? null };
}

/** Per host: its verdict plus what `extra` adds for the command, keyed by host name. */
export function hostsJson(outcome: RunOutcome, extra: (host: string) => Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(outcome.hosts.map((host) => [host.name, { ...hostJson(host), ...(host.state === 'excluded' ? {} : extra(host.name)) }]));
}

/**
 * Load, render, run and summarise. With --json, everything but the document (the
 * command line, Ansible's output) goes to stderr. Exit 0 only when judgeRun says ok.
 */
export async function runAnsible(ctx: Context, spec: AnsibleCommand): Promise<number> {
  const { command, phase, ansibleArgs, extraVars, check = false } = spec;
  const json = spec.flags.json === true;
  const loaded = await load(command, ctx, spec.flags.env);
  requireVaultPassword(command, ctx, loaded, ansibleArgs);
  const projectDir = await renderTo(ctx, loaded, spec.flags.out);
  const color = !json && !ctx.env.NO_COLOR && process.stdout.isTTY === true;
  const shown = playbookCommand({ projectDir: displayPath(ctx, projectDir), phase, check, color, statsFile: '', extraVars, ansibleArgs });
  const log = json ? ctx.stderr : ctx.stdout;
  log(`Running: ${formatCommand(shown)}\n`);
  // execa is loaded only by the commands that run Ansible.
  const { runPlaybook } = await import('../ansible/run.js');
  const result = await runPlaybook({ projectDir, phase, check, color, extraVars, ansibleArgs, ...(json ? { output: ctx.stderr } : {}) });
  const envs = loaded.map((l) => l.env);
  const named = envs.flatMap((env) => hostsOf(env).map((host) => host.name));
  const run: Finished = { envs, stats: result.stats, outcome: judgeRun(result.stats, named, result.exitCode), exitCode: result.exitCode, ...(result.error ? { error: result.error } : {}) };
  if (result.error) ctx.stderr(`${command}: ${result.error}\n`);
  if (json) {
    printJson(ctx, command, { ok: run.outcome.ok, ansibleExitCode: run.exitCode, failed: run.outcome.failed, ...(run.error ? { error: run.error } : {}), ...spec.json(run) });
  } else if (!result.error) {
    log(spec.text(run));
  }
  if (!json && run.outcome.failed.length > 0) {
    const why = run.outcome.hosts.filter((h) => h.state === 'failed').map((h) => `${h.name} (${h.reason ?? 'failed'})`);
    ctx.stderr(`${command}: failed on ${why.length} host${why.length === 1 ? '' : 's'}: ${why.join(', ')}\n`);
  }
  return run.outcome.ok ? EXIT.ok : EXIT.failed;
}
