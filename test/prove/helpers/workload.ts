import { createClient } from '@libsql/client';
import { expectedApiTrace, type SentTrace } from './odd-traces';
import type { Prng } from './prng';

const DAY_MS = 86_400_000;
const SERVICES = ['ECS', 'EVS', 'VPC', 'IAM'] as const;

/**
 * Several concurrent clients reporting traces with unique ids, remembering exactly what each
 * trace was and which ones the server acknowledged (201). A batch whose request failed (the server
 * was killed) is sent again, unchanged, when the clients resume: reporting is idempotent.
 */
export class ReportingClients {
  /** Every trace ever sent, by id. */
  readonly sent = new Map<string, SentTrace>();
  /** Ids the server acknowledged with 201. */
  readonly acked = new Set<string>();
  /** Batches in flight when the server died, per client, to be sent again. */
  private readonly unsent = new Map<number, SentTrace[]>();
  private counter = 0;
  private stopping = false;
  requests = 0;
  failures = 0;

  constructor(
    private readonly rng: Prng,
    private readonly options: {
      clients: number;
      projectId: string;
      token: string;
      /** Share of traces older than the retention, so that retention has work once they are archived. */
      oldShare: number;
      maxBatch: number;
      pauseMs: [number, number];
      retentionDays: number;
      /** Replaces the default choice of `time` (old or recent by `oldShare`). */
      timeFor?: (rng: Prng, now: number) => number;
      /** Told the duration and outcome (status, or 0 when the request failed) of every report. */
      observe?: (ms: number, status: number) => void;
    },
  ) {}

  private nextBatch(client: number): SentTrace[] {
    const again = this.unsent.get(client);
    if (again) return again;
    const now = Date.now();
    const size = this.rng.int(1, this.options.maxBatch);
    return Array.from({ length: size }, () => {
      const id = `c${client}-${++this.counter}`;
      const old = this.rng.chance(this.options.oldShare);
      const trace: SentTrace = {
        trace_id: id,
        trace_name: this.rng.pick(['createServer', 'deleteServer', 'login', 'updatePolicy']),
        trace_rating: this.rng.pick(['normal', 'warning', 'incident']),
        trace_type: this.rng.pick(['ApiCall', 'ConsoleAction', 'SystemAction']),
        service_type: this.rng.pick(SERVICES),
        resource_type: 'res',
        resource_id: `r-${this.rng.int(1, 50)}`,
        resource_name: `name ${id} ✓`,
        time: this.options.timeFor
          ? this.options.timeFor(this.rng, now)
          : old
            ? now - (this.options.retentionDays + 1) * DAY_MS - this.rng.int(0, 3_600_000)
            : now - this.rng.int(0, 600_000),
        user: { id: 'u', name: `user-${this.rng.int(1, 9)}`, domain: { id: 'd', name: 'acme' } },
        source_ip: '203.0.113.9',
        code: this.rng.pick([200, 201, '404', null]),
        request: { id, n: this.counter, nested: { list: [1, 'two', null] } },
        response: this.rng.chance(0.5) ? { ok: true } : undefined,
      };
      this.sent.set(id, trace);
      return trace;
    });
  }

  /** Runs the clients against `url` until `stop()` or until the server stops answering. */
  async run(url: string): Promise<void> {
    this.stopping = false;
    await Promise.all(Array.from({ length: this.options.clients }, (_, client) => this.client(url, client)));
  }

  stop(): void {
    this.stopping = true;
  }

  private async client(url: string, client: number): Promise<void> {
    while (!this.stopping) {
      const batch = this.nextBatch(client);
      this.unsent.set(client, batch);
      this.requests++;
      let res: Response;
      const started = performance.now();
      try {
        res = await fetch(`${url}/v3/${this.options.projectId}/traces`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Auth-Token': this.options.token },
          body: JSON.stringify({ traces: batch }),
          signal: AbortSignal.timeout(20_000),
        });
      } catch {
        this.failures++;
        this.options.observe?.(performance.now() - started, 0);
        return; // The server is gone: the batch stays unsent and goes first next time.
      }
      const text = await res.text().catch(() => '');
      this.options.observe?.(performance.now() - started, res.status);
      if (res.status === 201) {
        const body = JSON.parse(text) as { trace_ids: string[]; recorded: number; duplicates: number };
        const ids = batch.map((t) => t.trace_id);
        if (
          JSON.stringify(body.trace_ids) !== JSON.stringify(ids) ||
          body.recorded + body.duplicates !== ids.length
        ) {
          throw new Error(`201 with a body that does not match the batch: ${text}`);
        }
        for (const id of ids) this.acked.add(id);
        this.unsent.delete(client);
      } else if (res.status !== 503) {
        throw new Error(`report answered ${res.status}: ${text}`);
      }
      await new Promise((r) => setTimeout(r, this.rng.int(...this.options.pauseMs)));
    }
  }

  /** The trace a file must hold for `id`, in the API's shape but for `record_time`. */
  expected(id: string): Record<string, unknown> | undefined {
    const trace = this.sent.get(id);
    return trace ? expectedApiTrace(trace) : undefined;
  }
}

/** What the database file says, read while the server is down. */
export interface DbState {
  /** trace_id → number of rows (must be 1). */
  traces: Map<string, number>;
  files: Array<{ key: string; firstSeq: number; lastSeq: number; count: number; sha256: string }>;
  tracker: { cursor: number; planEnd: number | null; status: string; detail: string | null };
  maxSeq: number;
}

export async function readDbState(dbFile: string, projectId: string): Promise<DbState> {
  const client = createClient({ url: `file:${dbFile}` });
  try {
    const traces = await client.execute({
      sql: 'SELECT trace_id, count(*) AS n FROM traces WHERE project_id = ? GROUP BY trace_id',
      args: [projectId],
    });
    const files = await client.execute({
      sql: 'SELECT object_key, first_seq, last_seq, trace_count, sha256 FROM transferred_files WHERE project_id = ?',
      args: [projectId],
    });
    const [tracker] = (
      await client.execute({
        sql: "SELECT transfer_cursor, transfer_plan_end, status, detail FROM trackers WHERE project_id = ? AND tracker_name = 'system'",
        args: [projectId],
      })
    ).rows;
    const [max] = (await client.execute('SELECT coalesce(max(seq), 0) AS m FROM traces')).rows;
    return {
      traces: new Map(traces.rows.map((r) => [String(r.trace_id), Number(r.n)])),
      files: files.rows.map((r) => ({
        key: String(r.object_key),
        firstSeq: Number(r.first_seq),
        lastSeq: Number(r.last_seq),
        count: Number(r.trace_count),
        sha256: String(r.sha256),
      })),
      tracker: {
        cursor: Number(tracker?.transfer_cursor ?? 0),
        planEnd: tracker?.transfer_plan_end == null ? null : Number(tracker.transfer_plan_end),
        status: String(tracker?.status),
        detail: tracker?.detail == null ? null : String(tracker.detail),
      },
      maxSeq: Number(max?.m ?? 0),
    };
  } finally {
    client.close();
  }
}
