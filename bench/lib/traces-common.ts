/** Shared by the trace benchmark's processes. */
import { readFileSync } from 'node:fs';

/** One query of the latency run, replayed against the store alone for the ceiling. */
export interface QuerySample {
  /** Filter name(s) joined by `+`, or `(none)`. */
  name: string;
  window: '7 days' | 'last hour';
  /** A value no stored trace has (the walk over every slot of the window). */
  absent: boolean;
  from: number;
  to: number;
  limit: number;
  equals: Record<string, string>;
}

/** The p-th percentile (nearest rank) of some durations. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Peak resident memory of a process (VmHWM), MiB. */
export function peakRssMb(pid: number | 'self' = 'self'): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/);
  return match ? Number(match[1]) / 1024 : 0;
}

/** CPU time (user + system) a process has used so far, seconds (Linux, 100 ticks a second). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface InsertResult {
  rowsPerSecond: number;
  /** Rows per second of CPU time the database calls used: what the load of the machine moves least. */
  rowsPerCpuSecond: number;
  /** Rows per second of each tenth of the run (the rate falls as the database grows). */
  segments: number[];
  peakRssMb: number;
}
export interface BatchResult {
  tracesPerSecond: number;
  recorded: number;
  seconds: number;
  /** Traces of reports that got no answer within the client's timeout (stored or not). */
  unanswered: number;
}
export interface RateResult {
  perSecond: number;
  /** Traces the server said it recorded (single-trace mode), summed after each response. */
  recorded?: number;
  /** Single-trace reports that got no answer within the client's timeout (stored or not). */
  unanswered?: number;
}
export interface CountResult {
  count: number;
}
/** Latency per `filter|window|present-or-absent`, ms. */
export type LatencyResult = Record<string, { p50: number; p95: number }>;
