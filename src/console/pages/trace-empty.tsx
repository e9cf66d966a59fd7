import {
  canPrefix,
  hasCriteria,
  isPrefixSearch,
  listHref,
  RANGES,
  SEARCH_BY,
  type TraceFilters,
} from '../trace-filters';

/** What a query asked for, in words: `resource ID is exactly “db-1”`, `operator alice or bob`. */
export function describeCriteria(filters: TraceFilters): string[] {
  const said: string[] = [];
  const q = (value: string) => `“${value}”`;
  if (filters.search) {
    const field = SEARCH_BY[filters.search_by];
    said.push(`${field} ${isPrefixSearch(filters) ? 'starts with' : 'is exactly'} ${q(filters.search)}`);
  }
  if (filters.service_type) said.push(`trace source ${q(filters.service_type)}`);
  if (filters.resource_type) said.push(`resource type ${q(filters.resource_type)}`);
  if (filters.user) said.push(`operator ${filters.user.map(q).join(' or ')}`);
  if (filters.source_ip) said.push(`source IP ${q(filters.source_ip)}`);
  if (filters.code) said.push(`code ${q(filters.code)}`);
  if (filters.request_id) said.push(`request ID ${q(filters.request_id)}`);
  if (filters.tracker_name) said.push(`tracker ${q(filters.tracker_name)}`);
  if (filters.trace_type) said.push('management traces (system)');
  if (filters.trace_rating) said.push(`status ${filters.trace_rating}`);
  return said;
}

/**
 * An empty result: what was searched, then the obvious next steps — the same search by prefix
 * (resource ID and name: their indexes hold the value, so a prefix is a range of them), a wider
 * range, no filters. Matching inside a value is not offered: no index can serve it, so it reads
 * every trace of the window (see README, "Console").
 */
export function EmptyState({ filters }: { filters: TraceFilters }) {
  const wider = listHref({ ...filters, range: '7d', m: [] });
  const criteria = describeCriteria(filters);
  const when =
    filters.range === 'custom' ? 'in this time range' : `in the ${RANGES[filters.range].label.toLowerCase()}`;
  let message: string;
  if (filters.m.length > 0) message = 'No more traces on this page.';
  else if (filters.trace_id) message = `No trace with ID ${filters.trace_id} in the last 7 days.`;
  else if (criteria.length === 0) message = `No traces ${when} — widen the range.`;
  else message = `No traces ${when} where ${criteria.join(', ')}.`;
  const exact = filters.search && !isPrefixSearch(filters) && filters.m.length === 0 && !filters.trace_id;
  const prefix =
    exact && canPrefix(filters.search_by) ? listHref({ ...filters, match: 'prefix', m: [] }) : undefined;
  return (
    <div class="empty" role="status">
      <p>{message}</p>
      {exact && (
        <p class="hint">
          Search is exact and case-sensitive.{' '}
          {prefix
            ? 'Try the values that start with it, or search the last week.'
            : 'Only resource IDs and names can be searched by prefix.'}{' '}
          Finding a value inside a longer one is not offered: no index can serve it, so it would read every
          trace of the range.
        </p>
      )}
      <p class="actions">
        {prefix && (
          <a class="button primary" href={prefix}>
            {SEARCH_BY[filters.search_by]}s starting with “<bdi>{filters.search}</bdi>”
          </a>
        )}
        {filters.range !== '7d' && !filters.trace_id && (
          <a class="button" href={wider}>
            Search the last week
          </a>
        )}
        {hasCriteria(filters) && (
          <a class="button" href="/console/traces">
            Clear filters
          </a>
        )}
      </p>
    </div>
  );
}
