import type { ConsoleSession } from '../../domain/projects/sessions';
import type { TrackerResponse, TransferLag } from '../../domain/trackers';
import { formatDuration, formatTime } from '../format';
import { Layout, ListTable } from '../layout';

export interface TrackerListProps {
  session: ConsoleSession;
  trackers: Array<{ tracker: TrackerResponse; lag?: TransferLag }>;
  now: number;
  notice?: string;
}

const ERROR_DETAILS: Record<string, string> = {
  noBucket: 'The bucket does not exist (or was deleted): create it or choose another one.',
  bucketPolicyError: 'The bucket refuses writes: fix its access policy.',
  arrears: 'The account is in arrears: transfer is stopped.',
};

/** Tracker List (reference §11.1): status, transfer target and lag, and the operations. */
export function TrackerListPage({ session, trackers, now, notice }: TrackerListProps) {
  const admin = session.principal.role === 'admin';
  return (
    <Layout title="Tracker List" session={session} active="/console/trackers">
      <h1>Tracker List</h1>
      {notice && (
        <div class="notice" role="status">
          {notice}
        </div>
      )}
      {!admin && <p class="sub">You are signed in with a reader key: trackers are shown read-only.</p>}
      {trackers.length === 0 ? (
        <div class="empty">
          <p>
            CTS is not enabled for this project: there is no tracker, so traces are not transferred to a
            bucket.
          </p>
          {admin && (
            <p>
              <a class="button primary" href="/console/trackers/enable-cts">
                Enable CTS
              </a>
            </p>
          )}
        </div>
      ) : (
        <ListTable columns={['Tracker', 'Status', 'Bucket', 'Transfer lag', 'Operation']}>
          {trackers.map(({ tracker, lag }) => (
            <TrackerRow tracker={tracker} lag={lag} now={now} admin={admin} />
          ))}
        </ListTable>
      )}
    </Layout>
  );
}

function TrackerRow({
  tracker,
  lag,
  now,
  admin,
}: {
  tracker: TrackerResponse;
  lag?: TransferLag;
  now: number;
  admin: boolean;
}) {
  const name = encodeURIComponent(tracker.tracker_name);
  const obs = tracker.obs_info;
  const disabled = tracker.status === 'disabled';
  return (
    <tr>
      <td data-label="Tracker">
        <strong>{tracker.tracker_name}</strong>
        <span class="sub">Type: {tracker.tracker_type} (management)</span>
      </td>
      <td data-label="Status">
        <span class={`badge ${tracker.status}`}>{tracker.status}</span>
        {tracker.detail && (
          <span class="sub">
            {tracker.detail}: {ERROR_DETAILS[tracker.detail] ?? 'Transfer is failing.'}
          </span>
        )}
        {lag?.lastError && <span class="sub mono">{lag.lastError}</span>}
      </td>
      <td data-label="Bucket">
        {obs.bucket_name ? (
          <>
            <a href={`/console/trackers/${name}/files`}>{obs.bucket_name}</a>
            <span class="sub">
              Prefix: {obs.file_prefix_name || '(none)'} ·{' '}
              {obs.compress_type === 'gzip' ? 'gzip' : 'no compression'}
              {' · '}
              {obs.is_sort_by_service ? 'sorted by service' : 'not sorted by service'}
              {tracker.is_support_validate ? ' · trace file verification on' : ''}
            </span>
          </>
        ) : (
          <span class="sub">Transfer not configured</span>
        )}
      </td>
      <td data-label="Transfer lag">
        <Lag lag={lag} now={now} disabled={disabled} />
      </td>
      <td data-label="Operation">
        {admin ? (
          <div class="actions">
            <a class="button" href={`/console/trackers/${name}/configure`}>
              Configure
            </a>
            <a
              class="button"
              href={`/console/trackers/${name}/status?to=${disabled ? 'enabled' : 'disabled'}`}
            >
              {disabled ? 'Enable' : 'Disable'}
            </a>
            <a class="button" href={`/console/trackers/${name}/delete`}>
              Delete
            </a>
          </div>
        ) : (
          <span class="sub">Read-only</span>
        )}
      </td>
    </tr>
  );
}

function Lag({ lag, now, disabled }: { lag?: TransferLag; now: number; disabled: boolean }) {
  if (disabled) return <span class="sub">Transfer paused while the tracker is disabled</span>;
  if (!lag?.transferring) return <span class="sub">—</span>;
  const last = lag.lastTransferAt ? `Last file ${formatTime(lag.lastTransferAt)} UTC` : 'No file written yet';
  if (!lag.oldestPending) {
    return (
      <>
        Up to date<span class="sub">{last}</span>
      </>
    );
  }
  return (
    <>
      {lag.backlog} trace{lag.backlog === 1 ? '' : 's'} waiting, oldest for{' '}
      {formatDuration(now - lag.oldestPending.recordTime)}
      <span class="sub">
        Oldest untransferred: recorded {formatTime(lag.oldestPending.recordTime)} UTC. {last}
      </span>
    </>
  );
}
