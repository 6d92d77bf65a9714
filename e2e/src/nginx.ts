import { execFile } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'node:net';
import { freePort, root, startProcess, stopService, type Service } from './stack.js';

const run = promisify(execFile);

export interface Nginx {
  httpsUrl: string;
  httpUrl: string;
  httpsPort: number;
  /** The self-signed certificate, for clients that verify it. */
  certFile: string;
  stop(): Promise<void>;
}

/**
 * Debian's nginx with the repo's own config (deploy/nginx), rendered by the repo's own
 * script, a fresh self-signed certificate, on loopback ports, proxying to the frontend.
 */
export async function startNginx(frontendPort: number, dir: string): Promise<Nginx> {
  const prefix = path.join(dir, 'nginx');
  await mkdir(path.join(prefix, 'logs'), { recursive: true });
  await mkdir(path.join(prefix, 'temp'), { recursive: true });
  // Workers run unprivileged (nobody): they must reach the temp folder through the
  // mkdtemp folder (0700) and write request bodies there.
  await chmod(dir, 0o755);
  await chmod(prefix, 0o755);
  await chmod(path.join(prefix, 'temp'), 0o777);
  const cert = path.join(prefix, 'cert.pem');
  const key = path.join(prefix, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const rendered = path.join(prefix, 'ai.conf');
  await run('bash', [path.join(root, 'deploy/nginx/render.sh'), rendered], {
    env: {
      ...process.env,
      NGINX_SERVER_NAME: 'localhost',
      NGINX_HTTP_PORT: String(httpPort),
      NGINX_HTTPS_PORT: String(httpsPort),
      NGINX_TLS_CERT: cert,
      NGINX_TLS_KEY: key,
      FRONTEND_UPSTREAM: `127.0.0.1:${frontendPort}`,
    },
  });
  const temp = path.join(prefix, 'temp');
  await writeFile(
    path.join(prefix, 'nginx.conf'),
    `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log ${prefix}/logs/access.log;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  include ${rendered};
}
`,
  );
  const nginx = startProcess(
    'nginx',
    '/usr/sbin/nginx',
    ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
    prefix,
    { PATH: process.env.PATH ?? '' },
  );
  await waitForPort(httpsPort, nginx);
  return {
    httpsUrl: `https://localhost:${httpsPort}`,
    httpUrl: `http://localhost:${httpPort}`,
    httpsPort,
    certFile: cert,
    stop: () => stopService(nginx),
  };
}

async function waitForPort(port: number, service: Service, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) throw new Error(`nginx exited: ${service.output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not listen on ${port}: ${service.output()}`);
}
