import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Tests pass a stream to capture lines; services log JSON to stdout. */
  destination?: DestinationStream;
}

/**
 * The root logger of a service. Secrets that could reach a log through a request or an error
 * are redacted by path, so a careless `log.info({ req })` cannot leak a password or token.
 */
export function createLogger(cfg: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: cfg.level ?? 'info',
    base: { service: cfg.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization', 'headers.cookie', '*.headers.cookie'],
      censor: '[redacted]',
    },
    formatters: { level: (label) => ({ level: label }) },
  };
  return cfg.destination ? pino(options, cfg.destination) : pino(options);
}

/** A logger that drops everything: for libraries used without a caller-provided one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
