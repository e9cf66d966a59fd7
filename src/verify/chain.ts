import { digestKey, floorHour, HOUR_MS, parseFileTime } from '../transfer/digest';
import type { ArchiveScope } from './archive';
import type { CheckedDigest } from './digest-check';

/** A digest that should exist and does not, with the hour(s) it would have covered. */
export interface MissingDigest {
  /** Its key (known from a link, or expected from the hourly cadence), or a description. */
  label: string;
  start: number;
  end: number;
  /** More missing hourly digests folded into this finding (long outages), 0 normally. */
  more: number;
}

/** What the newer end of the walk expects of the next older digest. */
type Newer =
  | { kind: 'head' }
  | {
      kind: 'digest';
      digest: CheckedDigest;
      link: { object: string; isEnd: boolean } | null;
    };

const iso = (ms: number) => new Date(ms).toISOString();
// Longer runs of missing hourly digests are reported as one finding (an outage, not 1000 lines).
const FOLD_AFTER = 24;

/**
 * Walks a tracker's digests from the newest backwards and finds the links that do not hold and
 * the digests that should be there and are not — by the links (`previous_digest_*`) and by the
 * hourly cadence, so that several deleted in a row, or the newest one deleted, are all found.
 * Problems of present digests are added to their `problems`; missing ones are returned.
 */
export class ChainWalk {
  readonly missing: MissingDigest[] = [];
  private newer: Newer = { kind: 'head' };

  constructor(
    private readonly scope: ArchiveScope,
    /** The end of the newest hour whose digest must exist by now. */
    private readonly expectedNewest: number,
    /**
     * Digest objects that are there but not part of the chain (tampered, forged, unreadable):
     * their keys and the hours their names claim. Each is a finding of its own, so the walk does
     * not report it, or its hour, missing as well.
     */
    private readonly claimed: { keys: Set<string>; ends: Set<number> } = { keys: new Set(), ends: new Set() },
  ) {}

  private claimedBetween(after: number, upTo: number): boolean {
    for (const end of this.claimed.ends) if (end > after && end <= upTo) return true;
    return false;
  }

  private expectedKey(end: number, prefix: string): string {
    return digestKey({ ...this.scope, prefix, endTime: end });
  }

  /** Every full hour H with after < H < before (or ≤ before) as missing hourly digests. */
  private missingHours(after: number, before: number, prefix: string, inclusive: boolean): void {
    const hours: number[] = [];
    for (let h = floorHour(after) + HOUR_MS; inclusive ? h <= before : h < before; h += HOUR_MS) {
      if ((this.scope.from === undefined || h > this.scope.from) && !this.claimed.ends.has(h)) hours.push(h);
    }
    if (hours.length > FOLD_AFTER) {
      const first = hours[0]!;
      this.missing.push({
        label: this.expectedKey(first, prefix),
        start: first - HOUR_MS,
        end: hours.at(-1)!,
        more: hours.length - 1,
      });
      return;
    }
    // Newest first, like the walk.
    for (const h of hours.reverse())
      this.missing.push({ label: this.expectedKey(h, prefix), start: h - HOUR_MS, end: h, more: 0 });
  }

  private prefixOf(digest: CheckedDigest): string {
    const file = digest.key.slice(digest.key.lastIndexOf('/') + 1);
    const at = file.indexOf('CloudTrace-Digest_');
    return at > 0 ? file.slice(0, at - 1) : '';
  }

  /** The next older digest that is stored where it belongs (`placed`). */
  next(older: CheckedDigest): void {
    const newer = this.newer;
    const prefix = this.prefixOf(older);
    if (newer.kind === 'head') {
      if (!older.isEnd && older.end < this.expectedNewest)
        this.missingHours(older.end, this.expectedNewest, prefix, true);
    } else if (newer.link) {
      const { link, digest } = newer;
      if (link.object === older.key) {
        // The link's hash, signature and end flag were checked with the digest itself.
        if (link.isEnd ? digest.start < older.end : digest.start !== older.end)
          digest.problems.push(
            `its window starts at ${iso(digest.start)}, the previous ends at ${iso(older.end)}`,
          );
      } else {
        this.missingLink(link.object, digest.start);
        if (!older.isEnd)
          this.missingHours(older.end, this.linkEnd(link.object, digest.start), prefix, false);
      }
    } else if (!older.isEnd && !this.claimedBetween(older.end, newer.digest.end)) {
      // A new chain starts after a chain that never ended: its ending digest is gone.
      this.missing.push({
        label: `(the digest ending the chain after ${older.key})`,
        start: older.end,
        end: older.end,
        more: 0,
      });
    }
    const doc = older.doc!;
    this.newer = {
      kind: 'digest',
      digest: older,
      link: doc.previous_digest_object
        ? { object: doc.previous_digest_object, isEnd: doc.previous_digest_end }
        : null,
    };
  }

  private linkEnd(object: string, fallback: number): number {
    const time = parseFileTime(object.slice(-'YYYY-MM-DDTHH-mm-ssZ.json.gz'.length, -'.json.gz'.length));
    return Number.isNaN(time) ? fallback : time;
  }

  private missingLink(object: string, newerStart: number): void {
    if (this.claimed.keys.has(object)) return;
    const end = this.linkEnd(object, newerStart);
    this.missing.push({ label: object, start: end - HOUR_MS, end, more: 0 });
  }

  /**
   * The oldest end of the walk. `before` is the newest digest before the range (the chain's
   * state when the range begins), when one was found and is authentic. With no digest at all
   * where one was due, that is a finding too.
   */
  finish(before: CheckedDigest | undefined): void {
    const newer = this.newer;
    if (newer.kind === 'head') {
      if (before) this.next(before);
      else if (this.scope.from === undefined || this.expectedNewest > this.scope.from) {
        const label = `(any digest of tracker ${this.scope.trackerName} up to ${iso(this.expectedNewest)})`;
        this.missing.push({ label, start: this.expectedNewest, end: this.expectedNewest, more: 0 });
      }
      return;
    }
    if (!newer.link || newer.link.object === before?.key) return;
    const end = this.linkEnd(newer.link.object, newer.digest.start);
    if (this.scope.from !== undefined && end <= this.scope.from) return;
    this.missingLink(newer.link.object, newer.digest.start);
    // Hourly digests before it are due too, unless the chain may have started in between.
    const after = before ? (before.isEnd ? undefined : before.end) : this.scope.from;
    if (after !== undefined) this.missingHours(after, end, this.prefixOf(newer.digest), false);
  }
}
