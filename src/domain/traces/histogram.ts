import { countHistogram } from '../../store/trace-histogram';
import type { Deps } from '../deps';
import { equalsOf, queryWindow, type TraceSearch } from './query';
import type { TRACE_RATINGS } from './schema';

/** Most traces a histogram counts: the newest of the result (bounds its cost, see the store). */
export const HISTOGRAM_CAP = 10_000;
/** Most bars: the bucket width is the first of `WIDTHS` that gives no more. */
const MAX_BARS = 90;
const MINUTE = 60_000;
const WIDTHS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);

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
  deps: Pick<Deps, 'db' | 'clock'>,
  projectId: string,
  query: TraceSearch,
  cap = HISTOGRAM_CAP,
): Promise<Histogram> {
  const { from, to } = queryWindow(query, deps.clock());
  const width = WIDTHS.find((w) => (to - from) / w <= MAX_BARS) ?? WIDTHS.at(-1)!;
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
  const cells = await countHistogram(
    deps.db,
    { projectId, from, to, equals: equalsOf(query), prefixes: query.prefixes },
    start,
    width,
    cap,
  );
  let counted = 0;
  let oldest = Number.POSITIVE_INFINITY;
  for (const cell of cells) {
    counted += cell.n;
    oldest = Math.min(oldest, cell.oldest);
    const bar = bars[cell.bucket];
    const rating = cell.rating as keyof RatingCounts;
    if (!bar || !(rating in totals)) continue;
    bar[rating] += cell.n;
    totals[rating] += cell.n;
  }
  return { from, to, width, bars, totals, countedFrom: counted >= cap ? oldest : undefined };
}
