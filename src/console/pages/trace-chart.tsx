import type { Histogram, HistogramBar } from '../../domain/traces/histogram';
import { formatDuration, type TimeDisplay, toLocalInput } from '../format';
import { listHref, type TraceFilters } from '../trace-filters';

const RATINGS = ['normal', 'warning', 'incident'] as const;
const BAR = 10;
const HEIGHT = 100;

const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}`;
const summary = (counts: Record<(typeof RATINGS)[number], number>) =>
  RATINGS.map((rating) => plural(counts[rating], rating)).join(', ');

/**
 * The histogram above the Trace List: the matching traces per time bucket over the selected
 * range, stacked by rating, drawn as SVG on the server. Each non-empty bar is a link that
 * narrows the range to its bucket (no script), named for screen readers with its time and counts.
 */
export function TraceChart({
  histogram,
  filters,
  time,
}: {
  histogram: Histogram;
  filters: TraceFilters;
  time: TimeDisplay;
}) {
  const { bars, totals, countedFrom } = histogram;
  const max = Math.max(1, ...bars.map((bar) => bar.normal + bar.warning + bar.incident));
  const per = formatDuration(histogram.width);
  return (
    <figure class="chart card">
      <figcaption>
        <span>
          Traces per {per}: {summary(totals)}. Select a bar to narrow the range to it.
        </span>
        <span class="legend" aria-hidden="true">
          {RATINGS.map((rating) => (
            <span class={`key ${rating}`}>{rating}</span>
          ))}
        </span>
      </figcaption>
      {countedFrom !== undefined && (
        <p class="sub">
          Not every trace is counted: the newest are, back to {time.format(countedFrom)} {time.zone}: bars
          before that (faded) are incomplete. Narrow the range to count them all.
        </p>
      )}
      <a class="skip" href="#trace-table">
        Skip the chart
      </a>
      <svg viewBox={`0 0 ${bars.length * BAR} ${HEIGHT}`} preserveAspectRatio="none">
        <title>{`Traces per ${per}, ${time.format(histogram.from)} to ${time.format(histogram.to)} ${time.zone}`}</title>
        {bars.map((bar, i) => (
          <Bar
            bar={bar}
            x={i * BAR}
            max={max}
            filters={filters}
            time={time}
            partial={bar.start < (countedFrom ?? 0)}
          />
        ))}
      </svg>
      <div class="axis" aria-hidden="true">
        <span>{time.format(histogram.from)}</span>
        <span>
          {time.format(histogram.to)} {time.zone}
        </span>
      </div>
    </figure>
  );
}

function Bar({
  bar,
  x,
  max,
  filters,
  time,
  partial,
}: {
  bar: HistogramBar;
  x: number;
  max: number;
  filters: TraceFilters;
  time: TimeDisplay;
  partial: boolean;
}) {
  const total = bar.normal + bar.warning + bar.incident;
  if (total === 0) return null;
  const label = `${time.format(bar.start)} to ${time.format(bar.end)} ${time.zone}: ${summary(bar)}${partial ? ' (incomplete)' : ''}`;
  const href = listHref({
    ...filters,
    range: 'custom',
    from: toLocalInput(bar.start),
    to: toLocalInput(bar.end),
    m: [],
  });
  let y = HEIGHT;
  return (
    <a href={href} aria-label={label} class={partial ? 'partial' : undefined}>
      <title>{label}</title>
      <rect class="hit" x={x} y={0} width={BAR} height={HEIGHT} />
      {RATINGS.map((rating) => {
        if (bar[rating] === 0) return null;
        const h = Math.max(1.5, (bar[rating] / max) * (HEIGHT - 4));
        y -= h;
        return <rect class={rating} x={x + 1} y={y} width={BAR - 2} height={h} />;
      })}
    </a>
  );
}
