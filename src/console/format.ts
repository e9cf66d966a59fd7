/** `2026-11-24 11:30:05` (UTC). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** How the console shows times: in UTC, or in the browser's time zone (an IANA name). */
export interface TimeDisplay {
  /** `UTC`, or the zone's name (`Europe/Berlin`), said next to every time shown. */
  zone: string;
  format(ms: number): string;
}

export const UTC: TimeDisplay = { zone: 'UTC', format: formatTime };

const displays = new Map<string, TimeDisplay>([['UTC', UTC]]);

/** The display for an IANA zone name; UTC for a name this runtime does not know. */
export function timeDisplay(zone: string | undefined): TimeDisplay {
  if (!zone) return UTC;
  let display = displays.get(zone);
  if (display) return display;
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return UTC;
  }
  display = {
    zone: formatter.resolvedOptions().timeZone,
    format(ms) {
      const p: Record<string, string> = {};
      for (const part of formatter.formatToParts(ms)) p[part.type] = part.value;
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
    },
  };
  // A bounded cache: zone names come from a cookie.
  if (displays.size < 64) displays.set(zone, display);
  return display;
}

/** The value for a `datetime-local` input (UTC), to the minute. */
export function toLocalInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** `3 h 5 min`, `2 d 4 h`, `45 s`: a rough duration for lags and ages. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
