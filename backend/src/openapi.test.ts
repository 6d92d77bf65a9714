import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderOpenApi } from './openapi.js';
import { startTestApp } from './test-support/context.js';

describe('the OpenAPI document', () => {
  it('is committed up to date (run `npm run openapi` after changing a schema)', async () => {
    const committed = await readFile(new URL('../openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(await renderOpenApi());
  });

  it('is served with every route and its response schemas, and the docs page too', async () => {
    const ctx = await startTestApp();
    try {
      const doc = (await ctx.app.inject({ url: '/api/openapi.json' })).json();
      expect(doc.openapi).toMatch(/^3\./);
      for (const route of [
        '/api/auth/state',
        '/api/auth/setup',
        '/api/auth/login',
        '/api/auth/logout',
        '/api/auth/me',
        '/api/health',
        '/api/ready',
        '/api/models',
        '/api/conversations',
        '/api/conversations/{id}',
        '/api/conversations/{id}/messages',
        '/api/generations/{id}/stop',
      ]) {
        expect(doc.paths, route).toHaveProperty([route]);
        for (const operation of Object.values(doc.paths[route]) as Array<{ responses: object }>) {
          expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
        }
      }
      const docs = await ctx.app.inject({ url: '/api/docs/' });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers['content-type']).toContain('text/html');
    } finally {
      await ctx.close();
    }
  });
});
