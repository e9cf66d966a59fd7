import {
  deleteExpiredSessions,
  deleteSession,
  findLiveSession,
  insertSession,
} from '../../store/session-queries';
import { randomHex, sha256Hex } from '../crypto';
import type { Deps } from '../deps';
import { CtsError } from '../errors';
import { authenticate, type Principal } from './projects';

/** A console session lasts this long from sign-in (no sliding renewal: a stolen cookie ages out). */
export const SESSION_TTL_MS = 12 * 3_600_000;

export interface ConsoleSession {
  principal: Principal;
  /** Per-session token every state-changing console form must echo back. */
  csrfToken: string;
  expiresAt: number;
}

export interface StartedSession extends ConsoleSession {
  /** The secret for the cookie; only its SHA-256 is stored. */
  sessionId: string;
}

type SessionDeps = Pick<Deps, 'control' | 'clock'>;

/**
 * Signs in to the console with an API key. Reporter keys are refused: they may only report
 * traces, and the console is for reading them and managing trackers.
 */
export async function startSession(deps: SessionDeps, token: string): Promise<StartedSession> {
  const principal = token.length <= 512 ? await authenticate(deps, token) : undefined;
  if (!principal) {
    throw new CtsError(
      401,
      'CTS.0002',
      'This API key is not valid (unknown or revoked). Check it and retry.',
    );
  }
  if (principal.role === 'reporter') {
    throw new CtsError(
      403,
      'CTS.0013',
      'This is a reporter key: it can only report traces. Sign in with a reader or admin key.',
    );
  }
  const now = deps.clock();
  // Opportunistic clean-up: sign-ins are rare, so this keeps the table small at no real cost.
  await deleteExpiredSessions(deps.control, now);
  const sessionId = randomHex(32);
  const csrfToken = randomHex(32);
  const expiresAt = now + SESSION_TTL_MS;
  await insertSession(deps.control, {
    idHash: await sha256Hex(sessionId),
    keyId: principal.keyId,
    projectId: principal.projectId,
    csrfToken,
    createdAt: now,
    expiresAt,
  });
  return { sessionId, principal, csrfToken, expiresAt };
}

/** The session a cookie stands for, or undefined when it is unknown, expired or its key revoked. */
export async function resolveSession(
  deps: SessionDeps,
  sessionId: string,
): Promise<ConsoleSession | undefined> {
  if (!/^[0-9a-f]{64}$/.test(sessionId)) return undefined;
  const row = await findLiveSession(deps.control, await sha256Hex(sessionId), deps.clock());
  if (!row) return undefined;
  const { csrfToken, expiresAt, ...principal } = row;
  return { principal, csrfToken, expiresAt };
}

export async function endSession(deps: SessionDeps, sessionId: string): Promise<void> {
  if (/^[0-9a-f]{64}$/.test(sessionId)) await deleteSession(deps.control, await sha256Hex(sessionId));
}
