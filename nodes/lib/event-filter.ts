/** MinVR3 streams this every frame from an unfiltered Unity sender: left out unless asked for. */
export const DEFAULT_EXCLUDED = 'MinVR3/DeltaTime';

function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's');
}

/**
 * minvr-in's `events`: comma-separated name globs (`*` any characters, `/` included; `?` one
 * character); a glob starting with `!` excludes. An event passes when some include glob
 * matches (or there is none) and no exclude glob does. Empty: everything but MinVR3/DeltaTime.
 */
export class EventFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];

  constructor(spec: string) {
    const globs = spec
      .split(',')
      .map((glob) => glob.trim())
      .filter((glob) => glob !== '' && glob !== '!');
    if (globs.length === 0) globs.push(`!${DEFAULT_EXCLUDED}`);
    this.include = globs.filter((glob) => !glob.startsWith('!')).map(globToRegExp);
    this.exclude = globs.filter((glob) => glob.startsWith('!')).map((glob) => globToRegExp(glob.slice(1).trim()));
  }

  matches(name: string): boolean {
    if (this.include.length > 0 && !this.include.some((glob) => glob.test(name))) return false;
    return !this.exclude.some((glob) => glob.test(name));
  }
}
