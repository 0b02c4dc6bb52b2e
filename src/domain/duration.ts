// Durations as ISO 8601 writes them (P90D, PT12H, P1DT30M), in days, hours, minutes and seconds only: months and
// years have no fixed length.

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const UNITS = [['D', 86_400], ['H', 3_600], ['M', 60], ['S', 1]] as const;

/** The duration in seconds, or undefined when the text is not such a duration or is zero. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const seconds = UNITS.reduce((sum, [, size], index) => sum + Number(match[index + 1] ?? 0) * size, 0);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

export function formatDuration(seconds: number): string {
  let rest = seconds;
  const parts = UNITS.map(([unit, size]) => {
    const count = Math.floor(rest / size);
    rest -= count * size;
    return count > 0 ? `${count}${unit}` : '';
  });
  const [days, ...time] = parts;
  return `P${days}${time.some(Boolean) ? `T${time.join('')}` : ''}`;
}
