import type { ConsoleSession } from '../../domain/projects/sessions';
import { PostForm } from '../forms';
import { ErrorBox, Layout } from '../layout';

/** The Configure form's values (what the tracker has, or what was just submitted). */
export interface TrackerSettings {
  transfer: boolean;
  bucket_name: string;
  is_obs_created: boolean;
  file_prefix_name: string;
  compress_type: 'gzip' | 'json';
  is_sort_by_service: boolean;
  is_support_validate: boolean;
}

export interface TrackerConfigureProps {
  session: ConsoleSession;
  trackerName: string;
  region: string;
  values: TrackerSettings;
  error?: { message: string; code?: string };
}

/** Configure (reference §6.3): transfer to a bucket, prefix, compression, sorting, verification. */
export function TrackerConfigurePage({ session, trackerName, region, values, error }: TrackerConfigureProps) {
  const action = `/console/trackers/${encodeURIComponent(trackerName)}/configure`;
  const service = values.is_sort_by_service ? '{SERVICE}/' : '';
  const prefix = values.file_prefix_name ? `${values.file_prefix_name}_` : '';
  const extension = values.compress_type === 'gzip' ? '.json.gz' : '.json';
  return (
    <Layout title={`Configure ${trackerName}`} session={session} active="/console/trackers">
      <div class="crumbs">
        <a href="/console/trackers">‹ Tracker List</a>
      </div>
      <h1>Configure tracker {trackerName}</h1>
      {error && <ErrorBox message={error.message} code={error.code} />}
      <PostForm action={action} csrf={session.csrfToken} class="card">
        <p>
          <label class="check">
            <input type="checkbox" name="transfer" value="on" checked={values.transfer} />
            Transfer traces to a bucket
          </label>
        </p>
        <div class="form-grid">
          <label>
            Bucket name
            <input
              type="text"
              name="bucket_name"
              value={values.bucket_name}
              placeholder="e.g. audit-traces"
              pattern="[a-z0-9][a-z0-9.\-]{2,62}"
              title="3-63 characters: lowercase letters, digits, hyphens and periods, starting with a letter or digit"
            />
          </label>
          <label>
            File prefix (optional)
            <input
              type="text"
              name="file_prefix_name"
              value={values.file_prefix_name}
              pattern="[A-Za-z0-9._\-]{0,64}"
              title="Up to 64 characters: letters, digits, periods, underscores and hyphens"
            />
          </label>
          <label>
            Compression
            <select name="compress_type">
              <option value="gzip" selected={values.compress_type === 'gzip'}>
                gzip (.json.gz)
              </option>
              <option value="json" selected={values.compress_type === 'json'}>
                Do not compress (.json)
              </option>
            </select>
          </label>
        </div>
        <p>
          <label class="check">
            <input type="checkbox" name="is_obs_created" value="on" checked={values.is_obs_created} />
            Create this bucket (leave unticked to use an existing bucket)
          </label>
          <label class="check">
            <input type="checkbox" name="is_sort_by_service" value="on" checked={values.is_sort_by_service} />
            Sort by cloud service (a folder per service)
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="is_support_validate"
              value="on"
              checked={values.is_support_validate}
            />
            Verify trace files (hourly signed digest files; needs transfer)
          </label>
        </p>
        <p class="sub">
          Transfer path:{' '}
          <span class="mono wrap">
            CloudTraces/{region}/{'{yyyy}/{m}/{d}'}/{trackerName}/{service}
            {prefix}CloudTrace_…{extension}
          </span>
        </p>
        <div class="actions">
          <button type="submit" class="primary">
            Save
          </button>
          <a class="button" href="/console/trackers">
            Cancel
          </a>
        </div>
      </PostForm>
    </Layout>
  );
}
