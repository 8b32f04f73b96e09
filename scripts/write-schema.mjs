// Writes schema/autobuild.schema.json from the one zod definition of autobuild.yml.
import { writeFileSync, mkdirSync } from 'node:fs';
import { configJsonSchema } from '../build/src/core/config-schema.js';

mkdirSync('schema', { recursive: true });
writeFileSync('schema/autobuild.schema.json', `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
