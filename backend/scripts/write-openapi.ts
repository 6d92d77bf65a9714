// Writes backend/openapi.json, from which the frontend generates its API types.
import { writeFile } from 'node:fs/promises';
import { renderOpenApi } from '../src/openapi.js';

const target = new URL('../openapi.json', import.meta.url);
await writeFile(target, await renderOpenApi());
console.log(`wrote ${target.pathname}`);
