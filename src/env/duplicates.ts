// JSON.parse keeps the last of two equal keys and says nothing, so an operator who adds a
// second "schedule" gets whichever comes last. This scanner walks text JSON.parse has
// already accepted and returns the path of every key an object repeats.
const SPACE = ' \t\n\r';
const END_OF_SCALAR = ',}] \t\n\r';

export function duplicateKeys(text: string): PropertyKey[][] {
  const found: PropertyKey[][] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && SPACE.includes(text.charAt(i))) i++;
  };
  const string = (): string => {
    const start = i;
    i++;
    while (text.charAt(i) !== '"') i += text.charAt(i) === '\\' ? 2 : 1;
    i++;
    // The text is valid JSON, so its own decoder gives the key exactly as JSON.parse saw it.
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: PropertyKey[]): void => {
    skipSpace();
    const c = text.charAt(i);
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      skipSpace();
      if (text.charAt(i) === '}') {
        i++;
        return;
      }
      for (;;) {
        skipSpace();
        const key = string();
        if (keys.has(key)) found.push([...path, key]);
        keys.add(key);
        skipSpace();
        i++; // the colon
        value([...path, key]);
        skipSpace();
        if (text.charAt(i++) === '}') return;
      }
    }
    if (c === '[') {
      i++;
      skipSpace();
      if (text.charAt(i) === ']') {
        i++;
        return;
      }
      for (let index = 0; ; index++) {
        value([...path, index]);
        skipSpace();
        if (text.charAt(i++) === ']') return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    while (i < text.length && !END_OF_SCALAR.includes(text.charAt(i))) i++;
  };
  value([]);
  return found;
}

/** Deeper than any environment file needs; the scanners above and zod recurse per level. */
export const MAX_DEPTH = 32;

/** How deeply objects and lists nest in JSON text, counted without recursion. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth);
    else if (c === '}' || c === ']') depth--;
  }
  return deepest;
}
