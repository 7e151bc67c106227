// A one-line progress bar on stderr, redrawn at most ten times a second (only on a terminal).
import type { ImportProgress } from '../transfer/import.ts';

export interface ProgressBar {
  update(progress: ImportProgress): void;
  done(): void;
}

export function createProgressBar(stream: NodeJS.WriteStream, width = 30): ProgressBar {
  let lastDraw = 0;
  let drawn = false;
  return {
    update(p) {
      const now = Date.now();
      if (now - lastDraw < 100 && p.filesDone < p.filesTotal) {
        return;
      }
      lastDraw = now;
      const ratio = p.filesTotal ? p.filesDone / p.filesTotal : 1;
      const filled = Math.round(ratio * width);
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
      stream.write(`\r[${bar}] ${p.filesDone}/${p.filesTotal} files, ${p.resources.toLocaleString('en-US')} resources`);
      drawn = true;
    },
    done() {
      if (drawn) {
        stream.write('\n');
      }
    },
  };
}
