import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadBackendUrl,
  makeStaticDir,
  send,
  startFakeBackend,
  startFrontend,
  type FakeBackend,
  type Frontend,
} from './test-support/harness.js';

const staticDir = makeStaticDir();
let backend: FakeBackend;
let frontend: Frontend;

beforeAll(async () => {
  backend = await startFakeBackend((req, res) => {
    if (req.url === '/api/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok","database":"ok","upstreamKeyConfigured":true}');
      return;
    }
    res.writeHead(404).end();
  });
  frontend = await startFrontend(backend.url, staticDir.dir);
});

afterAll(async () => {
  await frontend.app.close();
  await backend.close();
  staticDir.cleanup();
});

describe('SPA serving', () => {
  it('serves index.html at / with no-cache and a CSP', async () => {
    const res = await send(`${frontend.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.body.toString()).toContain('<div id="root">');
  });

  it('falls back to index.html for client routes', async () => {
    for (const path of ['/c/3f1c2f43-4a9e-4a36-9d7b-2a3d1f0b9c11', '/settings', '/c/x?y=1']) {
      const res = await send(`${frontend.url}${path}`, { headers: { accept: 'text/html' } });
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body.toString()).toContain('<div id="root">');
    }
  });

  it('serves hashed assets with a long immutable cache', async () => {
    const res = await send(`${frontend.url}/assets/index-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('serves other root files without a long cache', async () => {
    const res = await send(`${frontend.url}/favicon.svg`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('answers 404 (not the SPA) for missing files and unknown non-GET requests', async () => {
    const missing = await send(`${frontend.url}/assets/index-old999.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/json/);
    const post = await send(`${frontend.url}/somewhere`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(404);
  });
});

describe('GET /healthz', () => {
  it('reports the backend as ok when it answers', async () => {
    const res = await send(`${frontend.url}/healthz`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ status: 'ok', backend: 'ok' });
  });

  it('reports the backend as unreachable when it is down', async () => {
    const down = await startFrontend(await deadBackendUrl(), staticDir.dir);
    try {
      const res = await send(`${down.url}/healthz`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({ status: 'ok', backend: 'unreachable' });
    } finally {
      await down.app.close();
    }
  });
});

describe('security headers', () => {
  const expectPageHeaders = (headers: Record<string, unknown>, what: string) => {
    const csp = String(headers['content-security-policy']);
    expect(csp, what).toContain("script-src 'self'");
    expect(csp, what).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp, what).toContain("img-src 'self' data: blob:");
    expect(csp, what).toContain("frame-ancestors 'none'");
    expect(csp, what).toContain("object-src 'none'");
    expect(headers['x-content-type-options'], what).toBe('nosniff');
    expect(headers['referrer-policy'], what).toBe('same-origin');
    expect(headers['permissions-policy'], what).toMatch(/camera=\(\).*microphone=\(\)/);
    expect(headers['x-frame-options'], what).toBe('DENY');
  };

  it('are on the page, client routes, assets, root files, health and 404s', async () => {
    const targets = [
      '/',
      '/c/3f1c2f43-4a9e-4a36-9d7b-2a3d1f0b9c11',
      '/assets/index-abc123.js',
      '/favicon.svg',
      '/healthz',
      '/assets/missing.js',
    ];
    for (const target of targets) {
      const res = await send(`${frontend.url}${target}`);
      expectPageHeaders(res.headers, target);
    }
    const post = await send(`${frontend.url}/somewhere`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(404);
    expectPageHeaders(post.headers, 'POST /somewhere');
  });

  it('the proxy’s own errors (backend down) are inert JSON too', async () => {
    const down = await startFrontend(await deadBackendUrl(), staticDir.dir);
    try {
      const res = await send(`${down.url}/api/conversations`);
      expect(res.status).toBe(502);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
    } finally {
      await down.app.close();
    }
  });
});
