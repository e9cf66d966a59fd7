/** A half-open `[start, end)` time period, epoch ms. */
export type Period = [number, number];

/** Whether `time` lies in one of the sorted, disjoint periods. */
export function inPeriods(periods: Period[], time: number): boolean {
  let low = 0;
  let high = periods.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const [start, end] = periods[mid]!;
    if (time < start) high = mid - 1;
    else if (time >= end) low = mid + 1;
    else return true;
  }
  return false;
}

/** Merges overlapping periods so that the binary search sees disjoint ones. */
export function merge(periods: Period[]): Period[] {
  const sorted = periods.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const out: Period[] = [];
  for (const [start, end] of sorted) {
    const last = out.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** Runs `work` over `items` with at most `limit` at a time, in order of start. */
export async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}
