import { Hono } from 'hono';
import { CtsError } from '../domain/errors';
import {
  createTracker,
  deleteTrackers,
  getTransferLag,
  listArchiveDays,
  listArchivedFiles,
  listTrackers,
  readArchivedFile,
  type TrackerResponse,
  updateTracker,
} from '../domain/trackers';
import { requireAdmin, verifyForm } from './guards';
import { render } from './layout';
import { ConfirmPage } from './pages/confirm';
import { MessagePage } from './pages/message';
import { TrackerConfigurePage, type TrackerSettings } from './pages/tracker-configure';
import { TrackerFilesPage } from './pages/tracker-files';
import { TrackerListPage } from './pages/tracker-list';
import { type ConsoleContext, type ConsoleEnv, consoleActor } from './session';

const LIST = '/console/trackers';
const FILES_PER_PAGE = 100;

/** What the Tracker List says after a change (a fixed set: the URL cannot inject text). */
const NOTICES: Record<string, (name: string) => string> = {
  created: () => 'CTS is enabled: the system tracker was created.',
  configured: (name) => `Tracker ${name} saved. The new settings apply from the next transfer run.`,
  enabled: (name) => `Tracker ${name} enabled: transfer resumes with traces recorded from now on.`,
  disabled: (name) =>
    `Tracker ${name} disabled: traces are still recorded and queryable for 7 days, but not transferred.`,
  deleted: (name) => `Tracker ${name} deleted. Traces are kept; Enable CTS brings the tracker back.`,
};

const done = (c: ConsoleContext, what: keyof typeof NOTICES, name: string) =>
  c.redirect(`${LIST}?done=${what}&tracker=${encodeURIComponent(name)}`, 303);

async function findTracker(c: ConsoleContext, name: string): Promise<TrackerResponse> {
  const [tracker] = await listTrackers(c.var.deps, c.var.session.principal.projectId, name);
  if (!tracker) throw new CtsError(404, 'CTS.0214', `The tracker ${name} does not exist.`);
  return tracker;
}

function settingsOf(tracker: TrackerResponse): TrackerSettings {
  return {
    transfer: tracker.obs_info.bucket_name !== '',
    bucket_name: tracker.obs_info.bucket_name,
    is_obs_created: false,
    file_prefix_name: tracker.obs_info.file_prefix_name,
    compress_type: tracker.obs_info.compress_type,
    is_sort_by_service: tracker.obs_info.is_sort_by_service,
    is_support_validate: tracker.is_support_validate,
  };
}

function settingsFromForm(form: Record<string, unknown>): TrackerSettings {
  const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '');
  return {
    transfer: form.transfer === 'on',
    bucket_name: text('bucket_name'),
    is_obs_created: form.is_obs_created === 'on',
    file_prefix_name: text('file_prefix_name'),
    compress_type: form.compress_type === 'json' ? 'json' : 'gzip',
    is_sort_by_service: form.is_sort_by_service === 'on',
    is_support_validate: form.is_support_validate === 'on',
  };
}

/** The page for an operation the domain refused, with the way back to the Tracker List. */
function refused(c: ConsoleContext, title: string, error: { message: string; code: string }) {
  const link = { href: LIST, label: 'Back to the Tracker List' };
  return render(
    c,
    <MessagePage
      title={title}
      message={error.message}
      code={error.code}
      session={c.var.session}
      link={link}
    />,
    400,
  );
}

/** Calls a domain operation; a refusal (4xx) becomes a message for the page instead of an error page. */
async function attempt(run: () => Promise<unknown>): Promise<{ message: string; code: string } | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    if (error instanceof CtsError && error.status < 500) return { message: error.message, code: error.code };
    throw error;
  }
}

export const trackerRoutes = new Hono<ConsoleEnv>()
  .get('/trackers', async (c) => {
    const { deps, session } = c.var;
    const projectId = session.principal.projectId;
    const [trackers, lags] = [await listTrackers(deps, projectId), await getTransferLag(deps, projectId)];
    const rows = trackers.map((tracker) => ({
      tracker,
      lag: lags.find((lag) => lag.trackerName === tracker.tracker_name),
    }));
    const notice = NOTICES[c.req.query('done') ?? '']?.(c.req.query('tracker') ?? 'system');
    return render(
      c,
      <TrackerListPage session={session} trackers={rows} now={deps.clock()} notice={notice} />,
    );
  })
  .get('/trackers/enable-cts', requireAdmin, (c) =>
    render(
      c,
      <ConfirmPage
        session={c.var.session}
        title="Enable CTS"
        message="This creates the system management tracker. Configure it afterwards to transfer traces to a bucket."
        action={`${LIST}/enable-cts`}
        confirmLabel="Enable"
        cancelHref={LIST}
        active={LIST}
      />,
    ),
  )
  .post('/trackers/enable-cts', verifyForm, requireAdmin, async (c) => {
    const error = await attempt(() =>
      createTracker(c.var.deps, consoleActor(c), { tracker_type: 'system', tracker_name: 'system' }),
    );
    if (error) return refused(c, 'CTS could not be enabled', error);
    return done(c, 'created', 'system');
  })
  .get('/trackers/:name/configure', requireAdmin, async (c) => {
    const tracker = await findTracker(c, c.req.param('name'));
    return render(
      c,
      <TrackerConfigurePage
        session={c.var.session}
        trackerName={tracker.tracker_name}
        region={c.var.deps.config.CTS_REGION}
        values={settingsOf(tracker)}
      />,
    );
  })
  .post('/trackers/:name/configure', verifyForm, requireAdmin, async (c) => {
    const tracker = await findTracker(c, c.req.param('name'));
    const values = settingsFromForm(await c.req.parseBody());
    const error = await attempt(() =>
      updateTracker(c.var.deps, consoleActor(c), {
        tracker_type: tracker.tracker_type,
        tracker_name: tracker.tracker_name,
        obs_info: values.transfer
          ? {
              bucket_name: values.bucket_name,
              is_obs_created: values.is_obs_created,
              file_prefix_name: values.file_prefix_name,
              compress_type: values.compress_type,
              is_sort_by_service: values.is_sort_by_service,
            }
          : { bucket_name: '' },
        is_support_validate: values.is_support_validate,
      }),
    );
    if (!error) return done(c, 'configured', tracker.tracker_name);
    return render(
      c,
      <TrackerConfigurePage
        session={c.var.session}
        trackerName={tracker.tracker_name}
        region={c.var.deps.config.CTS_REGION}
        values={values}
        error={error}
      />,
      400,
    );
  })
  .get('/trackers/:name/status', requireAdmin, async (c) => {
    const tracker = await findTracker(c, c.req.param('name'));
    const enable = c.req.query('to') === 'enabled';
    const name = tracker.tracker_name;
    const message = enable
      ? `Enable tracker ${name}? Transfer (and digests, when configured) resume with the traces recorded from now on.`
      : `Disable tracker ${name}? Traces are still recorded and queryable for 7 days, but transfer and digests stop, and traces recorded while it is disabled are never transferred.`;
    return render(
      c,
      <ConfirmPage
        session={c.var.session}
        title={`${enable ? 'Enable' : 'Disable'} tracker ${name}`}
        message={message}
        action={`${LIST}/${encodeURIComponent(name)}/status`}
        fields={{ status: enable ? 'enabled' : 'disabled' }}
        confirmLabel={enable ? 'Enable' : 'Disable'}
        cancelHref={LIST}
        danger={!enable}
        active={LIST}
      />,
    );
  })
  .post('/trackers/:name/status', verifyForm, requireAdmin, async (c) => {
    const tracker = await findTracker(c, c.req.param('name'));
    const status = (await c.req.parseBody()).status === 'enabled' ? 'enabled' : 'disabled';
    const error = await attempt(() =>
      updateTracker(c.var.deps, consoleActor(c), {
        tracker_type: tracker.tracker_type,
        tracker_name: tracker.tracker_name,
        status,
      }),
    );
    if (error) return refused(c, `Tracker ${tracker.tracker_name} could not be ${status}`, error);
    return done(c, status, tracker.tracker_name);
  })
  .get('/trackers/:name/delete', requireAdmin, async (c) => {
    const tracker = await findTracker(c, c.req.param('name'));
    const name = tracker.tracker_name;
    return render(
      c,
      <ConfirmPage
        session={c.var.session}
        title={`Delete tracker ${name}`}
        message={`Delete tracker ${name}? Transfer to ${tracker.obs_info.bucket_name || 'a bucket'} stops. Recorded traces and archived files are kept, and Enable CTS creates the tracker again.`}
        action={`${LIST}/${encodeURIComponent(name)}/delete`}
        confirmLabel="Delete"
        cancelHref={LIST}
        danger
        active={LIST}
      />,
    );
  })
  .post('/trackers/:name/delete', verifyForm, requireAdmin, async (c) => {
    const tracker = await findTracker(c, c.req.param('name'));
    const error = await attempt(() =>
      deleteTrackers(c.var.deps, consoleActor(c), {
        tracker_name: tracker.tracker_name,
        tracker_type: tracker.tracker_type === 'data' ? 'data' : 'system',
      }),
    );
    if (error) return refused(c, `Tracker ${tracker.tracker_name} could not be deleted`, error);
    return done(c, 'deleted', tracker.tracker_name);
  })
  .get('/trackers/:name/files', async (c) => {
    const { deps, session } = c.var;
    const tracker = await findTracker(c, c.req.param('name'));
    const projectId = session.principal.projectId;
    const day = c.req.query('day');
    const common = { session, trackerName: tracker.tracker_name, bucket: tracker.obs_info.bucket_name };
    if (day === undefined) {
      const days = await listArchiveDays(deps, projectId, tracker.tracker_name);
      return render(c, <TrackerFilesPage {...common} days={days} />);
    }
    const service = c.req.query('service') || undefined;
    const before = Number(c.req.query('before'));
    const list = await listArchivedFiles(deps, projectId, tracker.tracker_name, {
      day,
      serviceType: service,
      limit: FILES_PER_PAGE + 1,
      before: Number.isSafeInteger(before) && before > 0 ? before : undefined,
    });
    const page = list.slice(0, FILES_PER_PAGE);
    const nextBefore = list.length > FILES_PER_PAGE ? page.at(-1)?.id : undefined;
    return render(c, <TrackerFilesPage {...common} files={{ day, service, list: page, nextBefore }} />);
  })
  .get('/trackers/:name/files/:id{[0-9]+}', async (c) => {
    const { deps, session } = c.var;
    const tracker = await findTracker(c, c.req.param('name'));
    const { file, body, contentType } = await readArchivedFile(
      deps,
      session.principal.projectId,
      Number(c.req.param('id')),
    );
    // Files stay readable after the tracker moves to another bucket; only another tracker's are refused.
    if (!file.objectKey.includes(`/${tracker.tracker_name}/`)) {
      return render(
        c,
        <MessagePage
          title="File not found"
          message="This file does not belong to this tracker."
          session={session}
        />,
        404,
      );
    }
    return c.body(body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': contentType,
      'Content-Disposition': `attachment; filename="${file.name.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'Content-Length': String(body.byteLength),
    });
  });
