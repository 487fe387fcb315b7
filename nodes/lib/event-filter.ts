/** MinVR3 streams this every frame from an unfiltered Unity sender: left out unless asked for. */
export const DEFAULT_EXCLUDED = 'MinVR3/DeltaTime';

/**
 * True when `name` matches `glob` (`*` any characters, `?` one). At worst name length × glob
 * length steps: a regular expression such as ^.*a.*a.*b$ could backtrack for hours on a long
 * name, and the name is whatever a peer sent.
 */
export function globMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const c = glob[g];
    if (g < glob.length && c !== '*' && (c === '?' || c === name[n])) {
      g++;
      n++;
    } else if (c === '*') {
      star = g++;
      resume = n;
    } else if (star >= 0) {
      g = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

/**
 * minvr-in's `events`: comma-separated name globs (`*` any characters, `/` included; `?` one
 * character); a glob starting with `!` excludes. An event passes when some include glob
 * matches (or there is none) and no exclude glob does. Empty: everything but MinVR3/DeltaTime.
 */
export class EventFilter {
  private readonly include: string[];
  private readonly exclude: string[];

  constructor(spec: string) {
    const globs = spec
      .split(',')
      .map((glob) => glob.trim())
      .filter((glob) => glob !== '' && glob !== '!');
    if (globs.length === 0) globs.push(`!${DEFAULT_EXCLUDED}`);
    this.include = globs.filter((glob) => !glob.startsWith('!'));
    this.exclude = globs.filter((glob) => glob.startsWith('!')).map((glob) => glob.slice(1).trim());
  }

  matches(name: string): boolean {
    if (this.include.length > 0 && !this.include.some((glob) => globMatches(glob, name))) return false;
    return !this.exclude.some((glob) => globMatches(glob, name));
  }
}
