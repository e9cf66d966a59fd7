import type { ConsoleSession } from '../../domain/projects/sessions';
import type { ArchiveDay, ArchivedFile } from '../../domain/trackers';
import { formatBytes, formatTime } from '../format';
import { Layout, ListTable } from '../layout';

export interface TrackerFilesProps {
  session: ConsoleSession;
  trackerName: string;
  bucket: string;
  /** Without a day: the days and services archived. */
  days?: ArchiveDay[];
  /** With a day: that day's files (of one service, when chosen). */
  files?: { day: string; service?: string; list: ArchivedFile[]; nextBefore?: number };
}

/** A browser of what a tracker archived: days, then services, then files to download. */
export function TrackerFilesPage({ session, trackerName, bucket, days, files }: TrackerFilesProps) {
  const base = `/console/trackers/${encodeURIComponent(trackerName)}/files`;
  return (
    <Layout title={`Archived files of ${trackerName}`} session={session} active="/console/trackers">
      <nav class="crumbs" aria-label="Breadcrumbs">
        <a href="/console/trackers">Tracker List</a> › <a href={base}>{trackerName}: archived files</a>
        {files && (
          <>
            {' › '}
            <a href={`${base}?day=${files.day}`}>{files.day}</a>
            {files.service && ` › ${files.service}`}
          </>
        )}
      </nav>
      <h1>Archived files</h1>
      <p class="sub">
        Trace files tracker {trackerName} wrote{bucket ? ` to bucket ${bucket}` : ''}, by UTC upload day and
        service.
      </p>
      {days && <DayList base={base} days={days} />}
      {files && <FileList base={base} files={files} />}
    </Layout>
  );
}

function DayList({ base, days }: { base: string; days: ArchiveDay[] }) {
  if (days.length === 0)
    return (
      <div class="empty">
        <p>No files archived yet. Files appear after the next transfer run once a bucket is configured.</p>
      </div>
    );
  return (
    <ListTable columns={['Day (UTC)', 'Service', 'Files', 'Traces', 'Size']}>
      {days.map((d) => {
        const query = new URLSearchParams({ day: d.day });
        if (d.serviceType) query.set('service', d.serviceType);
        return (
          <tr>
            <td data-label="Day (UTC)">
              <a href={`${base}?day=${d.day}`}>{d.day}</a>
            </td>
            <td data-label="Service">
              <a href={`${base}?${query}`}>{d.serviceType ?? '(not sorted by service)'}</a>
            </td>
            <td data-label="Files">{d.files}</td>
            <td data-label="Traces">{d.traces}</td>
            <td data-label="Size">{formatBytes(d.bytes)}</td>
          </tr>
        );
      })}
    </ListTable>
  );
}

function FileList({ base, files }: { base: string; files: NonNullable<TrackerFilesProps['files']> }) {
  if (files.list.length === 0)
    return (
      <div class="empty">
        <p>No files for this day{files.service ? ` and service ${files.service}` : ''}.</p>
      </div>
    );
  const more = new URLSearchParams({ day: files.day });
  if (files.service) more.set('service', files.service);
  if (files.nextBefore !== undefined) more.set('before', String(files.nextBefore));
  return (
    <>
      <ListTable columns={['File', 'Service', 'Traces', 'Trace times (UTC)', 'Size', 'Uploaded (UTC)']}>
        {files.list.map((file) => (
          <tr>
            <td data-label="File">
              <a href={`${base}/${file.id}`} download={file.name}>
                {file.name}
              </a>
              <span class="sub mono">sha256 {file.sha256.slice(0, 16)}…</span>
            </td>
            <td data-label="Service">{file.serviceType ?? '—'}</td>
            <td data-label="Traces">{file.traceCount}</td>
            <td data-label="Trace times (UTC)">
              {formatTime(file.oldestTime)} – {formatTime(file.newestTime)}
            </td>
            <td data-label="Size">{formatBytes(file.size)}</td>
            <td data-label="Uploaded (UTC)">{formatTime(file.uploadedAt)}</td>
          </tr>
        ))}
      </ListTable>
      {files.nextBefore !== undefined && (
        <nav class="pager" aria-label="Pages">
          <a class="button" rel="next" href={`${base}?${more}`}>
            Older files ›
          </a>
        </nav>
      )}
    </>
  );
}
