// The role's files written from the contract (src/env/contract.ts), which reads the
// schema: defaults, argument specs, the range checks argument specs cannot express, the
// README's variable table and the host settings spec. scripts/generate-schema.ts writes
// them; test/env/contract.test.ts fails when a committed copy differs.
import { stringify } from 'yaml';
import { confSpecs, roleSettings, type Setting } from './contract.js';

const GENERATED = 'Generated from src/env/schema.ts and src/env/contract.ts by `npm run schema`; do not edit.';

/** Entry points of the role, as tasks_from names them; each has the same options. */
const ENTRY_POINTS: readonly { name: string; summary: string }[] = [
  { name: 'release', summary: 'Install the backup tooling and schedule (release phase)' },
  { name: 'run', summary: 'Take the initial backup if the host has none (run phase)' },
  { name: 'backup_now', summary: 'Take a backup now through the maintenance script cron uses' },
  { name: 'list', summary: 'Report the backups on the host, with their checksums and the last run\'s status' },
  { name: 'restore', summary: 'Restore a verified backup (plan only unless tracker_backup_restore_yes)' },
];

// Ansible reads YAML 1.1, where a bare yes, on or 0755 is not a string; written as 1.1,
// such strings come out quoted.
const yaml = (value: unknown) => stringify(value, { version: '1.1', lineWidth: 150 }).trimEnd();

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => (line ? ' '.repeat(spaces) + line : line))
    .join('\n');
}

function comment(text: string, width = 100): string {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

function origin(setting: Setting): string {
  return setting.field ? ` (environment file: ${setting.field})` : '';
}

export function defaultsYaml(): string {
  const blocks = roleSettings().map((s) => `${comment(`${s.description}${origin(s)}`)}\n${yaml({ [s.variable]: s.default })}`);
  return `---
# ${GENERATED}
# Every public variable of the role. The tracker-backup CLI writes them from the
# environment file (backup.retention_days -> tracker_backup_retention_days); when the
# role is used on its own, set them in group_vars.

${blocks.join('\n\n')}
`;
}

function option(s: Setting): Record<string, unknown> {
  return {
    type: s.type,
    ...(s.type === 'list' ? { elements: 'str' } : {}),
    default: s.default,
    ...(s.choices ? { choices: s.choices } : {}),
    ...(s.noLog ? { no_log: true } : {}),
    description: s.description,
  };
}

export function argumentSpecsYaml(): string {
  const options = Object.fromEntries(roleSettings().map((s) => [s.variable, option(s)]));
  const others = ENTRY_POINTS.map((e) => `  ${e.name}:\n    short_description: ${yaml(e.summary)}\n    options: *tracker_backup_options`);
  return `---
# ${GENERATED}
# Ansible checks these before the first task, so a bad value stops the play before anything
# changes. Ranges it cannot express are checked by tasks/validate.yml, first in every entry point.
argument_specs:
  main:
    short_description: Install scheduled tracker backups and take the initial one
    description:
      - Installs the maintenance script, the compose backup service and the cron entry
        (release phase), then takes the first backup if the host has none (run phase).
    options: &tracker_backup_options
${indent(yaml(options), 6)}
${others.join('\n')}
`;
}

/**
 * One check of validate.yml: its rule (the message's start) and Python pattern, kept as
 * plain YAML values, and its item of the list of problems, which refers to them. Ansible
 * doubles the backslashes of string literals inside a templated expression, so no pattern
 * or message is spelled inside one.
 */
interface Check {
  key: string;
  rule: string;
  pattern?: string;
  item: string;
}

function check(s: Setting, kind: string, that: readonly string[], rule: string, pattern?: string): Check {
  const key = `${s.variable.replace(/^tracker_backup_/, '')}_${kind}`;
  const value = s.noLog ? "'its value is not shown (it may hold credentials)'" : `'it is ' ~ ${s.variable}`;
  const item = `(tracker_backup_check_rules.${key} ~ ${value} if not (
          ${that.map((condition) => `(${condition})`).join('\n          and ')}) else '')`;
  return { key, rule: `${s.variable}${origin(s)} must be ${rule}; `, pattern, item };
}

/** A JavaScript pattern for Python's re: its `$` also matches before a final newline, `\Z` does not. */
const pythonPattern = (pattern: string) => (pattern.endsWith('$') ? `${pattern.slice(0, -1)}\\Z` : pattern);

function checks(s: Setting): Check[] {
  const out: Check[] = [];
  const v = s.variable;
  if (s.minimum !== undefined && s.maximum !== undefined) {
    const rule = `a whole number from ${s.minimum} to ${s.maximum}`;
    out.push(check(s, 'range', [`${v} | int >= ${s.minimum}`, `${v} | int <= ${s.maximum}`], rule));
  }
  if (s.pattern) {
    const match = `tracker_backup_check_patterns.${v.replace(/^tracker_backup_/, '')}_pattern`;
    const most = s.maxLength === undefined ? '' : ` of at most ${s.maxLength} characters`;
    if (s.type === 'list') {
      const that = [`${v} | reject('match', ${match}) | list | length == 0`];
      if (s.maxLength !== undefined) that.push(`${v} | map('length') | select('gt', ${s.maxLength}) | list | length == 0`);
      out.push(check(s, 'pattern', that, `a list of strings matching ${s.pattern}${most}`, pythonPattern(s.pattern)));
    } else {
      // A default of "" means "none" (the bundled image), so "" stays allowed there.
      const empty = s.default === '' ? `${v} == '' or ` : '';
      const that = [`${empty}${v} is match(${match})`];
      if (s.maxLength !== undefined) that.push(`${v} | length <= ${s.maxLength}`);
      out.push(check(s, 'pattern', that, `${empty ? 'empty or ' : ''}a string matching ${s.pattern}${most}`, pythonPattern(s.pattern)));
    }
  }
  return out;
}

export function validateYaml(): string {
  const all = roleSettings().flatMap(checks);
  const patterns = Object.fromEntries(all.filter((c) => c.pattern !== undefined).map((c) => [c.key, c.pattern]));
  const rules = Object.fromEntries(all.map((c) => [c.key, c.rule]));
  return `---
# ${GENERATED}
# meta/argument_specs.yml checks types and choices; Ansible has no way to say a range or a
# pattern there, so they are checked here, before any task touches the host: in one task
# (a task per variable costs every run time), whose message names every wrong value.
- name: Values of the role variables are within their ranges and patterns
  ansible.builtin.assert:
    that: tracker_backup_invalid | length == 0
    fail_msg: "{{ tracker_backup_invalid | join('; ') }}"
    quiet: true
  vars:
${indent(stringify({ tracker_backup_check_patterns: patterns, tracker_backup_check_rules: rules }, { version: '1.1', lineWidth: 120 }).trimEnd(), 4)}
    tracker_backup_invalid: >-
      {{ [
        ${all.map((c) => c.item).join(',\n        ')}
      ] | select | list }}
`;
}

const README_BEGIN = '<!-- BEGIN role variables: generated by `npm run schema`; do not edit -->';
const README_END = '<!-- END role variables -->';

const code = (value: unknown) => `\`${JSON.stringify(value)}\``;

function allowed(s: Setting): string {
  if (s.choices) return s.choices.map(code).join(', ');
  if (s.minimum !== undefined && s.maximum !== undefined) return `${s.minimum}-${s.maximum}`;
  return '';
}

/** The README with its variable table (between the markers) regenerated. */
export function roleReadme(readme: string): string {
  const start = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`the role README lacks the markers ${README_BEGIN} ... ${README_END}`);
  const rows = roleSettings().map(
    (s) => `| \`${s.variable}\` | ${s.field ? `\`${s.field}\`` : ''} | ${code(s.default)} | ${allowed(s)} | ${s.description.replaceAll('|', '\\|')} |`,
  );
  const table = ['| variable | environment file | default | allowed | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
  return `${readme.slice(0, start)}${README_BEGIN}\n${table}\n${readme.slice(end)}`;
}

/** The host settings spec: what the host program accepts in backup.conf. */
export function settingsTsv(): string {
  const lines = confSpecs().map((c) => `${c.key}\t${c.type}\t${c.rule}`);
  return `# ${GENERATED}
# The keys of storage/backup/etc/backup.conf (templates/backup.conf.j2), each required,
# no others allowed: KEY<TAB>TYPE<TAB>RULE. int: MIN..MAX, decimal, inclusive. enum: a|b|c.
# relpath: non-empty, relative, no ".." component, no control characters. text: non-empty,
# no control characters.
${lines.join('\n')}
`;
}
