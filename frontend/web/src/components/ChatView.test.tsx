import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Message, Model } from '../api/types';
import * as format from '../lib/format';
import * as markdown from '../lib/markdown';
import type { ViewMessage } from '../state/chat';
import type { SiblingPosition } from '../lib/thread';
import { ChatView, STEP, WINDOW } from './ChatView';
import type { MessageActions } from './MessageView';
import { domPerTest } from '../test-support/dom';

vi.mock('../lib/format', { spy: true });
vi.mock('../lib/markdown', { spy: true });

function message(i: number, partial: Partial<ViewMessage> = {}): ViewMessage {
  const assistant = i % 2 === 1;
  const base: Message = {
    id: `m${i}`,
    conversationId: 'c1',
    parentId: i === 0 ? null : `m${i - 1}`,
    role: assistant ? 'assistant' : 'user',
    content: assistant ? `Answer ${i}\n\n\`\`\`js\nconst n = ${i};\n\`\`\`` : `Question ${i}`,
    reasoning: null,
    sources: null,
    model: null,
    status: 'complete',
    error: null,
    createdAt: '2025-01-01T00:00:01Z',
    updatedAt: '2025-01-01T00:00:01Z',
    generation: null,
    attachments: [],
    comparisonId: null,
  };
  return {
    ...base,
    ...(assistant && {
      usage: { promptTokens: 10, completionTokens: 20, reasoningTokens: null, cost: null },
    }),
    ...partial,
  };
}

/** The workspace's catalog: the same array from one render to the next. */
const models: Model[] = [];
/** As the workspace passes them: stable from one render to the next. */
const siblings = new Map<string, SiblingPosition>();
const actions: MessageActions = {
  edit: vi.fn(),
  regenerate: vi.fn(),
  continueAnswer: vi.fn(),
  remove: vi.fn(),
  choose: vi.fn(),
};

const dom = domPerTest();
afterEach(() => vi.clearAllMocks());

function show(messages: ViewMessage[], key = 'c1') {
  act(() => {
    dom.root.render(
      <ChatView
        conversationKey={key}
        messages={messages}
        siblings={siblings}
        actions={actions}
        busy={false}
        models={models}
        loading={false}
        loadError={null}
        sendError={null}
      />,
    );
  });
}

const rendered = () => dom.container.querySelectorAll('.message').length;

describe('ChatView with a long conversation', () => {
  it('renders only the last WINDOW messages of 1,000, and earlier ones STEP at a time', () => {
    const messages = Array.from({ length: 1000 }, (_, i) => message(i));
    show(messages);
    expect(rendered()).toBe(WINDOW);
    expect(vi.mocked(markdown.renderMarkdown).mock.calls.length).toBe(WINDOW / 2);
    expect(dom.container.querySelector('.message-user')?.textContent).toBe(
      `Question ${1000 - WINDOW}`,
    );
    const more = dom.container.querySelector<HTMLButtonElement>('[data-testid="show-earlier"]');
    expect(more?.textContent).toContain(String(1000 - WINDOW));
    act(() => more?.click());
    expect(rendered()).toBe(WINDOW + STEP);
  });

  it('renders again only the message being written when a token arrives', () => {
    const messages = Array.from({ length: 20 }, (_, i) => message(i));
    messages.push(
      message(20),
      message(21, { status: 'streaming', content: 'Hel', usage: undefined }),
    );
    show(messages);
    const firstAnswer = dom.container.querySelector('.message-assistant .markdown');
    const metaRenders = vi.mocked(format.formatTokens).mock.calls.length;
    const markdownRenders = vi.mocked(markdown.renderMarkdown).mock.calls.length;
    expect(metaRenders).toBeGreaterThan(0);

    for (const text of ['Hello', 'Hello, wor', 'Hello, world.']) {
      const next = messages.slice();
      next[21] = { ...messages[21]!, content: text };
      show(next);
    }
    // The finished answers' views did not run again: no meta line, no Markdown rendered again
    // (the streaming answer's tail is rendered through LiveMarkdown, once per update at most).
    expect(vi.mocked(format.formatTokens).mock.calls.length).toBe(metaRenders);
    expect(
      vi.mocked(markdown.renderMarkdown).mock.calls.length - markdownRenders,
    ).toBeLessThanOrEqual(3);
    expect(dom.container.querySelector('.message-assistant .markdown')).toBe(firstAnswer);
    expect(dom.container.querySelector('[data-status="streaming"]')?.textContent?.trim()).toBe(
      'Hello, world.',
    );
  });

  it('starts a different conversation at its own window', () => {
    show(Array.from({ length: 100 }, (_, i) => message(i)));
    act(() =>
      dom.container.querySelector<HTMLButtonElement>('[data-testid="show-earlier"]')?.click(),
    );
    expect(rendered()).toBe(WINDOW + STEP);
    show(
      Array.from({ length: 300 }, (_, i) => message(i)),
      'c2',
    );
    expect(rendered()).toBe(WINDOW);
  });
});
