// `node --import ./test/support/module-log.mjs ...`: appends the URL of every module the process
// loads (ES modules, and CommonJS ones reached by import) to $MODULE_LOG, one per line, so a
// test can say what a command loaded.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
  import { appendFileSync } from 'node:fs';
  export async function load(url, context, next) {
    if (process.env.MODULE_LOG && !url.startsWith('node:')) appendFileSync(process.env.MODULE_LOG, url + '\\n');
    return next(url, context);
  }
`),
);
