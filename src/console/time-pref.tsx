import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { isHttpsRequest } from '../api/client-ip';
import { safeNext } from './auth-routes';
import { type TimeDisplay, timeDisplay, UTC } from './format';
import type { ConsoleContext, ConsoleEnv } from './session';

/**
 * UTC or local time, remembered for the browser session (a cookie without expiry, like the
 * session's own). Local time needs the browser's zone, which only the browser knows: the
 * console's script sends it as `cts_tz`. Without script the console stays in UTC and says why.
 */
const CHOICE_COOKIE = 'cts_time';
const ZONE_COOKIE = 'cts_tz';
const ZONE = /^[A-Za-z0-9_+\-/]{1,64}$/;

export interface TimeChoice extends TimeDisplay {
  /** What the user chose; `local` with zone `UTC` means the browser's zone is unknown. */
  choice: 'utc' | 'local';
}

export function timeChoice(c: ConsoleContext): TimeChoice {
  if (getCookie(c, CHOICE_COOKIE) !== 'local') return { ...UTC, choice: 'utc' };
  const zone = getCookie(c, ZONE_COOKIE);
  return { ...(zone && ZONE.test(zone) ? timeDisplay(zone) : UTC), choice: 'local' };
}

export const timeRoutes = new Hono<ConsoleEnv>().get('/time', (c) => {
  const choice = c.req.query('show') === 'local' ? 'local' : 'utc';
  setCookie(c, CHOICE_COOKIE, choice, {
    path: '/console',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttpsRequest(c),
  });
  return c.redirect(safeNext(c.req.query('back')) ?? '/console/traces', 303);
});

/** "Times in UTC · Show local time": a link that flips the choice and comes back here. */
export function TimeSwitch({ time, back }: { time: TimeChoice; back: string }) {
  const flip = time.choice === 'utc' ? 'local' : 'utc';
  const href = `/console/time?show=${flip}&back=${encodeURIComponent(back)}`;
  const unknown = time.choice === 'local' && time.zone === 'UTC';
  return (
    <span class="time-switch">
      Times in {time.zone}
      {unknown && ' (your browser did not tell its time zone: scripts are off)'} ·{' '}
      <a href={href}>{flip === 'local' ? 'Show local time' : 'Show UTC'}</a>
    </span>
  );
}
