import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Debian's chromium; CI installs it through .ci/run. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--allow-file-access-from-files',
];

/**
 * Runs headless chromium on a local HTML file with a fresh profile. Throws (the test fails) with
 * a clear message when chromium is missing, so a page test never passes without a browser.
 */
export function runChromium(htmlFile: string, extra: string[]): { stdout: string; stderr: string } {
  if (!CHROMIUM) {
    throw new Error('chromium is not installed (/usr/bin/chromium): install Debian\'s chromium package (.ci/run does) to run the report page tests.');
  }
  const profile = mkdtempSync(join(tmpdir(), 'certify-chromium-'));
  try {
    const r = spawnSync(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, ...extra, pathToFileURL(htmlFile).href], {
      encoding: 'utf8',
      timeout: 90_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw new Error(`chromium failed to run: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`chromium exited with ${r.status}: ${r.stderr.slice(-2000)}`);
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM of the page after its scripts ran (`--dump-dom`). */
export function dumpDom(htmlFile: string): string {
  return runChromium(htmlFile, ['--dump-dom', '--virtual-time-budget=2000']).stdout;
}

/** Screenshots the page to `pngFile`. */
export function screenshot(htmlFile: string, pngFile: string): void {
  runChromium(htmlFile, [`--screenshot=${pngFile}`, '--window-size=1200,1600', '--hide-scrollbars']);
}

/** Text of every element matching a simple `tag.class` or `tr[data-threat="id"] td.class` pattern, via regex on the dumped DOM. */
export function cellText(dom: string, threat: string, cls: string): string | undefined {
  const row = new RegExp(`<tr data-threat="${threat.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}">([\\s\\S]*?)</tr>`).exec(dom)?.[1];
  if (!row) return undefined;
  return new RegExp(`<td class="${cls}">([^<]*)</td>`).exec(row)?.[1];
}
