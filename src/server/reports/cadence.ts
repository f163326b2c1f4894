import { DateTime } from 'luxon';

/**
 * When a report schedule runs and which period each run covers, in the schedule's time zone (luxon does
 * the zone arithmetic, as for alert quiet hours). A weekly schedule runs on an ISO weekday (1 = Monday)
 * and covers the previous full week, Monday 00:00 to Monday 00:00; a monthly one runs on a day of the
 * month and covers the previous calendar month. Days 29–31 run on the last day of shorter months, so
 * "day 31" means "the last day of every month". A time of day that a daylight-saving change skips runs
 * at the first valid time after it.
 */
export interface Cadence {
  cadence: 'weekly' | 'monthly';
  dayOfWeek: number | null;
  dayOfMonth: number | null;
  /** 'HH:MM' */
  timeOfDay: string;
  timezone: string;
}

/** A stored schedule's cadence. */
export function cadenceOf(s: { cadence: Cadence['cadence']; day_of_week: number | null; day_of_month: number | null; time_of_day: string; timezone: string }): Cadence {
  return { cadence: s.cadence, dayOfWeek: s.day_of_week, dayOfMonth: s.day_of_month, timeOfDay: s.time_of_day, timezone: s.timezone };
}

export interface Period {
  from: Date;
  to: Date;
}

function at(day: DateTime, timeOfDay: string): DateTime {
  const [hour, minute] = timeOfDay.split(':').map(Number) as [number, number];
  return day.set({ hour, minute, second: 0, millisecond: 0 });
}

/** The first run strictly after `after`. */
export function nextRun(c: Cadence, after: Date): Date {
  const local = DateTime.fromJSDate(after, { zone: c.timezone });
  if (c.cadence === 'weekly') {
    const dayOfWeek = c.dayOfWeek ?? 1;
    for (let days = 0; days <= 7; days++) {
      const day = local.plus({ days });
      if (day.weekday !== dayOfWeek) continue;
      const run = at(day, c.timeOfDay);
      if (run.toMillis() > after.getTime()) return run.toJSDate();
    }
  } else {
    const dayOfMonth = c.dayOfMonth ?? 1;
    for (let months = 0; months <= 2; months++) {
      const month = local.startOf('month').plus({ months });
      const run = at(month.set({ day: Math.min(dayOfMonth, month.daysInMonth ?? 28) }), c.timeOfDay);
      if (run.toMillis() > after.getTime()) return run.toJSDate();
    }
  }
  throw new Error('no next run found');
}

/** The latest run at or before `now`, starting from a run that was due (`due` ≤ now): missed runs collapse into one. */
export function latestDueRun(c: Cadence, due: Date, now: Date): Date {
  let run = due;
  for (let next = nextRun(c, run); next <= now; next = nextRun(c, next)) run = next;
  return run;
}

/** The period a run at `run` covers: the last full week or month before it, local time. */
export function periodOf(c: Cadence, run: Date): Period {
  const local = DateTime.fromJSDate(run, { zone: c.timezone });
  const end = c.cadence === 'weekly' ? local.startOf('week') : local.startOf('month');
  const start = c.cadence === 'weekly' ? end.minus({ weeks: 1 }) : end.minus({ months: 1 });
  return { from: start.toJSDate(), to: end.toJSDate() };
}
