import cliProgress from 'cli-progress';
import type { TrainEvent } from '@patchcert/trainers';

/** Where the CLI writes: a TTY gets live bars, anything else one line per epoch. */
export interface ProgressSink {
  write(line: string): void;
  isTTY: boolean;
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '  -  ' : `${(100 * x).toFixed(2)}%`;
}

/**
 * Renders trainer events: a progress bar per epoch with loss, eps, images/s and ETA, a bar for
 * each certification pass, and one line per finished epoch.
 */
export function progressRenderer(sink: ProgressSink): { onEvent: (e: TrainEvent) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | undefined;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  const newBar = (format: string, total: number, payload: Record<string, unknown>): void => {
    stop();
    if (!sink.isTTY) return;
    bar = new cliProgress.SingleBar(
      { format, barsize: 24, hideCursor: true, clearOnComplete: true, etaBuffer: 20, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, payload);
  };
  const onEvent = (e: TrainEvent): void => {
    switch (e.type) {
      case 'start':
        sink.write(
          `run ${e.config.name ?? ''}: ${e.config.dataset} ${e.config.architecture} (${e.parameters} params), strategy ${e.strategy}, ` +
            `${e.trainImages} train images, ${e.batchesPerEpoch} batches/epoch, held-out ${e.evalImages}` +
            (e.resumed ? `, resumed at epoch ${e.startEpoch + 1}` : ''),
        );
        break;
      case 'epoch-start':
        newBar(`epoch ${e.epoch + 1}/${e.epochs} |{bar}| {value}/{total} | loss {loss} | eps {eps} | {ips} img/s | ETA {eta_formatted}`, e.batches, {
          loss: '-',
          eps: e.epsStart.toFixed(3),
          ips: '-',
        });
        break;
      case 'batch':
        bar?.update(e.batch + 1, { loss: e.loss.toFixed(4), eps: e.eps.toFixed(3), ips: e.imagesPerSecond.toFixed(0) });
        break;
      case 'eval-start':
        newBar(`certify ${e.epoch === 'final' ? 'test set' : 'held-out'} |{bar}| {value}/{total} images | ETA {eta_formatted}`, e.images, {});
        break;
      case 'eval-progress':
        bar?.update(e.done);
        break;
      case 'epoch-end': {
        stop();
        const m = e.metrics;
        sink.write(
          `epoch ${String(m.epoch + 1).padStart(3)} lr ${m.lr.toExponential(2)} eps ${m.epsStart.toFixed(3)}→${m.epsEnd.toFixed(3)}${m.natural ? ' (natural)' : ''} ` +
            `loss ${m.trainLoss.toFixed(4)} train-acc ${pct(m.trainAccuracy)} | clean ${pct(m.cleanAccuracy)} certified ${pct(m.certifiedAccuracy)} ` +
            `| ${m.imagesPerSecond.toFixed(0)} img/s${m.imagesPerCpuSecond === undefined ? '' : ` (${m.imagesPerCpuSecond.toFixed(0)} per CPU-s)`}, ${m.trainSeconds.toFixed(1)}+${m.evalSeconds.toFixed(1)} s`,
        );
        break;
      }
      case 'final':
        stop();
        break;
      default:
        break;
    }
  };
  return { onEvent, stop };
}
