import { TRACE_RATINGS } from '../../domain/traces/schema';
import { canPrefix, MAX_USERS, PAGE_SIZES, RANGES, type RangeName, SEARCH_BY } from '../trace-filters';

/** Service acronyms offered as suggestions in the Trace Source box (any value may be typed). */
const KNOWN_SERVICES = ['CTS', 'ECS', 'EVS', 'VPC', 'IAM', 'OBS', 'ELB', 'RDS', 'DNS', 'KMS', 'CCE', 'SMN'];

/** Filters kept under "More filters" (open when one of them is set). */
const MORE = [
  'source_ip',
  'code',
  'request_id',
  'tracker_name',
  'trace_type',
  'trace_id',
  'from',
  'to',
  'limit',
];

/**
 * The Trace List's filters as a GET form: submitting it puts the filters in the URL (shareable,
 * and the back button works; the server drops empty fields with a redirect). `values` is the raw
 * query, so a value that did not parse is shown as typed.
 */
export function FilterForm({ values }: { values: URLSearchParams }) {
  const v = (name: string) => values.get(name) ?? '';
  const range = (v('range') || '1h') as RangeName;
  const searchBy = v('search_by') || 'resource_id';
  const limit = v('limit') || '20';
  const moreOpen = range === 'custom' || MORE.some((name) => v(name) !== '');
  return (
    <form class="card filters" method="get" action="/console/traces" aria-label="Trace filters">
      <label>
        Trace source
        <input
          type="text"
          name="service_type"
          value={v('service_type')}
          list="services"
          placeholder="e.g. ECS"
        />
      </label>
      <datalist id="services">
        {KNOWN_SERVICES.map((service) => (
          <option value={service} />
        ))}
      </datalist>
      <label>
        Resource type
        <input type="text" name="resource_type" value={v('resource_type')} placeholder="e.g. ecs" />
      </label>
      <fieldset class="search">
        <legend class="visually-hidden">Search</legend>
        <label>
          Search by
          <select name="search_by">
            {Object.entries(SEARCH_BY).map(([value, label]) => (
              <option value={value} selected={value === searchBy}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Match
          <select name="match">
            <option value="exact">is exactly</option>
            <option value="prefix" selected={v('match') === 'prefix' && canPrefix(searchBy)}>
              starts with (IDs, names)
            </option>
          </select>
        </label>
        <label>
          Search value
          <input type="text" name="search" value={v('search')} />
        </label>
      </fieldset>
      <label>
        Operators
        <input
          type="text"
          name="user"
          value={v('user')}
          placeholder="alice, bob"
          title={`One or more user names, separated by commas (at most ${MAX_USERS})`}
        />
      </label>
      <label>
        Trace status
        <select name="trace_rating">
          <option value="">All trace statuses</option>
          {TRACE_RATINGS.map((rating) => (
            <option value={rating} selected={rating === v('trace_rating')}>
              {rating[0]!.toUpperCase() + rating.slice(1)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Time range
        <select name="range">
          {Object.entries(RANGES).map(([value, { label }]) => (
            <option value={value} selected={value === range}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <details class="more" open={moreOpen}>
        <summary>More filters</summary>
        <div class="filters-more">
          <label>
            Source IP
            <input type="text" name="source_ip" value={v('source_ip')} inputmode="text" />
          </label>
          <label>
            Code
            <input type="text" name="code" value={v('code')} placeholder="e.g. 403" />
          </label>
          <label>
            Request ID
            <input type="text" name="request_id" value={v('request_id')} />
          </label>
          <label>
            Tracker
            <input type="text" name="tracker_name" value={v('tracker_name')} placeholder="e.g. system" />
          </label>
          <label>
            Trace type
            <select name="trace_type">
              <option value="">All trace types</option>
              <option value="system" selected={v('trace_type') === 'system'}>
                Management (system)
              </option>
            </select>
          </label>
          <label>
            Trace ID
            <input type="text" name="trace_id" value={v('trace_id')} />
          </label>
          <label>
            From (UTC, custom range)
            <input type="datetime-local" name="from" value={v('from')} />
          </label>
          <label>
            To (UTC, custom range)
            <input type="datetime-local" name="to" value={v('to')} />
          </label>
          <label>
            Rows per page
            <select name="limit">
              {PAGE_SIZES.map((size) => (
                <option value={String(size)} selected={String(size) === limit}>
                  {size}
                </option>
              ))}
            </select>
          </label>
        </div>
      </details>
      <div class="buttons">
        <button type="submit" class="primary">
          Query
        </button>
        <a class="button" href="/console/traces">
          Reset
        </a>
      </div>
    </form>
  );
}
