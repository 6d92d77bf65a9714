import type { FastifyBaseLogger } from 'fastify';
import type { AdmittedSend, SendAdmission, SendDemand } from '../admission/admission.js';
import type { Database, Queryable } from '../db/connection.js';
import { newId } from '../db/ids.js';
import { AppError } from '../errors.js';
import type { ChatMessage, ChatRequest, OpenRouterClient, Source } from '../openrouter/types.js';
import {
  ConversationCache,
  type ContextRow,
  type ConversationState,
} from '../conversations/cache.js';
import { createConversationsRepo, toComparisons } from '../conversations/repo.js';
import { DEFAULT_TITLE } from '../conversations/schemas.js';
import type { Comparison, Conversation, Message } from '../conversations/schemas.js';
import { createPartialFlusher, noPartials, type PartialFlusher } from './flusher.js';
import { Generation } from './generation.js';
import { noChatMetrics, type ChatMetrics } from './metrics.js';
import { GenerationRegistry } from './registry.js';
import {
  createChatRepo,
  type FinishedGeneration,
  type NewAnswer,
  type NewTemporaryGeneration,
  type NewTurn,
  type NewTurnAnswer,
} from './repo.js';
import { defaultParentId, pathTo, subtreeOf } from './branch.js';
import { createAttachmentsRepo } from '../attachments/repo.js';
import { createGroupCommit } from '../db/group-commit.js';
import type { Titler } from '../conversations/titles.js';
import {
  withoutAttachments,
  type AttachmentsService,
  type BranchMessage,
  type SendAttachments,
} from '../attachments/service.js';
import type { TemporaryChatBody } from './schemas.js';
import { chatRequest, hasParams, type SupportedParameters } from './request.js';
import { temporaryHistory } from './temporary.js';
import type { UsageFiller } from '../usage/fill.js';
import { estimateTokens, promptCharacters } from '../usage/figures.js';

export interface ChatDeps {
  db: Database;
  openrouter: OpenRouterClient;
  log: FastifyBaseLogger;
  flushIntervalMs?: number;
  metrics?: ChatMetrics;
  /** The admin's model allow-list (settings/model-access.ts): checked before any upstream call. */
  modelAccess?: { assertAllowed(userId: string, models: string[]): Promise<void> };
  /**
   * Rate limit, monthly budget and the user's own key (admission/admission.ts), checked before
   * any upstream call. Without it: the server's key, no limits.
   */
  admission?: SendAdmission;
  /** The conversations in use (shared with the conversations service, which forgets on change). */
  cache?: ConversationCache;
  /** Names a conversation after its first answer (conversations/titles.ts); none by default. */
  titles?: Pick<Titler, 'afterFirstAnswer'>;
  /** Files attached to questions: checked, held and sent as content parts (attachments/). */
  attachments?: Pick<
    AttachmentsService,
    'forSend' | 'checkModels' | 'upstreamMessages' | 'removeFiles'
  >;
  /**
   * The model catalog (models/service.ts): each model a comparison names must be in it, and
   * their input prices tell what its prompts cost at least (the budget must cover it). Without
   * it every model id is taken, at no known price.
   */
  catalog?: ModelCatalogLookup;
  /**
   * The parameters the catalog says a model takes (models/service.ts, from memory): only those
   * of a conversation's overrides are sent. Without it, every override is sent.
   */
  supportedParameters?: SupportedParameters;
  /** Completes estimated figures from OpenRouter's GET /generation (usage/fill.ts). */
  usageFill?: Pick<UsageFiller, 'schedule'>;
}

/** Each catalog model among `ids` (the others are not in the catalog) with its input price. */
export type ModelCatalogLookup = (
  ids: readonly string[],
) => Promise<ReadonlyMap<string, { promptUsdPerToken: number }>>;

export interface Turn {
  userMessage: Message;
  generation: Generation;
}

/** A comparison started: the question, the comparison and its answers (in the models' order). */
export interface ComparisonTurn {
  userMessage: Message;
  comparisonId: string;
  generations: Generation[];
}

/** How many models one comparison sends the question to. */
export const COMPARE_MIN_MODELS = 2;
export const COMPARE_MAX_MODELS = 4;

export function createChatService({
  db,
  openrouter,
  log,
  flushIntervalMs,
  metrics = noChatMetrics,
  modelAccess,
  admission = serverKeyOnly(openrouter),
  cache = new ConversationCache(),
  titles,
  attachments = withoutAttachments,
  catalog,
  supportedParameters = () => Promise.resolve(null),
  usageFill,
}: ChatDeps) {
  const repo = createChatRepo(db);
  const conversations = createConversationsRepo(db);
  const flusher: PartialFlusher = createPartialFlusher(db, log, flushIntervalMs);
  // Under load, many turns share one commit (db/group-commit.ts).
  const saveTurn = createGroupCommit<NewTurn>(db, (tx, turns) =>
    createChatRepo(tx).insertTurns(turns),
  );
  const saveFinished = createGroupCommit<FinishedGeneration>(db, (tx, finished) =>
    createChatRepo(tx).finishAll(finished),
  );
  const saveTemporaryStart = createGroupCommit<NewTemporaryGeneration>(db, (tx, rows) =>
    createChatRepo(tx).insertTemporaryGenerations(rows),
  );
  const registry = new GenerationRegistry();

  /** Figures the stream lacked (estimated when saved) are asked of OpenRouter in the background. */
  function fillLater(
    finished: FinishedGeneration,
    admitted: Pick<AdmittedSend, 'openrouter' | 'recordCost'>,
  ): void {
    if (finished.usageSource !== 'estimate') return;
    usageFill?.schedule({
      generationId: finished.generationId,
      upstreamId: finished.upstreamId,
      openrouter: admitted.openrouter,
      recordCost: (cost) => admitted.recordCost(cost),
    });
  }

  /** The conversation's state, from memory when in use: a send then reads nothing from the database. */
  async function inMemory(userId: string, conversationId: string) {
    const state = await cache.get(userId, conversationId, async () => {
      const conversation = await conversations.find(userId, conversationId);
      if (!conversation) return undefined;
      const rows = await repo.contextRows(userId, conversationId);
      // Only a conversation with compared answers has comparisons to read.
      const comparisons = rows.some((row) => row.comparison_id)
        ? (await conversations.listComparisons(userId, conversationId)).map((c) => ({
            id: c.id,
            questionId: c.question_id,
            chosenId: c.chosen_id,
          }))
        : [];
      return { userId, conversation, rows, comparisons };
    });
    if (!state) throw new AppError('conversation.not_found');
    return state;
  }

  /**
   * Whether the user may send now, to these models (one, or a comparison's), with this branch,
   * and with which key: the admin's model allow-list, then whether the models take the
   * branch's images (a model without image input is refused; fallbacks without it are left
   * out), then the admission gate (rate limit, budget, key; `demand`: a comparison's sends,
   * admitted all at once). Every answer passes it before any upstream call.
   */
  async function admit(
    userId: string,
    models: readonly string[],
    fallbackModels: readonly string[],
    branch: readonly BranchMessage[],
    demand?: SendDemand,
  ): Promise<{ admitted: AdmittedSend; fallbackModels: string[] }> {
    await modelAccess?.assertAllowed(userId, [...models, ...fallbackModels]);
    let usable = [...fallbackModels];
    for (const model of models) usable = await attachments.checkModels(model, usable, branch);
    return { admitted: await admission.admit(userId, demand), fallbackModels: usable };
  }

  /**
   * Commits a change to a conversation's tree made outside the cache's write-through methods
   * (regenerate, continue): the cache forgets the conversation once the commit is done.
   */
  function commitOutsideCache(
    conversationId: string,
    write: (tx: Queryable) => Promise<void>,
  ): Promise<void> {
    return db.transaction(write).finally(() => cache.forget(conversationId));
  }

  /**
   * Starts an answer; every answer starts here (send, regenerate, continue, temporary). The
   * upstream call starts at once, while `commit` writes the answer's rows, and this returns
   * once they are committed, so a caller told "accepted" can rely on them. Should the commit
   * fail, the upstream call is aborted and the error thrown: nothing was accepted.
   * (Overlapping the two hides the commit from the time to first token: a commit takes
   * ~1–3 ms here, and under load waits its turn on the one connection.)
   *
   * Once the answer's final row is committed, its cost counts against the user's budget and
   * `onSaved` runs. A conversation's answer (conversationId set) is saved while it streams
   * and its final text goes into the conversation cache; a temporary chat's answer
   * (conversationId null) writes its generation row's figures only: its text, reasoning,
   * sources and error are written nowhere.
   */
  async function launch(answer: {
    admitted: AdmittedSend;
    userId: string;
    generationId: string;
    conversationId: string | null;
    messageId: string;
    model: string;
    request: ChatRequest;
    /** Writes the answer's rows (and a send's question); called once the answer may start. */
    commit: () => Promise<void>;
    /** The text so far of an answer this call continues; null for a new answer. */
    initial?: { content: string; reasoning: string | null; sources: Source[] | null } | null;
    onSaved?: (finished: FinishedGeneration) => void;
    /**
     * Called once the answer runs, before its rows are committed: a send's stream opens here,
     * so the first token does not wait for the commit (the stream then tells the commit's
     * outcome). Without it the caller gets the answer only once committed.
     */
    onStart?: ((generation: Generation) => void) | undefined;
    requestId: string | undefined;
  }): Promise<Generation> {
    const { admitted, userId, conversationId, messageId } = answer;
    const initial = answer.initial ?? null;
    // A continuation writes on an existing answer: checked synchronously up to registry.add
    // below, so of two continuations of one answer sent at once the second is refused, never
    // run in parallel on the same text. (A new answer's id is fresh: nothing to check.)
    if (initial !== null && registry.ofUser(userId).some((g) => g.messageId === messageId)) {
      throw new AppError('message.busy');
    }
    // The answer's rows are written once the upstream request is out (below); the generation
    // is told of the commit's outcome through this promise.
    let commitStarted!: (commit: Promise<void>) => void;
    const saved = new Promise<void>((resolve) => (commitStarted = resolve));
    const stored = conversationId !== null;
    const generation = new Generation(
      answer.generationId,
      userId,
      conversationId,
      messageId,
      answer.model,
      answer.request,
      {
        openrouter: admitted.openrouter,
        flusher: stored ? flusher : noPartials,
        saveFinished: (finished) =>
          saveFinished(stored ? finished : figuresOnly(finished)).then(
            () => {
              if (conversationId !== null) {
                cache.answerSaved(conversationId, messageId, finished.content);
              }
              admitted.recordCost(finished.usage?.cost ?? null);
              answer.onSaved?.(finished);
              fillLater(finished, admitted);
            },
            (error: unknown) => {
              if (conversationId !== null) cache.forget(conversationId);
              throw error;
            },
          ),
        log,
        metrics,
      },
      saved,
      initial,
    );
    registry.add(generation);
    generation.start(answer.requestId);
    // undici writes a request on a reused keep-alive connection only after a turn of the
    // event loop (it first lets the idle socket show whether the server closed it). The
    // commit and the client's stream wait for that turn too, so the upstream request goes out
    // before their work rather than after it (docs/benchmarks.md, Findings 14).
    await new Promise<void>((resolve) => setImmediate(resolve));
    commitStarted(answer.commit());
    answer.onStart?.(generation);
    try {
      await saved;
    } catch (error) {
      generation.abort('discard');
      throw error;
    }
    return generation;
  }

  /**
   * The rest of a send or a comparison, its question checked and its files held: the gate
   * (admit; a comparison as one send per model), then the answers start (launch, one per
   * model) while the user's message (with its attachments), the answers' rows and a
   * comparison's row are committed, in one turn (under load, many turns share one commit:
   * db/group-commit.ts). A comparison's answers are the models named: no fallback model
   * stands in for one that fails.
   */
  async function startTurn(
    userId: string,
    conversation: ConversationState['conversation'],
    rows: ConversationState['rows'],
    parentId: string | null,
    models: readonly string[],
    comparing: boolean,
    content: string,
    attached: SendAttachments | null,
    requestId: string | undefined,
    onStart?: (generation: Generation) => void,
  ): Promise<{ userMessage: Message; comparisonId: string | null; generations: Generation[] }> {
    const conversationId = conversation.id;
    const question: BranchMessage = attached
      ? { role: 'user', content, attachments: attached.attachments }
      : { role: 'user', content };
    const branch = [...pathTo(rows, parentId), question];
    // Read before the gate (a comparison's cost is estimated from them) and before the turn
    // is saved: a failure here leaves nothing behind.
    const messages = await attachments.upstreamMessages(userId, branch);
    const demand = comparing
      ? {
          sends: models.length,
          reserveUsd: await promptCost(models, messages, conversation.systemPrompt),
        }
      : undefined;
    const { admitted, fallbackModels } = await admit(
      userId,
      models,
      comparing ? [] : conversation.fallbackModels,
      branch,
      demand,
    );

    const created = new Date();
    const userMessage: Message = {
      id: newId(),
      conversationId,
      parentId,
      role: 'user',
      content,
      reasoning: null,
      sources: null,
      model: null,
      status: 'complete',
      error: null,
      createdAt: created.toISOString(),
      updatedAt: created.toISOString(),
      generation: null,
      attachments: attached?.attachments ?? [],
      comparisonId: null,
    };
    // A millisecond apart, so "oldest first" puts the answers after their question, in the
    // order of the models.
    const answers: NewTurnAnswer[] = models.map((model, i) => ({
      id: newId(),
      createdAt: new Date(created.getTime() + 1 + i).toISOString(),
      generationId: newId(),
      model,
    }));
    const comparisonId = comparing ? newId() : null;
    const title =
      parentId === null && conversation.title === DEFAULT_TITLE
        ? titleFrom(content || (attached?.attachments[0]?.name ?? ''))
        : null;
    // A comparison keeps the conversation's model (choosing an answer may set it later).
    const turnModel = comparing ? (conversation.model ?? models[0]!) : models[0]!;

    // Started by the first answer's launch, once its upstream request is out.
    let saved: Promise<void> | null = null;
    const commitTurn = (): Promise<void> =>
      (saved ??= saveTurn({
        userId,
        conversationId,
        userMessage: { id: userMessage.id, parentId, content, createdAt: userMessage.createdAt },
        answers,
        comparisonId,
        model: turnModel,
        title,
        attachments: attached && { claims: attached.claims, copies: attached.copies },
      }));
    // The first answer of a conversation to end complete gets it named (titles.ts), without
    // waiting: a comparison's first.
    let titled = title === null;
    // What each model takes of the conversation's parameter overrides (the catalog's word).
    const supported = hasParams(conversation)
      ? await Promise.all(answers.map((answer) => supportedParameters(answer.model)))
      : [];
    // All started before the commit: launch runs synchronously up to its upstream request.
    const generations = await Promise.all(
      answers.map((answer, i) =>
        launch({
          admitted,
          userId,
          generationId: answer.generationId,
          conversationId,
          messageId: answer.id,
          model: answer.model,
          // Every answer's request is built alike: system prompt, the parameters the model
          // takes, fallbacks (none for a comparison), provider routing.
          request: chatRequest({
            conversation,
            model: answer.model,
            fallbackModels,
            branch: messages,
            supported: supported[i] ?? null,
          }),
          commit: commitTurn,
          onStart,
          onSaved: (finished) => {
            if (titled || title === null || finished.status !== 'complete') return;
            titled = true;
            titles?.afterFirstAnswer({
              userId,
              conversationId,
              messageId: answer.id,
              provisional: title,
              question: content,
              answer: finished.content,
              openrouter: admitted.openrouter,
              recordCost: (cost) => admitted.recordCost(cost),
            });
          },
          requestId,
        }),
      ),
    );
    const questionRow: ContextRow = {
      id: userMessage.id,
      parent_id: parentId,
      role: 'user',
      content,
      created_at: userMessage.createdAt,
    };
    if (attached) questionRow.attachments = attached.attachments;
    cache.turnSaved(conversationId, {
      rows: [
        questionRow,
        ...answers.map((answer): ContextRow => ({
          id: answer.id,
          parent_id: userMessage.id,
          role: 'assistant',
          content: '',
          created_at: answer.createdAt,
          ...(comparisonId === null ? {} : { comparison_id: comparisonId }),
        })),
      ],
      ...(comparisonId === null
        ? {}
        : { comparison: { id: comparisonId, questionId: userMessage.id, chosenId: null } }),
      model: turnModel,
      updatedAt: userMessage.createdAt,
      title,
    });
    return { userMessage, comparisonId, generations };
  }

  /**
   * A question with its answers (a send's one, a comparison's one per model): its content
   * and files checked, the parent found in the conversation (absent: where it continues), the
   * files held (no other send or delete takes them) until the turn has committed.
   */
  async function sendTurn(
    userId: string,
    conversationId: string,
    input: { content: string; parentId?: string | null; attachmentIds?: string[] },
    ask: { kind: 'send'; model?: string } | { kind: 'compare'; models: string[] },
    requestId: string | undefined,
    onStart?: (generation: Generation) => void,
  ) {
    const attachmentIds = input.attachmentIds ?? [];
    if (input.content === '' && attachmentIds.length === 0) {
      throw new AppError('request.invalid', 'Invalid body: write a message or attach a file.');
    }
    const state = await inMemory(userId, conversationId);
    const { conversation, rows } = state;
    let models: string[];
    if (ask.kind === 'send') {
      const model = ask.model ?? conversation.model;
      if (!model) throw new AppError('model.required');
      models = [model];
    } else {
      models = ask.models;
    }

    let parentId: string | null;
    if (input.parentId === null) {
      parentId = null; // a new first message: an edit of the first question
    } else if (input.parentId !== undefined) {
      if (!rows.some((row) => row.id === input.parentId)) {
        throw new AppError('message.parent_invalid');
      }
      parentId = input.parentId;
    } else {
      parentId = defaultParentId(rows, state.comparisons);
    }

    const attached =
      attachmentIds.length > 0 ? await attachments.forSend(userId, attachmentIds) : null;
    let committed = false;
    try {
      const turn = await startTurn(
        userId,
        conversation,
        rows,
        parentId,
        models,
        ask.kind === 'compare',
        input.content,
        attached,
        requestId,
        onStart,
      );
      committed = true;
      return turn;
    } finally {
      await attached?.finish(committed);
    }
  }

  /**
   * What the prompts of a comparison cost at least: each model's input price (from the
   * catalog) times the prompt's estimated tokens (a token per 4 characters of its text, the
   * system prompt's included, as the usage figures estimate them; files not counted). Also
   * checks that each model is in the catalog (model.unknown otherwise).
   */
  async function promptCost(
    models: readonly string[],
    messages: readonly ChatMessage[],
    systemPrompt: string | null,
  ): Promise<number> {
    if (!catalog) return 0;
    const known = await catalog(models);
    const missing = models.find((model) => !known.has(model));
    if (missing !== undefined) {
      throw new AppError(
        'model.unknown',
        `The model ${missing} is not in the model catalog: choose one the model picker lists.`,
      );
    }
    // Counted as the usage figures estimate a call's tokens (usage/figures.ts).
    const system = systemPrompt?.trim() ? systemPrompt.length : 0;
    const tokens = estimateTokens(system + promptCharacters(messages));
    return models.reduce((sum, model) => sum + tokens * known.get(model)!.promptUsdPerToken, 0);
  }

  return {
    registry,

    /**
     * Sends the user's message and starts its answer (launch): returned once the message (with
     * its attachments) and the answer's row (status streaming) are committed. `onStart` gets
     * the answer as soon as it runs, before that commit (the route streams it from there).
     */
    async send(
      userId: string,
      conversationId: string,
      input: {
        content: string;
        model?: string;
        parentId?: string | null;
        attachmentIds?: string[];
      },
      requestId?: string,
      onStart?: (generation: Generation) => void,
    ): Promise<Turn> {
      const turn = await sendTurn(
        userId,
        conversationId,
        input,
        { kind: 'send', ...(input.model === undefined ? {} : { model: input.model }) },
        requestId,
        onStart,
      );
      return { userMessage: turn.userMessage, generation: turn.generations[0]! };
    },

    /**
     * Sends one question to 2 to 4 distinct models at once: one question, and one answer per
     * model, siblings under it, each its own generation (purpose 'compare'), started together
     * through the same gate, launch and upstream client as a send. Admitted as that many sends
     * (the rate limit counts each; the budget must cover their prompts). The answers are the
     * models named: the conversation's fallback models are not used. Returned once the rows
     * are committed, as for send(); each answer then ends on its own.
     */
    async compare(
      userId: string,
      conversationId: string,
      input: {
        content: string;
        models: string[];
        parentId?: string | null;
        attachmentIds?: string[];
      },
      requestId?: string,
    ): Promise<ComparisonTurn> {
      const { models } = input;
      if (models.length < COMPARE_MIN_MODELS || models.length > COMPARE_MAX_MODELS) {
        throw new AppError('compare.model_count');
      }
      if (new Set(models).size !== models.length) throw new AppError('compare.duplicate_model');
      const turn = await sendTurn(
        userId,
        conversationId,
        input,
        { kind: 'compare', models },
        requestId,
      );
      return {
        userMessage: turn.userMessage,
        comparisonId: turn.comparisonId!,
        generations: turn.generations,
      };
    },

    /**
     * Records the answer chosen to continue a comparison with: its branch becomes the one a
     * send without a parent continues, and the conversation's model becomes that answer's.
     */
    async chooseAnswer(
      userId: string,
      conversationId: string,
      comparisonId: string,
      messageId: string,
    ): Promise<{ comparison: Comparison; conversation: Conversation }> {
      const conversation = await conversations.find(userId, conversationId);
      if (!conversation) throw new AppError('conversation.not_found');
      const comparison = await repo.findComparison(userId, conversationId, comparisonId);
      if (!comparison) throw new AppError('comparison.not_found');
      const answer = await repo.findMessage(userId, conversationId, messageId);
      if (answer?.comparisonId !== comparisonId) throw new AppError('comparison.not_an_answer');
      const at = new Date().toISOString();
      try {
        const updated = await db.transaction(async (tx) => {
          await createChatRepo(tx).chooseAnswer(comparisonId, messageId, at);
          return answer.model === null || answer.model === conversation.model
            ? conversation
            : await createConversationsRepo(tx).update(
                userId,
                conversationId,
                { model: answer.model },
                at,
              );
        });
        if (!updated) throw new AppError('conversation.not_found');
        const rows = await repo.contextRows(userId, conversationId);
        const [shown] = toComparisons(
          [
            {
              id: comparison.id,
              user_id: userId,
              question_id: comparison.questionId,
              chosen_id: messageId,
              created_at: at,
              chosen_at: at,
            },
          ],
          rows
            .sort((a, b) =>
              a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0,
            )
            .map((row) => ({ id: row.id, comparisonId: row.comparison_id ?? null })),
        );
        if (!shown) throw new AppError('comparison.not_found');
        return { comparison: shown, conversation: updated };
      } finally {
        cache.forget(conversationId);
      }
    },

    /** Stops every answer of a comparison still being written; how many were. */
    async stopComparison(
      userId: string,
      conversationId: string,
      comparisonId: string,
    ): Promise<number> {
      const { rows } = await inMemory(userId, conversationId);
      if (!(await repo.findComparison(userId, conversationId, comparisonId))) {
        throw new AppError('comparison.not_found');
      }
      const answers = new Set(
        rows.filter((row) => row.comparison_id === comparisonId).map((row) => row.id),
      );
      const running = registry.ofUser(userId).filter((g) => answers.has(g.messageId));
      for (const generation of running) generation.abort('stop');
      return running.length;
    },

    /**
     * A new answer to an existing question, with the conversation's model or `input.model`:
     * a sibling of its earlier answers (a new branch). The context is the branch down to the
     * question. Returned once the answer's row is committed, as for send().
     */
    async regenerate(
      userId: string,
      conversationId: string,
      messageId: string,
      input: { model?: string },
      requestId?: string,
    ): Promise<Generation> {
      const { conversation, rows } = await inMemory(userId, conversationId);
      const question = rows.find((row) => row.id === messageId);
      if (!question) throw new AppError('message.not_found');
      if (question.role !== 'user') throw new AppError('message.not_regenerable');
      const model = input.model ?? conversation.model;
      if (!model) throw new AppError('model.required');
      // The branch's files go again: the model must take its images.
      const branch = pathTo(rows, messageId);
      const { admitted, fallbackModels } = await admit(
        userId,
        [model],
        conversation.fallbackModels,
        branch,
      );
      const answer: NewAnswer = {
        userId,
        conversationId,
        parentId: messageId,
        messageId: newId(),
        generationId: newId(),
        model,
        createdAt: new Date().toISOString(),
      };
      return launch({
        ...answer,
        admitted,
        // The same request as the send's: system prompt, parameters, fallbacks, routing.
        request: chatRequest({
          conversation,
          model,
          fallbackModels,
          branch: await attachments.upstreamMessages(userId, branch),
          supported: hasParams(conversation) ? await supportedParameters(model) : null,
        }),
        commit: () =>
          commitOutsideCache(conversationId, (tx) => createChatRepo(tx).insertAnswer(answer)),
        requestId,
      });
    },

    /**
     * Writes on an answer that ended early (cut at the token limit, stopped, failed): the
     * branch down to it is sent with the answer's text as the last, assistant, message, which
     * OpenRouter's models continue; the new text is appended to the same message.
     */
    async continueAnswer(
      userId: string,
      conversationId: string,
      messageId: string,
      requestId?: string,
    ): Promise<Generation> {
      // Checked first: an answer's stream opens before its turn's commit puts it in the
      // conversation (`user_message` may follow the first deltas), and it is busy all along.
      const writing = registry
        .ofUser(userId)
        .some((g) => g.messageId === messageId && g.conversationId === conversationId);
      if (writing) throw new AppError('message.busy');
      const { conversation, rows } = await inMemory(userId, conversationId);
      const row = rows.find((r) => r.id === messageId);
      if (!row) throw new AppError('message.not_found');
      if (row.role !== 'assistant' || row.parent_id === null) {
        throw new AppError('message.not_continuable');
      }
      // The saved text and reasoning (the cached tree holds text only) and the answer's model.
      const stored = await repo.findMessage(userId, conversationId, messageId);
      if (!stored) throw new AppError('message.not_found');
      const model = stored.model ?? conversation.model;
      if (!model) throw new AppError('model.required');
      const path = pathTo(rows, row.parent_id);
      path.push({ id: messageId, role: 'assistant', content: stored.content });
      const { admitted, fallbackModels } = await admit(
        userId,
        [model],
        conversation.fallbackModels,
        path,
      );
      const answer = {
        userId,
        conversationId,
        messageId,
        generationId: newId(),
        model,
        createdAt: new Date().toISOString(),
      };
      return launch({
        ...answer,
        admitted,
        request: chatRequest({
          conversation,
          model,
          fallbackModels,
          branch: await attachments.upstreamMessages(userId, path),
          supported: hasParams(conversation) ? await supportedParameters(model) : null,
        }),
        commit: () =>
          commitOutsideCache(conversationId, (tx) => createChatRepo(tx).reopenAnswer(answer)),
        initial: { content: stored.content, reasoning: stored.reasoning, sources: stored.sources },
        requestId,
      });
    },

    /**
     * Deletes a message and every reply below it. Answers still being written there are
     * stopped first. Their generation rows stay, so the usage and spend they recorded do not
     * shrink (and the budget stays true). Their attachments go: the rows with the messages, the
     * files once that has committed.
     */
    async deleteMessage(userId: string, conversationId: string, messageId: string) {
      const conversation = await conversations.find(userId, conversationId);
      if (!conversation) throw new AppError('conversation.not_found');
      const rows = await repo.contextRows(userId, conversationId);
      if (!rows.some((row) => row.id === messageId)) throw new AppError('message.not_found');
      const doomed = new Set(subtreeOf(rows, messageId));
      const running = registry.ofUser(userId).filter((g) => doomed.has(g.messageId));
      for (const generation of running) generation.abort('stop');
      // Their final saves land first; the delete then removes the rows they wrote.
      await Promise.all(running.map((g) => g.done));
      let deleted: { ids: string[]; files: string[] };
      try {
        // The tree read again in the transaction: a reply added meanwhile goes too.
        deleted = await db.transaction(async (tx) => {
          const txRepo = createChatRepo(tx);
          const ids = subtreeOf(await txRepo.contextRows(userId, conversationId), messageId);
          await txRepo.deleteMessages(ids);
          return { ids, files: await createAttachmentsRepo(tx).deleteOfMessages(userId, ids) };
        });
      } finally {
        cache.forget(conversationId);
      }
      await attachments.removeFiles(userId, deleted.files);
      return deleted.ids;
    },

    /**
     * A temporary chat's answer: the history comes from the client and nothing of it is
     * stored, in the database, the conversation cache or the logs. The send is the same as a
     * conversation's otherwise (model allow-list, rate limit, budget, key, system prompt,
     * parameters, fallbacks and provider routing, launch, relay and stop), and the answer's generation row (purpose
     * 'temporary', without message or conversation) records what it cost, which counts
     * against the budget as any answer's does. Returned once that row is committed.
     */
    async sendTemporary(
      userId: string,
      input: TemporaryChatBody,
      requestId?: string,
    ): Promise<Generation> {
      const messages = temporaryHistory(input.messages);
      const { model } = input;
      // Its settings, as a conversation's: the request is built as every answer's is.
      const settings = {
        systemPrompt: input.systemPrompt ?? null,
        params: input.params ?? {},
        fallbackModels: input.fallbackModels ?? [],
        providerRouting: input.providerRouting ?? null,
      };
      const { admitted, fallbackModels } = await admit(
        userId,
        [model],
        settings.fallbackModels,
        messages,
      );
      const supported = hasParams(settings) ? await supportedParameters(model) : null;
      const generationId = newId();
      return launch({
        admitted,
        userId,
        generationId,
        conversationId: null,
        // The answer's id for the client of this stream: no message has it.
        messageId: newId(),
        model,
        request: chatRequest({
          conversation: settings,
          model,
          fallbackModels,
          branch: messages,
          supported,
        }),
        commit: () =>
          saveTemporaryStart({ generationId, userId, model, createdAt: new Date().toISOString() }),
        requestId,
      });
    },

    /**
     * The user's running generation, to reattach to; generation.not_found once it has ended,
     * and for a temporary chat's answer (its stream is its only reader).
     */
    running(userId: string, generationId: string): Generation {
      const generation = registry.find(userId, generationId);
      if (!generation || generation.temporary) throw new AppError('generation.not_found');
      return generation;
    },

    /**
     * Stops every running answer of the user (each is saved as `stopped` with its text so
     * far): their access was taken away (disabled, deleted), so their upstream calls, and
     * what those cost, end now rather than when the answers would have.
     */
    stopAllOf(userId: string): number {
      const running = registry.ofUser(userId);
      for (const generation of running) generation.abort('stop');
      return running.length;
    },

    stop(userId: string, generationId: string): void {
      const generation = registry.find(userId, generationId);
      if (!generation) throw new AppError('generation.not_found');
      generation.abort('stop');
    },

    /** At start-up: answers left `streaming` by a previous process are marked interrupted. */
    recoverInterrupted(): Promise<number> {
      return repo.interruptStreaming(
        new Date().toISOString(),
        'The server restarted while this answer was being written.',
      );
    },

    /** At shutdown: lets running answers finish for `graceMs`, saves the rest as interrupted. */
    async shutdown(graceMs: number): Promise<void> {
      await registry.drain(graceMs);
      await flusher.close();
    },
  };
}

export type ChatService = ReturnType<typeof createChatService>;

/** A temporary chat's finished answer as written: its generation row's figures, no text or error. */
function figuresOnly(finished: FinishedGeneration): FinishedGeneration {
  return {
    ...finished,
    messageId: null,
    conversationId: null,
    content: '',
    reasoning: null,
    sources: null,
    error: null,
  };
}

/** Every send with the server's key, unlimited: the chat without the admission gate. */
function serverKeyOnly(openrouter: OpenRouterClient): SendAdmission {
  return {
    admit: () =>
      openrouter.hasKey
        ? Promise.resolve({ openrouter, recordCost: () => undefined })
        : Promise.reject(new AppError('upstream.no_key')),
  };
}

/** A provisional title from the first words of the first message. */
export function titleFrom(content: string): string {
  const words = content.replace(/\s+/g, ' ').trim();
  // Cut by code point, so an emoji is never split into a lone surrogate.
  const points = Array.from(words);
  if (points.length <= 60) return words;
  const cut = points.slice(0, 60).join('');
  const space = cut.lastIndexOf(' ');
  return `${space > 30 ? cut.slice(0, space) : cut}…`;
}
