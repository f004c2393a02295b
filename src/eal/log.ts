// Logging with pino. One logger per thread; child loggers carry the component name (binding `c`).
//
// Two formats, both written synchronously to stderr:
//   pretty (the default): one readable line per event, as DPDK prints them, formatted by pino-pretty:
//                         EAL: EAL initialised lcores=[0,1] main=0 iova=va mb=256 hugepages=true
//                         ETHDEV: warn: close failed port=0 err="..."
//   json:                 pino's own JSON lines ({"level":30,"time":...}), for log collectors.
// The EAL option --log-format chooses (PKTIO_LOG_FORMAT sets the default before init). Worker lcores follow the
// main thread's choice. An application that hands pktio its own pino instance (setRootLogger) keeps its format and
// destination: pktio never replaces or wraps it.
import { pino, destination, levels, type Logger, type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { isMainThread, threadId, getEnvironmentData, setEnvironmentData } from 'node:worker_threads';

export type LogFormat = 'pretty' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json'];

/** Carries the main thread's format to worker lcores started after it is set. */
const FORMAT_KEY = 'pktio.logFormat';

function initialFormat(): LogFormat {
  const inherited = isMainThread ? undefined : getEnvironmentData(FORMAT_KEY);
  const v = inherited ?? process.env.PKTIO_LOG_FORMAT;
  return v === 'json' ? 'json' : 'pretty';
}

/** A bare value as it reads in key=value: strings without blanks or quotes as they are, the rest as JSON. */
function fmtValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(fmtValue).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // an Error as pino serialises it: its message only (no stack traces in readable logs)
    if (typeof o.message === 'string' && typeof o.type === 'string' && 'stack' in o) return JSON.stringify(o.message);
    return JSON.stringify(v);
  }
  return String(v);
}

/** Keys of a pino record that are not the event's own fields. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'c', 'msg', 'thread']);

/** One DPDK-like line: `COMPONENT: [level: ]message key=value ... [thread=N]`. */
export function formatLine(log: Record<string, unknown>): string {
  const parts: string[] = [];
  const label = levels.labels[Number(log.level)] ?? String(log.level);
  const head = `${log.c !== undefined ? `${String(log.c).toUpperCase()}: ` : ''}${label === 'info' ? '' : `${label}: `}`;
  parts.push(`${head}${log.msg === undefined ? '' : String(log.msg)}`);
  for (const [k, v] of Object.entries(log)) {
    if (!HIDDEN.has(k) && v !== undefined) parts.push(`${k}=${fmtValue(v)}`);
  }
  if (log.thread !== undefined) parts.push(`thread=${fmtValue(log.thread)}`);
  return parts.join(' ');
}

let stderrDest: DestinationStream | null = null;

function stderr(): DestinationStream {
  stderrDest ??= destination({ fd: 2, sync: true });
  return stderrDest;
}

/** pino-pretty's formatter in this thread, writing synchronously (its transport form would run a worker thread). */
function prettyStream(): DestinationStream {
  const pretty = prettyFactory({
    colorize: false, hideObject: true, ignore: 'time,pid,hostname,level,c,thread,name,caller',
    messageFormat: (log) => formatLine(log),
  });
  const out = stderr();
  return { write: (line: string) => void out.write(pretty(line)) };
}

function makeLogger(format: LogFormat, level: string): Logger {
  return format === 'json'
    ? pino({ level, base: { pid: process.pid } }, stderr())
    : pino({ level, base: null }, prettyStream());
}

let format: LogFormat = initialFormat();
let custom = false;
let root: Logger = makeLogger(format, process.env.PKTIO_LOG_LEVEL ?? 'info');

export function setLogLevel(level: string): void {
  root.level = level;
}

export function logLevel(): string {
  return root.level;
}

/**
 * Chooses the format of pktio's own logger (the EAL option --log-format does this). Worker lcores started later
 * use it too. A root logger given with setRootLogger is left as it is.
 */
export function setLogFormat(f: LogFormat): void {
  if (!LOG_FORMATS.includes(f)) throw new Error(`unknown log format '${String(f)}': expected ${LOG_FORMATS.join(' or ')}`);
  format = f;
  if (isMainThread) setEnvironmentData(FORMAT_KEY, f);
  if (!custom) root = makeLogger(f, root.level);
}

export function logFormat(): LogFormat {
  return format;
}

/** A child logger for one component, e.g. log('eal'). */
export function log(component: string): Logger {
  return root.child(isMainThread ? { c: component } : { c: component, thread: threadId });
}

export function rootLogger(): Logger {
  return root;
}

/**
 * Replaces the root logger of this thread with the application's own pino instance (its format, destination and
 * transports): pktio logs through it as it is, and --log-format no longer changes it (--log-level still sets its
 * level). null goes back to pktio's own logger.
 */
export function setRootLogger(l: Logger | null): void {
  custom = l !== null;
  root = l ?? makeLogger(format, root.level);
}

export type { Logger };
