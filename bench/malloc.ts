/**
 * glibc's malloc settings of measured processes, passed as the environment variables glibc
 * reads at start.
 *
 * With glibc's defaults, freeing a frame's buffer can hand the top of the heap back to the
 * kernel and the next frame take it again (brk and page faults), and buffers over 128 kB are
 * mapped and unmapped each time until glibc's dynamic mmap threshold has risen past them.
 * Which of this a process does is settled by its heap's layout early in its life, so it
 * made whole processes of the same case differ: realvirtual-out at 1,000 signals ran at
 * 3.5 M signals per CPU-s with 19 k page faults and 37 % system time a second in one fresh
 * process, 5.3 M with 9 k and 19 % in the next. Raising the trim threshold alone turns the
 * dynamic mmap threshold off (glibc's rule), which maps every buffer over 128 kB afresh, so
 * both are raised.
 */
export interface MallocSettings {
  /** MALLOC_TRIM_THRESHOLD_, bytes. */
  trimThreshold: number;
  /** MALLOC_MMAP_THRESHOLD_, bytes (glibc's maximum on 64-bit is 32 MiB). */
  mmapThreshold: number;
}

export const STEADY_MALLOC: MallocSettings = { trimThreshold: 64 * 1024 * 1024, mmapThreshold: 32 * 1024 * 1024 };

/** The environment that applies `settings` (none: glibc's defaults). */
export function mallocEnv(settings: MallocSettings | null): NodeJS.ProcessEnv {
  if (!settings) return {};
  return { MALLOC_TRIM_THRESHOLD_: String(settings.trimThreshold), MALLOC_MMAP_THRESHOLD_: String(settings.mmapThreshold) };
}

/** "MALLOC_TRIM_THRESHOLD_ 64 MiB, MALLOC_MMAP_THRESHOLD_ 32 MiB", or glibc's defaults. */
export function mallocText(settings: Partial<MallocSettings> | null | undefined): string {
  const mib = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;
  const parts: string[] = [];
  if (settings?.trimThreshold) parts.push(`MALLOC_TRIM_THRESHOLD_ ${mib(settings.trimThreshold)}`);
  if (settings?.mmapThreshold) parts.push(`MALLOC_MMAP_THRESHOLD_ ${mib(settings.mmapThreshold)}`);
  return parts.length > 0 ? parts.join(', ') : "glibc's default malloc settings";
}
