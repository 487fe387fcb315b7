import fs from 'fs';
import path from 'path';

/** The repository root: the nearest folder above the compiled test that holds package.json. */
export function repoRoot(): string {
  let folder = __dirname;
  while (!fs.existsSync(path.join(folder, 'package.json'))) {
    const parent = path.dirname(folder);
    if (parent === folder) throw new Error('package.json not found above the tests');
    folder = parent;
  }
  return folder;
}
