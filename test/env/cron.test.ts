import { describe, expect, it } from 'vitest';
import { checkCron, isLessThanWeekly, nextRuns } from '../../src/env/cron.js';

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
    expect(isLessThanWeekly(schedule, FROM)).toBe(expected);
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
