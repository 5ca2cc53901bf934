/**
 * Milliseconds since the current month began in Brussels: the month the back office's screens
 * show by default. Tests that make call records "a few hours ago" use it so that their calls stay
 * in one month whatever the time of day they run (a month begins at 23:00 or 22:00 UTC).
 */
export function sinceBrusselsMonthBegan(at: Date = new Date()): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Brussels',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string): number => Number(parts.find((each) => each.type === type)?.value ?? 0);
  return (((part('day') - 1) * 24 + part('hour')) * 60 + part('minute')) * 60_000 + part('second') * 1000;
}
