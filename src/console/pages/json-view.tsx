import type { Child } from 'hono/jsx';

/**
 * A JSON value pretty-printed (two-space indent, the text `JSON.stringify(value, null, 2)` gives)
 * as JSX, with every string and key inside `<bdi>`: a right-to-left override in a reported value
 * then cannot reorder the quotes, commas and lines around it. Iterative, so a deep value cannot
 * exhaust the stack (stored values are at most 64 levels deep anyway).
 */
export function jsonNodes(value: unknown): Child[] {
  const out: Child[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push(text);
    text = '';
  };
  const string = (s: string) => {
    const quoted = JSON.stringify(s);
    text += '"';
    flush();
    out.push(<bdi>{quoted.slice(1, -1)}</bdi>);
    text += '"';
  };
  // A work list of things to print: a value at an indent, or literal text.
  const work: Array<{ value: unknown; indent: string } | { text: string }> = [{ value, indent: '' }];
  while (work.length > 0) {
    const item = work.pop()!;
    if ('text' in item) {
      text += item.text;
      continue;
    }
    const { value: v, indent } = item;
    if (typeof v === 'string') string(v);
    else if (v === null || typeof v !== 'object') text += JSON.stringify(v) ?? 'null';
    else {
      const inner = `${indent}  `;
      const entries: Array<[string | undefined, unknown]> = Array.isArray(v)
        ? v.map((x) => [undefined, x])
        : Object.entries(v).filter(([, x]) => x !== undefined);
      const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
      if (entries.length === 0) {
        text += open + close;
        continue;
      }
      text += open;
      const next: typeof work = [];
      entries.forEach(([key, x], i) => {
        next.push({ text: `\n${inner}` });
        if (key !== undefined) next.push({ value: key, indent: inner }, { text: ': ' });
        next.push({ value: x, indent: inner });
        if (i < entries.length - 1) next.push({ text: ',' });
      });
      next.push({ text: `\n${indent}${close}` });
      work.push(...next.reverse());
    }
  }
  flush();
  return out;
}

/**
 * A field issue 12's API returns as JSON *text* (request, response, message): shown parsed when
 * the text is a JSON object or array, as the string otherwise.
 */
export function parsedIfJson(value: unknown): unknown {
  if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
