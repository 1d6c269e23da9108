// Cron schedules as Debian's cron reads them.
//
// A schedule is checked against what crontab(5) documents, field by field: Debian's
// cron refuses the 4- and 6-field forms, `L`, `#`, `?`, `H` and names inside ranges
// that other cron dialects accept. The normalized form (numbers only, single spaces) is
// what lands in /etc/cron.d, so what the operator sees in `validate` is what cron runs.
//
// Run times are computed here too, with Debian's day rule (cron.c): when day-of-month or
// day-of-week starts with "*", a day must match both; otherwise either. Libraries such as
// cron-parser always take either, which turns "0 0 */2 * 1" (Mondays on odd days) into
// every odd day and every Monday.

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

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
const WEEK_MS = 7 * DAY_MINUTES * MINUTE_MS;
/**
 * 400 Gregorian years, exactly 20,871 weeks: dates and weekdays repeat with this period,
 * so the days a schedule runs on do too.
 */
const CYCLE_DAYS = 146_097;

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

/** A parsed schedule, laid out for walking the calendar a day at a time. */
interface Schedule {
  /** Indexed by month 1-12, day of month 1-31, day of week 0-6 (7 is folded into 0). */
  readonly months: readonly boolean[];
  readonly days: readonly boolean[];
  readonly weekdays: readonly boolean[];
  /** Debian's rule: either day field starting with "*" makes a day need both. */
  readonly bothDays: boolean;
  /** Minutes after midnight of every run on a run day, ascending; the same on every run day. */
  readonly times: readonly number[];
  /** The longest wait between two runs of the same day, in minutes (0 with one run a day). */
  readonly widestInDay: number;
}

function parseFields(schedule: string): ParsedField[] | string {
  const trimmed = schedule.trim();
  if (trimmed.startsWith('@')) {
    return `"${trimmed}" shortcuts are not supported; write the five fields`;
  }
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 5) {
    return `has ${trimmed === '' ? 0 : parts.length} fields; cron needs exactly 5 (minute hour day-of-month month day-of-week)`;
  }
  const parsed: ParsedField[] = [];
  for (const [i, spec] of FIELDS.entries()) {
    const result = parseField(parts[i] ?? '', spec);
    if (typeof result === 'string') return `${spec.name} field: ${result}`;
    parsed.push(result);
  }
  return parsed;
}

function flags(values: Set<number>, size: number): boolean[] {
  return Array.from({ length: size }, (_, i) => values.has(i));
}

function toSchedule(fields: ParsedField[]): Schedule {
  const [minute, hour, dom, month, dow] = fields as [ParsedField, ParsedField, ParsedField, ParsedField, ParsedField];
  const times: number[] = [];
  for (const h of [...hour.values].sort((x, y) => x - y)) {
    for (const m of [...minute.values].sort((x, y) => x - y)) times.push(h * 60 + m);
  }
  let widestInDay = 0;
  for (let i = 1; i < times.length; i++) widestInDay = Math.max(widestInDay, (times[i] ?? 0) - (times[i - 1] ?? 0));
  const weekdays = flags(dow.values, 7);
  if (dow.values.has(7)) weekdays[0] = true;
  return {
    months: flags(month.values, 13),
    days: flags(dom.values, 32),
    weekdays,
    bothDays: dom.star || dow.star,
    times,
    widestInDay,
  };
}

/** For a normalized schedule, which checkCron has already accepted. */
function compile(normalized: string): Schedule {
  const fields = parseFields(normalized);
  if (typeof fields === 'string') throw new Error(`not a Debian cron schedule: ${fields}`);
  return toSchedule(fields);
}

function monthLength(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1] ?? 31;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/**
 * Calls `visit` with each day (days since 1970-01-01, UTC) in [first, end) on which the
 * schedule runs, in order, until `visit` returns true. The calendar is stepped by hand:
 * a Date per day would cost more than the test itself.
 */
function forEachRunDay(schedule: Schedule, first: number, end: number, visit: (day: number) => boolean): void {
  const start = new Date(first * DAY_MINUTES * MINUTE_MS);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  let dom = start.getUTCDate();
  let dow = start.getUTCDay();
  let length = monthLength(year, month);
  const { months, days, weekdays, bothDays } = schedule;
  for (let day = first; day < end; day++) {
    if (months[month] && (bothDays ? days[dom] && weekdays[dow] : days[dom] || weekdays[dow])) {
      if (visit(day)) return;
    }
    dow = dow === 6 ? 0 : dow + 1;
    if (dom < length) {
      dom++;
    } else {
      dom = 1;
      if (month < 12) {
        month++;
      } else {
        month = 1;
        year++;
      }
      length = monthLength(year, month);
    }
  }
}

/** The first day in one cycle on which the schedule runs, or null if it never does. */
function firstRunDay(schedule: Schedule): number | null {
  let found: number | null = null;
  forEachRunDay(schedule, 0, CYCLE_DAYS, (day) => {
    found = day;
    return true;
  });
  return found;
}

export function checkCron(schedule: string): CronCheck {
  const fields = parseFields(schedule);
  if (typeof fields === 'string') return { ok: false, problem: fields };
  const normalized = fields.map((p) => p.normalized).join(' ');
  return { ok: true, normalized, never: firstRunDay(toSchedule(fields)) === null };
}

/**
 * The next `count` run times strictly after `from`, in UTC (fewer only if the schedule
 * runs fewer times in the next 400 years; none if it never runs).
 */
export function nextRuns(normalized: string, from: Date, count: number): Date[] {
  const schedule = compile(normalized);
  const runs: Date[] = [];
  if (count <= 0) return runs;
  const after = Math.floor(from.getTime() / MINUTE_MS);
  const firstDay = Math.floor(after / DAY_MINUTES);
  forEachRunDay(schedule, firstDay, firstDay + CYCLE_DAYS + 1, (day) => {
    for (const time of schedule.times) {
      const minute = day * DAY_MINUTES + time;
      if (minute <= after) continue;
      runs.push(new Date(minute * MINUTE_MS));
      if (runs.length === count) return true;
    }
    return false;
  });
  return runs;
}

/**
 * The longest wait between two consecutive runs, in milliseconds; null when fewer than two
 * runs fall in the span.
 *
 * Without a window the answer holds for all time: one cycle of run days, from a run day to
 * the same day a cycle later, contains every gap there is. With a window, only runs at or
 * after `from` and before `until` count. Whole days inside the span are taken a day at a
 * time, as every run day has the same run times.
 */
export function longestGap(normalized: string, window?: { from: Date; until: Date }): number | null {
  const schedule = compile(normalized);
  let from: number;
  let until: number;
  if (window) {
    from = Math.ceil(window.from.getTime() / MINUTE_MS);
    until = Math.ceil(window.until.getTime() / MINUTE_MS);
  } else {
    const first = firstRunDay(schedule);
    if (first === null) return null;
    from = first * DAY_MINUTES;
    until = (first + CYCLE_DAYS + 1) * DAY_MINUTES;
  }
  const { times, widestInDay } = schedule;
  const firstTime = times[0] ?? 0;
  const lastTime = times[times.length - 1] ?? 0;
  let previous: number | null = null;
  let longest: number | null = null;
  forEachRunDay(schedule, Math.floor(from / DAY_MINUTES), Math.ceil(until / DAY_MINUTES), (day) => {
    const midnight = day * DAY_MINUTES;
    if (previous !== null && midnight >= from && midnight + DAY_MINUTES <= until) {
      longest = Math.max(longest ?? 0, midnight + firstTime - previous, widestInDay);
      previous = midnight + lastTime;
      return false;
    }
    for (const time of times) {
      const minute = midnight + time;
      if (minute < from || minute >= until) continue;
      if (previous !== null) longest = Math.max(longest ?? 0, minute - previous);
      previous = minute;
    }
    return false;
  });
  return longest === null ? null : longest * MINUTE_MS;
}

/** True when some wait between two runs is longer than a week, or the schedule never runs. */
export function isLessThanWeekly(normalized: string): boolean {
  const gap = longestGap(normalized);
  return gap === null || gap > WEEK_MS;
}
