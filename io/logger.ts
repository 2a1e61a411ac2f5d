import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

/** pino: readable lines on a terminal, JSON lines otherwise (for log collectors). */
export function createLogger(level: string, stream: NodeJS.WriteStream = process.stdout): Logger {
  if (stream.isTTY)
    return pino({ level }, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', destination: stream }));
  return pino({ level }, stream);
}

export type { Logger };
