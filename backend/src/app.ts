import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import type { ObservableDatabase } from './db/connection.js';
import type { OpenRouterClient } from './openrouter/types.js';
import { instrumentDatabase } from './db/instrumented.js';
import {
  clientErrorHandler,
  frameworkErrors,
  registerErrorHandling,
} from './http/error-handler.js';
import { registerUtf8JsonParser } from './http/json-body.js';
import { loggerOptions, type LogSettings } from './http/logging.js';
import { registerRequestIdHeader, requestIdOf } from './http/request-id.js';
import { registerSameOriginGuard } from './http/same-origin.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { registerShutdownGuard } from './http/shutdown.js';
import { createValidatorCompiler } from './http/validation.js';
import { adminRoutes } from './admin/routes.js';
import { attachmentRoutes } from './attachments/routes.js';
import { createAttachmentsService } from './attachments/service.js';
import { AttachmentStore } from './attachments/store.js';
import { createAdminService } from './admin/service.js';
import { createAuditLog } from './audit/service.js';
import { registerAuthGuard } from './auth/guard.js';
import { createSendAdmission } from './admission/admission.js';
import { createRateLimiter } from './http/rate-limit.js';
import { adminBudgetRoutes, budgetRoutes } from './budgets/routes.js';
import { createBudgetsService } from './budgets/service.js';
import { authRoutes } from './auth/routes.js';
import { createAuthService } from './auth/service.js';
import { createModelAccess } from './settings/model-access.js';
import { createSettingsService } from './settings/service.js';
import { chatRoutes } from './chat/routes.js';
import { createChatService } from './chat/service.js';
import { conversationRoutes } from './conversations/routes.js';
import { ConversationCache } from './conversations/cache.js';
import { createConversationsService } from './conversations/service.js';
import { createTitler } from './conversations/titles.js';
import { folderRoutes } from './folders/routes.js';
import { createFoldersService } from './folders/service.js';
import { searchRoutes } from './search/routes.js';
import { createSearchService } from './search/service.js';
import { generationRoutes } from './generations/routes.js';
import { createLivenessCheck } from './health/liveness.js';
import { createReadinessCheck } from './health/readiness.js';
import { healthRoutes } from './health/routes.js';
import type { Keyring } from './keys/crypto.js';
import { keyRoutes } from './keys/routes.js';
import { createKeysService } from './keys/service.js';
import { registerHttpMetrics } from './metrics/http.js';
import { createMetrics } from './metrics/registry.js';
import { createMetricsRepo } from './metrics/repo.js';
import { metricsRoutes } from './metrics/routes.js';
import { modelRoutes } from './models/routes.js';
import { presetRoutes } from './presets/routes.js';
import { createPresetsService } from './presets/service.js';
import { createModelPreferencesService, createModelsService } from './models/service.js';
import { opsRoutes } from './ops/routes.js';
import { transferRoutes } from './transfer/routes.js';
import { createUsageFiller, type UsageFillerDeps } from './usage/fill.js';
import { createUsageRollup } from './usage/rollup/service.js';
import { adminUsageRoutes, usageRoutes } from './usage/routes.js';
import { createUsageService } from './usage/service.js';
import { createTransferService } from './transfer/service.js';

export interface AppDeps {
  config: Config;
  /** As openDatabase returns it: the health checks read its queue's state. */
  db: ObservableDatabase;
  openrouter: OpenRouterClient;
  /** Seals and opens users' stored API keys (keys/secret.ts resolves SECRET_KEY or its file). */
  keyring: Keyring;
  /** Log level and destination (default: config.logLevel, stdout); tests pass `false`. */
  logger?: LogSettings | false;
  /** Overrides config.shutdownGraceMs: how long running answers may finish at shutdown. */
  shutdownGraceMs?: number;
  /** How often streaming answers are saved. */
  flushIntervalMs?: number;
  /** Overrides config.healthDbStuckMs: how long one database call may run before health says stuck. */
  healthDbStuckMs?: number;
  /** The clock of sessions, sign-in limits and the audit log (default: the system's). */
  now?: () => Date;
  /** Waits of the background usage fill before each GET /generation (usage/fill.ts). */
  usageFillDelaysMs?: UsageFillerDeps['delaysMs'];
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, openrouter } = deps;
  // DuckDB's memory is read through the uninstrumented connection: a scrape is not app work.
  const metrics = createMetrics(() => createMetricsRepo(deps.db).databaseMemory());
  const db = instrumentDatabase(deps.db, metrics.observeDb);
  const app = Fastify({
    logger:
      deps.logger === false ? false : loggerOptions(deps.logger ?? { level: config.logLevel }),
    // The frontend (or nginx) sets X-Request-Id; checked, it is carried into logs and upstream calls.
    requestIdHeader: false,
    genReqId: requestIdOf,
    // X-Forwarded-* are trusted from the frontend's network only, never from the internet.
    trustProxy: config.trustedProxies,
    bodyLimit: 2 * 1024 * 1024,
    // preClose has already let running answers finish: then every socket goes, idle or not.
    forceCloseConnections: true,
    // The shutdown guard answers 503 itself, in our error shape (Fastify's has another).
    return503OnClosing: false,
    // Router errors (a malformed URL) and what Node's HTTP parser refuses (headers over
    // 16 KB, malformed HTTP) get our error shape too.
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  let shuttingDown = false;
  const isShuttingDown = () => shuttingDown;

  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandling(app);
  registerUtf8JsonParser(app);
  // Root hooks, in this order, before any route: every request is counted and carries its id,
  // even those the shutdown guard refuses.
  registerHttpMetrics(app, metrics);
  registerRequestIdHeader(app);
  registerSecurityHeaders(app);
  registerShutdownGuard(app, isShuttingDown);
  // CSRF: state-changing requests from another origin are refused before anything runs.
  registerSameOriginGuard(app, {
    allowedOrigins: config.appUrl === undefined ? [] : [new URL(config.appUrl).origin],
  });
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

  const now = deps.now ?? (() => new Date());
  const DAY_MS = 24 * 3600 * 1000;
  const audit = createAuditLog({
    db,
    log: app.log,
    now,
    retentionDays: config.auditRetentionDays,
  });
  const settings = createSettingsService(db, now);
  const auth = createAuthService(db, {
    now,
    sessionIdleMs: config.sessionIdleDays * DAY_MS,
    sessionMaxAgeMs: config.sessionMaxDays * DAY_MS,
    signInLimits: {
      perAccount: config.signinFailuresPerAccount,
      perAddress: config.signinFailuresPerAddress,
      windowMs: 60_000,
    },
    audit,
    settings,
  });
  // The conversations in use, in memory (conversations/cache.ts): written through by the chat,
  // forgotten by every other change.
  const conversationCache = new ConversationCache();
  const models = createModelsService({
    db,
    openrouter,
    ttlSeconds: config.modelsTtlSeconds,
    log: app.log,
    settings,
  });
  // Attached files: on disk under the data folder, their metadata in the database.
  const attachments = createAttachmentsService({
    db,
    store: new AttachmentStore(config.attachmentsDir),
    log: app.log,
    maxBytes: config.attachmentMaxBytes,
    perMessage: config.attachmentsPerMessage,
    inputModalitiesOf: (modelId) => models.inputModalities(modelId),
    now,
  });
  const admin = createAdminService({
    db,
    auth,
    settings,
    audit,
    now,
    // `chat` is created below; this runs only when an admin disables or deletes a user.
    stopAnswersOf: (userId) => chat.stopAllOf(userId),
    forgetDataOf: (userId) => {
      conversationCache.forgetUser(userId);
      void attachments.removeUser(userId);
    },
  });
  const modelAccess = createModelAccess({ settings, roleOf: (userId) => auth.roleOf(userId) });
  const modelPreferences = createModelPreferencesService({ db, modelAccess, now });
  const usageFill = createUsageFiller({ db, log: app.log, delaysMs: deps.usageFillDelaysMs });
  const usageRollup = createUsageRollup({ db, log: app.log });
  const titles = createTitler({
    db,
    log: app.log,
    model: config.titleModel,
    cache: conversationCache,
    usageFill,
  });
  const conversations = createConversationsService(db, {
    now,
    cache: conversationCache,
    titlePending: titles.isPending,
    defaultModelOf: (userId) => modelPreferences.defaultModel(userId),
    attachments,
  });
  const folders = createFoldersService(db, { cache: conversationCache });
  const search = createSearchService(db);
  const keys = createKeysService({ db, keyring: deps.keyring, openrouter, audit, now });
  const budgets = createBudgetsService({ db, audit, now });
  const admission = createSendAdmission({
    keys,
    budgets,
    limiter:
      config.chatRateLimitPerMinute > 0
        ? createRateLimiter({
            limit: config.chatRateLimitPerMinute,
            windowMs: 60_000,
            now: () => now().getTime(),
          })
        : null,
  });
  const chat = createChatService({
    db,
    openrouter,
    log: app.log,
    flushIntervalMs: deps.flushIntervalMs,
    metrics: metrics.chat,
    modelAccess,
    admission,
    cache: conversationCache,
    titles,
    attachments,
    supportedParameters: (model) => models.supportedParameters(model),
    usageFill,
    catalog: (ids) => models.inputPrices(ids),
  });

  await app.register(async (api) => {
    registerAuthGuard(api, auth);
    const probe = {
      db,
      queueState: () => deps.db.queueState(),
      stuckAfterMs: deps.healthDbStuckMs ?? config.healthDbStuckMs,
    };
    await api.register(healthRoutes, {
      upstreamKeyConfigured: openrouter.hasKey,
      liveness: createLivenessCheck(probe),
      readiness: createReadinessCheck({ ...probe, isShuttingDown }),
    });
    await api.register(authRoutes, { auth, sessionMaxAgeSeconds: config.sessionMaxDays * 86_400 });
    await api.register(adminRoutes, { admin });
    await api.register(modelRoutes, { models, preferences: modelPreferences });
    await api.register(keyRoutes, { keys });
    await api.register(budgetRoutes, { budgets });
    await api.register(adminBudgetRoutes, { budgets });
    await api.register(conversationRoutes, { conversations });
    await api.register(folderRoutes, { folders });
    await api.register(presetRoutes, { presets: createPresetsService(db, { now }) });
    await api.register(searchRoutes, { search });
    await api.register(attachmentRoutes, { attachments });
    await api.register(chatRoutes, { chat });
    await api.register(generationRoutes, { chat });
    const usage = createUsageService({ db, budgets, now, rollup: usageRollup });
    await api.register(usageRoutes, { usage });
    await api.register(adminUsageRoutes, { usage });
    await api.register(transferRoutes, {
      transfer: createTransferService(db, { cache: conversationCache }),
      importMaxBytes: config.importMaxBytes,
    });
  });
  // Outside /api: the frontend never forwards them (see each file for who may call them).
  await app.register(metricsRoutes, { registry: metrics.registry });
  await app.register(opsRoutes, { db, auth, attachmentsDir: config.attachmentsDir });

  // Hourly (and at start, below): uploads never sent expire, and audit entries past their
  // retention go.
  const pruneAudit = async () => {
    const deleted = await audit.prune();
    if (deleted > 0) app.log.info({ deleted }, 'audit log entries past their retention deleted');
  };
  const housekeeping = setInterval(() => {
    attachments.sweepAbandoned().catch((error: unknown) => {
      app.log.warn({ err: error }, 'the sweep of abandoned attachments failed');
    });
    pruneAudit().catch((error: unknown) => {
      app.log.warn({ err: error }, 'pruning the audit log failed');
    });
  }, 3600_000);
  housekeeping.unref();
  app.addHook('onClose', async () => clearInterval(housekeeping));

  app.addHook('onReady', async () => {
    // Files left without a row by a crash, and abandoned rows, go before any request.
    const swept = await attachments.sweep();
    if (swept.rows > 0 || swept.files > 0)
      app.log.info(swept, 'abandoned attachments and orphan attachment files removed');
    await pruneAudit();
    const interrupted = await chat.recoverInterrupted();
    if (interrupted > 0)
      app.log.warn(
        { interrupted },
        'answers left streaming by the last run were marked interrupted',
      );
    const estimated = await usageFill.recover();
    if (estimated > 0)
      app.log.info({ estimated }, 'generations left without a cost were priced from the catalog');
    // The usage reports' rollup is brought up to date before the first request (the first
    // start on a large database sums every closed day once), then every ten minutes.
    await usageRollup.refresh();
    usageRollup.start();
  });
  // Before the server stops: new requests are refused (503) and running answers get a
  // bounded time to finish; the sockets close after this hook.
  app.addHook('preClose', async () => {
    shuttingDown = true;
    await chat.shutdown(deps.shutdownGraceMs ?? config.shutdownGraceMs);
    await titles.close();
    await usageFill.close();
    await usageRollup.close();
  });
  return app;
}
