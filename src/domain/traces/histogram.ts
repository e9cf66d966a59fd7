import {
  countHistogram,
  countHistogramByRating,
  type HistogramCount,
  refreshHourCounts,
  selectHourCounts,
} from '../../store/trace-histogram';
import type { Deps } from '../deps';
import { equalsOf, queryWindow, type TraceSearch } from './query';
import { TRACE_RATINGS } from './schema';

/**
 * Most traces a histogram counts, the newest of the result (bounds its cost, see the store):
 * through the list's index path, where each counted trace is a table row read, and per rating
 * when only the rating is filtered, where a trace is one covering index entry.
 */
export const HISTOGRAM_CAP = 3_000;
export const RATING_CAP = 20_000;
/** Most bars: the bucket width is the first of `WIDTHS` that gives no more. */
const MAX_BARS = 90;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const WIDTHS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);
/** Windows longer than this, filtered by rating at most, are drawn from the hourly counts. */
const HOURLY_OVER = 12 * HOUR;
/** Most new traces one request adds to the hourly counts (bounds a first view after a long gap). */
const REFRESH_BATCH = 200_000;

export type RatingCounts = Record<(typeof TRACE_RATINGS)[number], number>;

export interface HistogramBar extends RatingCounts {
  /** `[start, end)` in epoch ms. */
  start: number;
  end: number;
}

export interface Histogram {
  from: number;
  to: number;
  width: number;
  bars: HistogramBar[];
  totals: RatingCounts;
  /** When the cap cut the count: bars that start before this time are incomplete. */
  countedFrom?: number;
}

/** The result of a query per time bucket and rating, over its whole window. */
export async function traceHistogram(
  deps: Pick<Deps, 'db' | 'clock'> & Partial<Pick<Deps, 'waitUntil'>>,
  projectId: string,
  query: TraceSearch,
  caps = { rows: HISTOGRAM_CAP, perRating: RATING_CAP },
): Promise<Histogram> {
  const { from, to } = queryWindow(query, deps.clock());
  const equals = equalsOf(query);
  const byRating = Object.keys(equals).every((name) => name === 'trace_rating') && !query.prefixes;
  const ratings = equals.trace_rating === undefined ? TRACE_RATINGS : [equals.trace_rating].flat();
  // A wide window, unfiltered but by rating: whole hours from the hourly counts, when they are
  // up to date (else, as for everything else, counted over the indexes up to the caps).
  const hourly =
    byRating &&
    to - from > HOURLY_OVER &&
    (await refreshHourCounts(deps.db, projectId, REFRESH_BATCH, deps.waitUntil));
  const width = WIDTHS.find((w) => (!hourly || w >= HOUR) && (to - from) / w <= MAX_BARS) ?? WIDTHS.at(-1)!;
  const start = Math.floor(from / width) * width;
  const count = Math.max(1, Math.ceil((to + 1 - start) / width));
  const bars: HistogramBar[] = Array.from({ length: count }, (_, i) => ({
    start: start + i * width,
    end: start + (i + 1) * width,
    normal: 0,
    warning: 0,
    incident: 0,
  }));
  const totals: RatingCounts = { normal: 0, warning: 0, incident: 0 };
  let cells: HistogramCount[];
  if (hourly) {
    const rows = await selectHourCounts(
      deps.db,
      projectId,
      ratings,
      Math.floor(from / HOUR),
      Math.floor(to / HOUR),
    );
    cells = rows.map((row) => ({
      bucket: Math.floor((row.slot * HOUR - start) / width),
      rating: row.rating,
      n: row.n,
      oldest: row.slot * HOUR,
    }));
  } else if (byRating) {
    cells = await countHistogramByRating(
      deps.db,
      projectId,
      ratings,
      { from, to },
      start,
      width,
      caps.perRating,
    );
  } else {
    cells = await countHistogram(
      deps.db,
      { projectId, from, to, equals, prefixes: query.prefixes },
      start,
      width,
      caps.rows,
    );
  }
  const counted = new Map<string, { n: number; oldest: number }>();
  for (const cell of cells) {
    const key = byRating ? cell.rating : '';
    const sum = counted.get(key) ?? { n: 0, oldest: Number.POSITIVE_INFINITY };
    counted.set(key, { n: sum.n + cell.n, oldest: Math.min(sum.oldest, cell.oldest) });
    const bar = bars[cell.bucket];
    const rating = cell.rating as keyof RatingCounts;
    if (!bar || !(rating in totals)) continue;
    bar[rating] += cell.n;
    totals[rating] += cell.n;
  }
  // Where a cap cut the count, only what is newer than the latest cut is complete.
  const cap = hourly ? Number.POSITIVE_INFINITY : byRating ? caps.perRating : caps.rows;
  const cuts = [...counted.values()].filter((sum) => sum.n >= cap).map((sum) => sum.oldest);
  const countedFrom = cuts.length > 0 ? Math.max(...cuts) : undefined;
  return { from, to, width, bars, totals, countedFrom };
}
