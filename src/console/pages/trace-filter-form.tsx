import { TRACE_RATINGS } from '../../domain/traces/schema';
import { PAGE_SIZES, RANGES, type RangeName, SEARCH_BY } from '../trace-filters';

/** Service acronyms offered as suggestions in the Trace Source box (any value may be typed). */
const KNOWN_SERVICES = ['CTS', 'ECS', 'EVS', 'VPC', 'IAM', 'OBS', 'ELB', 'RDS', 'DNS', 'KMS', 'CCE', 'SMN'];

/**
 * The Trace List's filters as a GET form: submitting it puts every filter in the URL (shareable,
 * and the back button works). `values` is the raw query, so a value that did not parse is shown
 * as typed.
 */
export function FilterForm({ values }: { values: URLSearchParams }) {
  const v = (name: string) => values.get(name) ?? '';
  const range = (v('range') || '1h') as RangeName;
  const searchBy = v('search_by') || 'resource_id';
  const limit = v('limit') || '20';
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
      <div class="search">
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
          Search
          <input type="text" name="search" value={v('search')} aria-label="Search value" />
        </label>
      </div>
      <label>
        Operator
        <input type="text" name="user" value={v('user')} placeholder="user name" />
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
        Trace ID
        <input type="text" name="trace_id" value={v('trace_id')} />
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
