import { ExitCode, UserError } from '../../errors.js';

/** One JSON line of the engine's pull stream. */
export interface PullEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Aggregates `docker pull` JSON-lines events over all layers into one progress line,
 * instead of one line per layer: "[#####-----] 52% 3/7 layers 40.1/77.0 MB".
 */
export class PullProgress {
  private layers = new Map<string, { current: number; total: number; done: boolean }>();

  /** Feed one event; returns the line to show. */
  update(e: PullEvent): string {
    if (e.error || e.errorDetail)
      throw new UserError(`Pulling the image failed: ${e.errorDetail?.message ?? e.error}`, {
        hint: 'Check the image tag (--pg-version) and your network or registry login, then run again.',
        exitCode: ExitCode.server,
      });
    // Events without a layer id are image-level ("Pulling from library/postgres", "Digest: ...").
    if (e.id && e.status && !/^Pulling from/.test(e.status)) {
      const l = this.layers.get(e.id) ?? { current: 0, total: 0, done: false };
      if (e.status === 'Downloading' && e.progressDetail?.total) {
        l.current = e.progressDetail.current ?? l.current;
        l.total = e.progressDetail.total;
      }
      if (/^(Download complete|Pull complete|Already exists)$/.test(e.status)) {
        l.current = l.total;
        if (e.status !== 'Download complete') l.done = true;
      }
      this.layers.set(e.id, l);
    }
    return this.line();
  }

  private shown = 0;

  private finished = false;

  /**
   * Share of the pull done, 0..1, never going back. 1 only once the engine's stream has ended
   * (finish()): the layers are announced as the stream goes, so every layer seen so far being
   * complete (a layer that already exists, reported before the others) is not the end.
   */
  private ratio(): number {
    if (this.finished) return 1;
    const all = [...this.layers.values()];
    if (all.length === 0) return this.shown;
    const total = all.reduce((s, l) => s + l.total, 0);
    const current = all.reduce((s, l) => s + l.current, 0);
    // A layer's size is only known once it starts downloading (others wait their turn), so
    // bytes only count once every layer is sized; until then, finished layers do. A small
    // layer that finishes first must not read as the whole pull.
    const sized = all.every((l) => l.total > 0 || l.done);
    const now = sized && total ? current / total : all.filter((l) => l.done).length / all.length;
    this.shown = Math.max(this.shown, Math.min(0.99, now));
    return this.shown;
  }

  /** The engine's stream ended without an error: the whole bar. */
  finish(): string {
    this.finished = true;
    return this.line();
  }

  /**
   * Changes only when the bar would visibly change (a '#' more, a layer more), so a log
   * without a terminal gets a few lines per pull rather than one per engine event.
   */
  milestone(): string {
    const all = [...this.layers.values()];
    return `${Math.floor(this.ratio() * 20)}/${all.filter((l) => l.done).length}/${all.length}`;
  }

  line(): string {
    const all = [...this.layers.values()];
    const total = all.reduce((s, l) => s + l.total, 0);
    const current = all.reduce((s, l) => s + l.current, 0);
    const done = all.filter((l) => l.done).length;
    const ratio = this.ratio();
    const width = 20;
    const filled = Math.floor(ratio * width);
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${done}/${all.length} layers${total ? ` ${mb(current)}/${mb(total)} MB` : ''}`;
  }
}
