/**
 * The operating system's store, whichever OS this is, loaded once per process (per root) and
 * shared: reading it costs file reads or a child process, and it changes rarely.
 */
import type { SystemLoad } from '../load.js';
import { loadDarwinSystem } from './darwin.js';
import { loadLinuxSystem } from './linux.js';
import { loadWindowsSystem } from './windows.js';

const cache = new Map<string, SystemLoad>();

/**
 * The system store. With `root`, the Linux layout under that directory is read whatever the OS
 * (tests, or a look into a container image); otherwise the store of `process.platform`.
 */
export function loadSystem(opts: { root?: string } = {}): SystemLoad {
  const key = opts.root === undefined ? `platform:${process.platform}` : `root:${opts.root}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let load: SystemLoad;
  if (opts.root !== undefined) load = loadLinuxSystem({ root: opts.root });
  else if (process.platform === 'darwin') load = loadDarwinSystem();
  else if (process.platform === 'win32') load = loadWindowsSystem();
  else load = loadLinuxSystem();
  cache.set(key, load);
  return load;
}

/** Forgets the loaded system stores (for tests, or after installing a root into the OS). */
export function resetSystemCache(): void {
  cache.clear();
}
