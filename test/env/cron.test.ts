import { describe, expect, it } from 'vitest';
import { checkCron, isLessThanWeekly, longestGap, nextRuns } from '../../src/env/cron.js';

const FROM = new Date('2026-01-01T00:00:00Z');

describe('checkCron accepts what Debian cron reads and writes it as numbers', () => {
  it.each([
    ['0 3 * * *', '0 3 * * *'],
    ['0 2 * * 1', '0 2 * * 1'],
    ['0 */6 * * *', '0 */6 * * *'],
    ['0 0 1 * *', '0 0 1 * *'],
    ['  0   3 * *   *  ', '0 3 * * *'],
    ['0 3 * * sun', '0 3 * * 0'],
    ['0 3 * * SAT', '0 3 * * 6'],
    ['0 3 * jan *', '0 3 * 1 *'],
    ['0 3 * * 7', '0 3 * * 7'],
    ['5,35 1-5/2 1,15 */3 1-5', '5,35 1-5/2 1,15 */3 1-5'],
    ['* * * * *', '* * * * *'],
    // cron-parser refused both ("duplicate values", a star in a list); Debian's cron reads them.
    ['0 0 * * 0,7', '0 0 * * 0,7'],
    ['0 0 15 * *,3', '0 0 15 * *,3'],
  ])('%j -> %j', (input, normalized) => {
    expect(checkCron(input)).toEqual({ ok: true, normalized, never: false });
  });
});

describe('checkCron refuses what cron would refuse or misread', () => {
  it.each([
    ['0 3 * *', 'has 4 fields'],
    ['0 0 3 * * *', 'has 6 fields'],
    ['0 0 3 * * * 2026', 'has 7 fields'],
    ['', 'has 0 fields'],
    ['@reboot', 'shortcuts are not supported'],
    ['@daily', 'shortcuts are not supported'],
    ['0 3 L * *', 'day of month field'],
    ['0 3 * * 1#2', 'day of week field'],
    ['0 3 ? * *', 'day of month field'],
    ['H 3 * * *', 'minute field'],
    ['60 3 * * *', '60 is outside 0-59'],
    ['0 24 * * *', '24 is outside 0-23'],
    ['0 3 0 * *', '0 is outside 1-31'],
    ['0 3 * 13 *', '13 is outside 1-12'],
    ['0 3 * * 8', '8 is outside 0-7'],
    ['*/0 * * * *', 'step "0"'],
    ['5/10 * * * *', 'a step needs "*" or a range'],
    ['10-5 * * * *', 'runs backwards'],
    ['0 3 * * mon-fri', 'names are allowed only on their own'],
    ['0 3 * jan,feb *', 'names are allowed only on their own'],
    ['0 3 * * funday', 'names are allowed only on their own'],
    ['1,,2 * * * *', 'empty list element'],
    ['0 3 * * * ; rm -rf /', 'has 9 fields'],
    ['0 3 * * 1%2', 'day of week field'],
  ])('%j (%s)', (input, problem) => {
    const result = checkCron(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(problem);
  });
});

describe('schedules that never run are accepted and flagged', () => {
  it.each(['0 0 31 2 *', '0 0 30 2 *', '0 0 31 4,6,9,11 *'])('%j never runs', (input) => {
    expect(checkCron(input)).toMatchObject({ ok: true, never: true });
  });

  it('29 February runs, in leap years', () => {
    expect(checkCron('0 0 29 2 *')).toMatchObject({ ok: true, never: false });
    expect(nextRuns('0 0 29 2 *', FROM, 1)[0]?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });
});

describe('isLessThanWeekly', () => {
  it.each([
    ['* * * * *', false],
    ['0 3 * * *', false],
    ['0 2 * * 1', false],
    ['0 */6 * * *', false],
    ['0 0 1 * *', true],
    ['0 0 29 2 *', true],
    ['0 3 1,8,15,22 * *', true],
    ['* * 1 1 *', true],
    ['0 0 1,8,15,22,29 * 0', false],
  ])('%j -> %s', (schedule, expected) => {
    expect(isLessThanWeekly(schedule)).toBe(expected);
  });
});

describe('nextRuns', () => {
  it('gives the next three runs in UTC', () => {
    expect(nextRuns('0 3 * * *', FROM, 3).map((d) => d.toISOString())).toEqual([
      '2026-01-01T03:00:00.000Z',
      '2026-01-02T03:00:00.000Z',
      '2026-01-03T03:00:00.000Z',
    ]);
  });
});

// Debian's cron (cron.c) needs both day fields to match when either starts with "*", and
// either of them otherwise; cron-parser and most libraries always take either.
describe("Debian's day rule", () => {
  const iso = (dates: Date[]) => dates.map((d) => d.toISOString().slice(0, 16));
  it.each([
    // AND: Mondays that fall on odd days, not every odd day plus every Monday.
    ['0 0 */2 * 1', ['2026-01-05T00:00', '2026-01-19T00:00', '2026-02-09T00:00'], true],
    // AND: Sundays, Tuesdays, Thursdays and Saturdays among the first seven days.
    ['0 0 1-7 * */2', ['2026-01-03T00:00', '2026-01-04T00:00', '2026-01-06T00:00'], true],
    // AND: Fridays on the 1st, 11th, 21st or 31st.
    ['0 0 */10 * 5', ['2026-05-01T00:00', '2026-07-31T00:00', '2026-08-21T00:00'], true],
    // "*,15" starts with "*": every day AND Wednesday is just Wednesdays.
    ['0 0 *,15 * 3', ['2026-01-07T00:00', '2026-01-14T00:00', '2026-01-21T00:00'], false],
    // AND: Mondays on the 1st, 8th, 15th, 22nd or 29th.
    ['0 0 */7 * 1', ['2026-06-01T00:00', '2026-06-08T00:00', '2026-06-15T00:00'], true],
    // "*/1" in day of week still starts with "*": the 15th, whatever the weekday.
    ['0 0 15 * */1', ['2026-01-15T00:00', '2026-02-15T00:00', '2026-03-15T00:00'], true],
    // Neither starts with "*": OR, Fridays and the 13th.
    ['0 0 13 * 5', ['2026-01-02T00:00', '2026-01-09T00:00', '2026-01-13T00:00'], false],
    // AND: 29 February on a Sunday (day of week 7), next in 2032.
    ['0 0 29 2 */7', ['2032-02-29T00:00', '2060-02-29T00:00', '2088-02-29T00:00'], true],
  ])('%j runs %j; less often than weekly: %s', (schedule, runs, lessThanWeekly) => {
    expect(checkCron(schedule)).toEqual({ ok: true, normalized: schedule, never: false });
    expect(iso(nextRuns(schedule, FROM, 3))).toEqual(runs);
    expect(isLessThanWeekly(schedule)).toBe(lessThanWeekly);
  });

  it.each(['0 0 31 2 */2', '0 0 30,31 2 *', '0 0 31 4,6,9,11 */3'])('%j never runs (AND with a date that does not exist)', (schedule) => {
    expect(checkCron(schedule)).toMatchObject({ ok: true, never: true });
    expect(nextRuns(schedule, FROM, 3)).toEqual([]);
    expect(longestGap(schedule)).toBeNull();
    expect(isLessThanWeekly(schedule)).toBe(true);
  });

  it('gives the longest gap over all time, not only the years ahead', () => {
    // 2100 is not a leap year: the runs on 29 February 2096 and 2104 are eight years apart.
    expect(longestGap('0 0 29 2 *')).toBe(Date.UTC(2104, 1, 29) - Date.UTC(2096, 1, 29));
    // Mondays on odd days: 21 days from the 19th (or 17th...) to the 9th (or 7th...).
    expect(longestGap('0 0 */2 * 1')).toBe(21 * DAY_MS);
    expect(longestGap('0 3 * * *')).toBe(DAY_MS);
    expect(longestGap('*/20 1-2 * * *')).toBe(DAY_MS - 100 * 60_000);
  });
});

// An independent oracle: every minute of a year, tested against the raw field text with
// the rule from cron.c, sharing no code with src/env/cron.ts.
const DAY_MS = 86_400_000;
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function oracleField(text: string, low: number, high: number, names: string[] = [], nameBase = 0): Set<number> {
  const named = names.indexOf(text.toLowerCase());
  if (named >= 0) return new Set([named + nameBase]);
  const values = new Set<number>();
  for (const element of text.split(',')) {
    const [range = '', step = '1'] = element.split('/');
    const [from, to] = range === '*' ? [low, high] : range.includes('-') ? range.split('-').map(Number) : [Number(range), Number(range)];
    for (let v = from ?? low; v <= (to ?? high); v += Number(step)) values.add(v);
  }
  return values;
}

/** Every run in [start, end) (start at midnight UTC), as epoch milliseconds, minute by minute. */
function oracleRuns(schedule: string, start: number, end: number): number[] {
  const [minute = '', hour = '', dom = '', month = '', dow = ''] = schedule.trim().split(/\s+/);
  const minutes = oracleField(minute, 0, 59);
  const hours = oracleField(hour, 0, 23);
  const doms = oracleField(dom, 1, 31);
  const months = oracleField(month, 1, 12, MONTH_NAMES, 1);
  const dows = oracleField(dow, 0, 7, DAY_NAMES);
  const both = dom.startsWith('*') || dow.startsWith('*');
  const runs: number[] = [];
  for (let midnight = start; midnight < end; midnight += DAY_MS) {
    const date = new Date(midnight);
    const weekday = date.getUTCDay();
    const domMatch = doms.has(date.getUTCDate());
    const dowMatch = dows.has(weekday) || (weekday === 0 && dows.has(7));
    const dayMatch = months.has(date.getUTCMonth() + 1) && (both ? domMatch && dowMatch : domMatch || dowMatch);
    for (let m = 0; m < 1440; m++) {
      if (dayMatch && hours.has(Math.floor(m / 60)) && minutes.has(m % 60)) runs.push(midnight + m * 60_000);
    }
  }
  return runs;
}

const ORACLE_SCHEDULES = [
  '0 3 * * *',
  '* * * * *',
  '*/15 * * * *',
  '0 */6 * * *',
  '0 2 * * 1',
  '0 0 1 * *',
  '0 0 */2 * 1',
  '0 0 1-7 * */2',
  '0 0 */10 * 5',
  '30 4 1,15 * 5',
  '0 0 13 * 5',
  '0 0 * * 7',
  '0 0 * * 0,7',
  '0 0 1-7 * 7',
  '0 0 29 2 *',
  '0 0 30 2 *',
  '0 0 31 4,6,9,11 *',
  '0 0 31 2 */2',
  '0 0 29 2 1',
  '0 0 29 2 */7',
  '5,35 1-5/2 1,15 */3 1-5',
  '0 12 * jan *',
  '0 3 * * sun',
  '0 3 * * SAT',
  '45 6 * DEC Fri',
  '0 0 */31 * 1',
  '0 0 1 * */1',
  '0 0 */1 * 1',
  '0 0 2-30/7 * *',
  '0 0 1,8,15,22,29 * 0',
  '0 0 1,8,15,22 * *',
  '59 23 31 12 *',
  '0 0 1 1 *',
  '* * 1 1 *',
  '0,30 9-17 * * 1-5',
  '0 0 10-20 * 2-4',
  '0 0 */3 */2 */3',
  '*/7 */5 */4 * *',
  '0 0 * 2 *',
  '0 0 1-31/2 * 1-7/2',
  '0 0 *,15 * 3',
  '0 0 15 * *,3',
  '0 4 8-14 * 0',
  '1 1 1 1 1',
  '0 12 28-31 2 *',
  '0 0 31 * *',
  '0 0 31 * 6',
  '0 0 31 * */6',
  '10-50/20 0,12 5-25/10 2-11/3 *',
  '0 0 * * 5-7',
];

describe.each([2026, 2028])('against minute-by-minute enumeration of %i', (year) => {
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const starts = [start, Date.UTC(year, 1, 28, 12, 34, 56), Date.UTC(year, 5, 15, 3, 0, 0), Date.UTC(year, 11, 31, 20, 0, 30)];
  const enumerated = new Map<string, number[]>();
  const runsOf = (schedule: string): number[] => {
    const runs = enumerated.get(schedule) ?? oracleRuns(schedule, start, end);
    enumerated.set(schedule, runs);
    return runs;
  };
  const normalized = (schedule: string): string => {
    const check = checkCron(schedule);
    if (!check.ok) throw new Error(`${schedule}: ${check.problem}`);
    return check.normalized;
  };

  it.each(ORACLE_SCHEDULES)('next runs of %j', (schedule) => {
    const runs = runsOf(schedule);
    const check = checkCron(schedule);
    const never = check.ok && check.never;
    if (never) expect(runs).toEqual([]);
    for (const from of starts) {
      const expected = runs.filter((t) => t > from).slice(0, 10);
      const actual = nextRuns(normalized(schedule), new Date(from), 10).map((d) => d.getTime());
      expect(actual.length).toBe(never ? 0 : 10);
      expect(actual.filter((t) => t < end)).toEqual(expected);
    }
  });

  it.each(ORACLE_SCHEDULES)('longest gap of %j', (schedule) => {
    const runs = runsOf(schedule);
    let gap: number | null = null;
    for (let i = 1; i < runs.length; i++) gap = Math.max(gap ?? 0, (runs[i] ?? 0) - (runs[i - 1] ?? 0));
    expect(longestGap(normalized(schedule), { from: new Date(start), until: new Date(end) })).toBe(gap);
    if (gap === null) return;
    expect(longestGap(normalized(schedule))).toBeGreaterThanOrEqual(gap);
    if (gap > 7 * DAY_MS) expect(isLessThanWeekly(normalized(schedule))).toBe(true);
  });
});
