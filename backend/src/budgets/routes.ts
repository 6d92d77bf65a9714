import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAdmin } from '../auth/guard.js';
import { ErrorResponse, errorResponses } from '../http/schemas.js';
import { AdminBudgets, MyBudget, SetLimitBody, UserIdParams } from './schemas.js';
import type { BudgetsService } from './service.js';

/** The signed-in user's own spend and limit. */
export const budgetRoutes: FastifyPluginAsyncTypebox<{ budgets: BudgetsService }> = async (
  app,
  { budgets },
) => {
  app.get(
    '/api/budgets/me',
    {
      schema: {
        tags: ['budgets'],
        summary: 'What you spent this month and your monthly limit',
        response: { 200: MyBudget, ...errorResponses },
      },
    },
    async (request) => budgets.mine(request.user.id),
  );
};

/** /api/admin/budgets/*: admins only (403 `auth.admin_only` for anyone else). */
export const adminBudgetRoutes: FastifyPluginAsyncTypebox<{ budgets: BudgetsService }> = async (
  app,
  { budgets },
) => {
  app.addHook('onRequest', requireAdmin);
  const tags = ['admin', 'budgets'];
  const errors = { ...errorResponses, 403: ErrorResponse };
  const actor = (request: { user: { id: string }; ip: string }) => ({
    userId: request.user.id,
    ip: request.ip || null,
  });

  app.get(
    '/api/admin/budgets',
    {
      schema: {
        tags,
        summary: "The default monthly limit and every user's limit and spend this month",
        response: { 200: AdminBudgets, ...errors },
      },
    },
    async () => budgets.adminList(),
  );

  app.put(
    '/api/admin/budgets/default',
    {
      schema: {
        tags,
        summary: 'Set the monthly limit of users without one of their own (null: unlimited)',
        body: SetLimitBody,
        response: { 200: AdminBudgets, ...errors },
      },
    },
    async (request) => {
      await budgets.setDefault(actor(request), request.body.monthlyLimitUsd);
      return budgets.adminList();
    },
  );

  app.put(
    '/api/admin/budgets/users/:id',
    {
      schema: {
        tags,
        summary: "Set a user's own monthly limit (null: unlimited, whatever the default)",
        params: UserIdParams,
        body: SetLimitBody,
        response: { 200: AdminBudgets, ...errors },
      },
    },
    async (request) => {
      await budgets.setUser(actor(request), request.params.id, request.body.monthlyLimitUsd);
      return budgets.adminList();
    },
  );

  app.delete(
    '/api/admin/budgets/users/:id',
    {
      schema: {
        tags,
        summary: "Remove a user's own limit: the default applies again",
        params: UserIdParams,
        response: { 200: AdminBudgets, ...errors },
      },
    },
    async (request) => {
      await budgets.clearUser(actor(request), request.params.id);
      return budgets.adminList();
    },
  );
};
