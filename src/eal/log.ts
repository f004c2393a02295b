// Logging with pino. One logger per thread; child loggers carry the component name.
import { pino, destination, type Logger } from 'pino';
import { isMainThread, threadId } from 'node:worker_threads';

let root: Logger = pino({ level: process.env.PKTIO_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, destination({ fd: 2, sync: true }));

export function setLogLevel(level: string): void {
  root.level = level;
}

export function logLevel(): string {
  return root.level;
}

/** A child logger for one component, e.g. log('eal'). */
export function log(component: string): Logger {
  return root.child(isMainThread ? { c: component } : { c: component, thread: threadId });
}

export function rootLogger(): Logger {
  return root;
}

/** Replaces the root logger (tests capture output this way). */
export function setRootLogger(l: Logger): void {
  root = l;
}

export type { Logger };
