/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const active = stream.isTTY === true;
  let last = -1;
  return {
    update(done: number, total: number): void {
      if (!active || total <= 0) return;
      const percent = Math.min(100, Math.floor((100 * done) / total));
      if (percent === last) return;
      last = percent;
      const width = 30;
      const filled = Math.round((width * percent) / 100);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}%`);
    },
    done(): void {
      if (active && last >= 0) stream.write('\n');
    },
  };
}
