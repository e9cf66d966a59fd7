/**
 * Text that may be stored. A JavaScript string can hold an unpaired UTF-16 surrogate (a JSON
 * body can carry one as `\udc00`); SQLite's JSON functions decode such an escape into bytes that
 * are not UTF-8, and the libSQL client aborts the process when it reads them back. So nothing
 * with one may reach the database: a client's value is refused (`loneSurrogatePaths`), a value
 * we record ourselves (a header, a refused name echoed in the self-audit) is repaired (`fitText`).
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

export const REPLACEMENT = '\ufffd';

/** True when `text` has no unpaired surrogate (it encodes to valid UTF-8). */
export const isWellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);

/** `text` with every unpaired surrogate replaced by U+FFFD. */
export const toWellFormed = (text: string): string =>
  isWellFormed(text) ? text : text.replace(LONE_SURROGATES, REPLACEMENT);

/** At most `max` UTF-16 units of `text`, never cutting a surrogate pair in two. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

/**
 * A value we record ourselves made storable under the limit a reported trace obeys for the same
 * field: well-formed, control characters replaced by U+FFFD, cut to `max`. `null` stays `null`.
 */
export function fitText(text: string | null | undefined, max: number): string | null {
  if (text == null) return null;
  return truncate(toWellFormed(text).replace(CONTROL, REPLACEMENT), max);
}

/**
 * An unpaired surrogate in JSON text as `JSON.stringify` writes it: a `\uDxxx` escape (a valid
 * pair is written as itself, never escaped) preceded by an even number of backslashes, i.e. not
 * the text `\\udc00` (an escaped backslash followed by letters).
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const ESCAPED_LONE_SURROGATE = /(?<=(?:^|[^\\])(?:\\\\)*)\\u[dD][89a-fA-F][0-9a-fA-F]{2}/g;

/**
 * False when a JSON text cannot parse to a string or key with an unpaired surrogate: only a
 * `\uDxxx` escape can put one there (decoding UTF-8 never yields one; invalid bytes become
 * U+FFFD). One scan of the text instead of a walk over every parsed value; true may be a false
 * alarm (an escaped backslash before `uDxxx`), to be settled by `loneSurrogatePaths`.
 */
export const jsonTextMayHoldLoneSurrogate = (json: string): boolean => SURROGATE_ESCAPE.test(json);

/**
 * JSON text written by `JSON.stringify` with every unpaired surrogate (in strings and keys alike)
 * replaced by U+FFFD. One regular-expression pass: cheap enough for every stored JSON text.
 */
export const wellFormedJsonText = (json: string): string =>
  // The cheap scan first: the replacement's lookbehind is tried at every position of the text.
  SURROGATE_ESCAPE.test(json) ? json.replace(ESCAPED_LONE_SURROGATE, '\\ufffd') : json;

/** The JSON value with every string and key made well-formed (for values we record ourselves). */
export const wellFormedJson = (value: unknown): unknown =>
  value === undefined ? undefined : JSON.parse(wellFormedJsonText(JSON.stringify(value)));

/** Appends a JSON path step the way error `details` name fields (`a.b[2].c`). */
const step = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;

/** Whether a parsed JSON value holds a string or key with an unpaired surrogate (explicit stack). */
function holdsLoneSurrogate(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (!isWellFormed(current)) return true;
    } else if (Array.isArray(current)) {
      for (const child of current) stack.push(child);
    } else if (current !== null && typeof current === 'object') {
      for (const key in current) {
        if (!Object.hasOwn(current, key)) continue;
        if (!isWellFormed(key)) return true;
        stack.push((current as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * Where a parsed JSON value holds a string (or key) with an unpaired surrogate, as field paths
 * below `root` (at most `limit` of them). Walks with an explicit stack: the value is hostile.
 */
export function loneSurrogatePaths(value: unknown, root = '', limit = 20): string[] {
  // Valid bodies are the rule: one walk without building a path per value (which took ~5 % of
  // the server's CPU on 1,000-trace reports), the paths only when there is something to name.
  if (!holdsLoneSurrogate(value)) return [];
  const found: string[] = [];
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0 && found.length < limit) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (!isWellFormed(current)) found.push(path || '(body)');
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], step(path, i)]);
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (!isWellFormed(key)) found.push(step(path, toWellFormed(key)));
        else stack.push([child, step(path, key)]);
      }
    }
  }
  return found;
}
