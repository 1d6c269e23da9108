// Cron schedules as Debian's cron reads them.
//
// cron-parser accepts far more than Debian's cron (4- and 6-field forms, `L`, `#`, `?`,
// `H`, names inside ranges), so a schedule is first checked against what crontab(5)
// documents, field by field, and only then handed to cron-parser for the upcoming
// run times. The normalized form (numbers only, single spaces) is what lands in
// /etc/cron.d, so what the operator sees in `validate` is what cron runs.
import { CronExpressionParser } from 'cron-parser';

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Value a name maps to is its index plus this offset. */
  readonly nameBase?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
    nameBase: 1,
  },
  {
    name: 'day of week',
    min: 0,
    max: 7,
    names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
    nameBase: 0,
  },
];

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Long enough to contain a leap day, so gaps that only occur around 29 February show. */
const GAP_HORIZON_MS = 4 * 366 * DAY_MS;

export type CronCheck =
  | { ok: true; normalized: string; never: boolean }
  | { ok: false; problem: string };

interface ParsedField {
  normalized: string;
  values: Set<number>;
  star: boolean;
}

function parseNumber(text: string, spec: FieldSpec): number | string {
  if (!/^\d+$/.test(text)) {
    return `"${text}" is not a number`;
  }
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    return `${value} is outside ${spec.min}-${spec.max}`;
  }
  return value;
}

function parseElement(element: string, spec: FieldSpec, values: Set<number>): string | null {
  const [base = '', step, extra] = element.split('/');
  if (extra !== undefined) {
    return `"${element}" has more than one "/"`;
  }
  let low = spec.min;
  let high = spec.max;
  if (base !== '*') {
    const [from = '', to, more] = base.split('-');
    if (more !== undefined) {
      return `"${element}" has more than one "-"`;
    }
    const a = parseNumber(from, spec);
    if (typeof a === 'string') return a;
    if (to === undefined) {
      if (step !== undefined) {
        // Debian's cron only takes a step after "*" or a range; "5/10" would be refused.
        return `"${element}": a step needs "*" or a range before it, e.g. "${a}-${spec.max}/${step}"`;
      }
      values.add(a);
      return null;
    }
    const b = parseNumber(to, spec);
    if (typeof b === 'string') return b;
    if (a > b) {
      return `range "${base}" runs backwards`;
    }
    low = a;
    high = b;
  }
  let every = 1;
  if (step !== undefined) {
    if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > spec.max) {
      return `step "${step}" must be a whole number from 1 to ${spec.max}`;
    }
    every = Number(step);
  }
  for (let v = low; v <= high; v += every) values.add(v);
  return null;
}

function parseField(text: string, spec: FieldSpec): ParsedField | string {
  const lower = text.toLowerCase();
  const nameIndex = spec.names?.indexOf(lower) ?? -1;
  if (nameIndex >= 0) {
    const value = nameIndex + (spec.nameBase ?? 0);
    return { normalized: String(value), values: new Set([value]), star: false };
  }
  if (spec.names && /[a-z]/.test(lower)) {
    return `names are allowed only on their own (crontab(5)), e.g. "${spec.names[1]}"; use numbers for lists and ranges`;
  }
  if (!/^[0-9*,/-]+$/.test(text)) {
    return `"${text}" contains characters Debian's cron does not accept (only digits, "*", ",", "-", "/")`;
  }
  const values = new Set<number>();
  for (const element of text.split(',')) {
    if (element === '') return `"${text}" has an empty list element`;
    const problem = parseElement(element, spec, values);
    if (problem) return problem;
  }
  return { normalized: text, values, star: text.startsWith('*') };
}

/** True when no day in the year can ever satisfy day-of-month and month together. */
function neverMatches(dom: ParsedField, month: ParsedField, dow: ParsedField): boolean {
  if (dom.star || !dow.star) return false;
  for (const m of month.values) {
    const last = DAYS_IN_MONTH[m - 1] ?? 31;
    for (const d of dom.values) if (d <= last) return false;
  }
  return true;
}

export function checkCron(schedule: string): CronCheck {
  const trimmed = schedule.trim();
  if (trimmed.startsWith('@')) {
    return { ok: false, problem: `"${trimmed}" shortcuts are not supported; write the five fields` };
  }
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 5) {
    return {
      ok: false,
      problem: `has ${trimmed === '' ? 0 : parts.length} fields; cron needs exactly 5 (minute hour day-of-month month day-of-week)`,
    };
  }
  const parsed: ParsedField[] = [];
  for (const [i, spec] of FIELDS.entries()) {
    const result = parseField(parts[i] ?? '', spec);
    if (typeof result === 'string') {
      return { ok: false, problem: `${spec.name} field: ${result}` };
    }
    parsed.push(result);
  }
  const [, , dom, month, dow] = parsed as [ParsedField, ParsedField, ParsedField, ParsedField, ParsedField];
  const normalized = parsed.map((p) => p.normalized).join(' ');
  if (neverMatches(dom, month, dow)) {
    return { ok: true, normalized, never: true };
  }
  try {
    CronExpressionParser.parse(normalized, { tz: 'UTC' });
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
  return { ok: true, normalized, never: false };
}

/** The next `count` run times after `from`, in UTC. */
export function nextRuns(normalized: string, from: Date, count: number): Date[] {
  const expression = CronExpressionParser.parse(normalized, { currentDate: from, tz: 'UTC' });
  return expression.take(count).map((d) => d.toDate());
}

/**
 * The longest wait between two runs seen from `from` over four years, in milliseconds.
 * Walks run to run, but skips a day at a time through dense schedules (the last run
 * before the skip target is found with prev()), so an every-minute schedule costs about
 * as much as a daily one.
 */
export function longestGap(normalized: string, from: Date): number {
  const expression = CronExpressionParser.parse(normalized, { currentDate: from, tz: 'UTC' });
  const end = from.getTime() + GAP_HORIZON_MS;
  let longest = 0;
  let at = expression.next().getTime();
  while (at < end) {
    expression.reset(new Date(at));
    const next = expression.next().getTime();
    longest = Math.max(longest, next - at);
    if (longest > WEEK_MS) break;
    if (next - at >= DAY_MS) {
      at = next;
      continue;
    }
    expression.reset(new Date(at + DAY_MS + 1));
    at = Math.max(next, expression.prev().getTime());
  }
  return longest;
}

export function isLessThanWeekly(normalized: string, from: Date): boolean {
  return longestGap(normalized, from) > WEEK_MS;
}
