import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defaultConfig, parseConfig, type Config } from '../core/config.js';
import { UserError } from '../core/errors.js';

// Which autobuild.yml a command uses: `--config FILE`, else ./autobuild.yml when present, else
// $AUTOBUILD_CONFIG, else the defaults. Reading the file is the only I/O; parsing is core.

const DEFAULT_FILE = 'autobuild.yml';

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(path, err);
  }
}

function unreadable(path: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code === 'ENOENT' ? 'no such file' : (err as Error).message;
  return new UserError(`cannot read config file ${path}: ${why}`, 'check the path given with --config or AUTOBUILD_CONFIG');
}

export async function loadConfig(file?: string, env: Record<string, string | undefined> = process.env, cwd: string = process.cwd()): Promise<Config> {
  // A file the user named must exist; the implicit ones are only used when present.
  if (file !== undefined && file !== '') {
    const path = resolve(cwd, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw unreadable(file, err);
    }
    return parseConfig(text, env, file);
  }
  const local = await readIfPresent(resolve(cwd, DEFAULT_FILE));
  if (local !== undefined) return parseConfig(local, env, DEFAULT_FILE);
  const fromEnv = env['AUTOBUILD_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const path = resolve(cwd, fromEnv);
    const text = await readIfPresent(path);
    if (text === undefined) {
      throw new UserError(`AUTOBUILD_CONFIG names ${fromEnv}, which does not exist`, 'point AUTOBUILD_CONFIG at your autobuild.yml, or unset it');
    }
    return parseConfig(text, env, fromEnv);
  }
  return defaultConfig(env);
}
