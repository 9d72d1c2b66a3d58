// Cron schedules are checked at start with the same library that runs them (croner).
import 'server-only';
import { Cron } from 'croner';

/** Null when `pattern` is a valid cron schedule, else why not. */
export function cronProblem(pattern: string): string | null {
  try {
    new Cron(pattern, { paused: true }).stop();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message.replace(/^CronPattern: /, '') : 'invalid';
  }
}
