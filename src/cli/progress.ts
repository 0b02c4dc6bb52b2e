import cliProgress from 'cli-progress';

/** Progress of one long step, on stderr: a bar on a terminal, a plain line now and then anywhere else. */
export interface Progress {
  /** `shown` is the text after the bar, such as "1.2 MiB of 4.0 MiB". */
  update(value: number, total: number, shown: string): void;
  stop(): void;
}

const PLAIN_EVERY_MS = 5_000;

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? barProgress(label, stream) : plainProgress(label, stream);
}

function barProgress(label: string, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    { stream, format: `${label.padEnd(9)} {bar} {percentage}% | {shown}`, hideCursor: true, barsize: 30, fps: 8 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total, shown) {
      if (!started) {
        bar.start(Math.max(total, 1), value, { shown });
        started = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(value, { shown });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Pipes and tests get a line at most every few seconds and one at the end, never control characters. */
function plainProgress(label: string, stream: NodeJS.WriteStream): Progress {
  let lastAt = 0;
  let lastShown = '';
  let pending = '';
  const print = (shown: string) => {
    stream.write(`${label}: ${shown}\n`);
    lastShown = shown;
    lastAt = Date.now();
  };
  return {
    update(_value, _total, shown) {
      pending = shown;
      if (shown !== lastShown && Date.now() - lastAt >= PLAIN_EVERY_MS) print(shown);
    },
    stop() {
      if (pending && pending !== lastShown) print(pending);
    },
  };
}

export function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
