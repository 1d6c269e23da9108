// Turning validation failures into lines an operator can act on: the JSON path first,
// then what was wrong, then a valid example, one line per problem, all of them at once.
// No zod here: the CLI loads this for every error it prints, --version and --help included.

export interface EnvIssue {
  path: string;
  message: string;
  example?: string;
}

/** Thrown by loadEnv; holds every problem found, never just the first. */
export class EnvError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly EnvIssue[],
  ) {
    super(formatIssues(file, issues));
    this.name = 'EnvError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

// Characters a terminal acts on rather than shows: C0 and C1 controls (ESC starts colour,
// title and cursor sequences), DEL, the Unicode line separators, and the bidi controls
// that make text display in another order than it reads (CVE-2021-42574).
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from an environment file (or its name) made safe to print: every unprintable
 * character becomes a visible escape, \xNN below U+0100 and \u{NNNN} above.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** Every part of every line goes through printable: each one can quote the file. */
export function formatIssues(file: string, issues: readonly EnvIssue[]): string {
  const lines = issues.map((i) => `  ${printable(i.path)}: ${printable(i.message)}${i.example ? ` (example: ${printable(i.example)})` : ''}`);
  return `${printable(file)}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${lines.join('\n')}`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    // A typo near the start of a long key ("retension" for "retention_days") counts too.
    const d = Math.min(distance(word.toLowerCase(), c.toLowerCase()), distance(word.toLowerCase(), c.toLowerCase().slice(0, word.length)));
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
