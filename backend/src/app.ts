import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import type { Database } from './db/connection.js';
import type { OpenRouterClient } from './openrouter/types.js';
import { registerErrorHandling } from './http/error-handler.js';
import { createValidatorCompiler } from './http/validation.js';
import { registerAuthGuard } from './auth/guard.js';
import { authRoutes } from './auth/routes.js';
import { createAuthService } from './auth/service.js';
import { chatRoutes } from './chat/routes.js';
import { createChatService } from './chat/service.js';
import { conversationRoutes } from './conversations/routes.js';
import { createConversationsService } from './conversations/service.js';
import { generationRoutes } from './generations/routes.js';
import { healthRoutes } from './health/routes.js';
import { modelRoutes } from './models/routes.js';
import { createModelsService } from './models/service.js';

export interface AppDeps {
  config: Config;
  db: Database;
  openrouter: OpenRouterClient;
  /** Fastify logger options; tests pass `false`. */
  logger?: FastifyServerOptions['logger'];
  /** How long running answers may finish at shutdown before they are saved as interrupted. */
  shutdownGraceMs?: number;
  /** How often streaming answers are saved. */
  flushIntervalMs?: number;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db, openrouter } = deps;
  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel },
    // The frontend (or nginx) sets X-Request-Id; it is carried into logs and upstream calls.
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    // X-Forwarded-* are trusted from the frontend's network only, never from the internet.
    trustProxy: ['loopback', 'linklocal', 'uniquelocal'],
    bodyLimit: 2 * 1024 * 1024,
    // preClose has already let running answers finish: then every socket goes, idle or not.
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandling(app);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: `${config.appTitle} API`,
        version: '0.1.0',
        description: 'Self-hosted AI chat workspace. Errors are `{ error: { code, message } }`.',
      },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'ai_session' } },
      },
      security: [{ session: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const auth = createAuthService(db);
  const conversations = createConversationsService(db);
  const chat = createChatService({
    db,
    openrouter,
    log: app.log,
    flushIntervalMs: deps.flushIntervalMs,
  });
  const models = createModelsService({
    db,
    openrouter,
    ttlSeconds: config.modelsTtlSeconds,
    log: app.log,
  });

  await app.register(async (api) => {
    registerAuthGuard(api, auth);
    await api.register(healthRoutes, { db, upstreamKeyConfigured: openrouter.hasKey });
    await api.register(authRoutes, { auth });
    await api.register(modelRoutes, { models });
    await api.register(conversationRoutes, { conversations });
    await api.register(chatRoutes, { chat });
    await api.register(generationRoutes, { chat });
  });

  app.addHook('onReady', async () => {
    const interrupted = await chat.recoverInterrupted();
    if (interrupted > 0)
      app.log.warn(
        { interrupted },
        'answers left streaming by the last run were marked interrupted',
      );
  });
  // Before the server stops: running answers get a bounded time to finish.
  app.addHook('preClose', async () => {
    await chat.shutdown(deps.shutdownGraceMs ?? 10_000);
  });
  return app;
}
