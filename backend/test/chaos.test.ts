import { describe, expect, it } from 'vitest';
import { Ledger } from '../scripts/chaos/ledger.js';
import { failed, runChaos } from '../scripts/chaos/run.js';
import { compare, type ObservedConversation } from '../scripts/chaos/verify.js';

// The chaos run in small (npm run chaos runs it at any size; docs/durability.md has the
// figures of the full one): real backend processes killed with SIGKILL during start-up,
// under load and in the middle of checkpoints, then checked write by write.

describe('the chaos run', () => {
  it(
    'kills the backend during start-up, under load and in a checkpoint, and loses nothing acknowledged',
    {
      timeout: 180_000,
    },
    async () => {
      const report = await runChaos({ rounds: 3, users: 2, seed: 7, loadMs: [300, 1000] });
      const summary = JSON.stringify(report, null, 2);
      expect(failed(report), summary).toBe(false);
      expect(report.findings.lost, summary).toEqual([]);
      expect(report.findings.corrupt, summary).toEqual([]);
      expect(report.findings.streaming, summary).toEqual([]);
      expect(report.findings.torn, summary).toEqual([]);
      // Every kind of kill happened: the first start on a new file and one more start-up,
      // two under load, one the moment a checkpoint was under way (plus the set-up's kill).
      expect(report.kills.startup, summary).toBe(2);
      expect(report.kills.underLoad + report.kills.aimedAtCheckpoint, summary).toBe(3);
      expect(report.kills.aimedAtCheckpoint, summary).toBe(1);
      expect(report.kills.total, summary).toBe(6);
      // And there was something to lose: writes acknowledged, and read back after restarts.
      expect(report.acknowledged.userMessages, summary).toBeGreaterThan(5);
      expect(report.acknowledged.answers, summary).toBeGreaterThan(5);
      expect(report.findings.checked, summary).toBeGreaterThan(report.acknowledged.total);
    },
  );
});

describe('the chaos check itself', () => {
  const conversation = 'c1';
  function ledger() {
    const l = new Ledger();
    l.conversations.set(conversation, {
      id: conversation,
      user: 0,
      title: 'T',
      pendingTitle: null,
    });
    l.userMessages.push({ user: 0, conversationId: conversation, content: 'question', id: 'u1' });
    l.userMessages.push({ user: 0, conversationId: conversation, content: 'only a 200', id: null });
    l.answers.push({ user: 0, conversationId: conversation, messageId: 'a1', content: 'answer' });
    l.cut.set('a2', { user: 0, conversationId: conversation, messageId: 'a2', seen: 'partial an' });
    return l;
  }
  function intact(): Map<string, ObservedConversation> {
    return new Map([
      [
        conversation,
        {
          id: conversation,
          title: 'T',
          messages: [
            { id: 'u1', parentId: null, role: 'user', content: 'question', status: 'complete' },
            { id: 'a1', parentId: 'u1', role: 'assistant', content: 'answer', status: 'complete' },
            { id: 'u2', parentId: 'a1', role: 'user', content: 'only a 200', status: 'complete' },
            {
              id: 'a2',
              parentId: 'u2',
              role: 'assistant',
              content: 'partial',
              status: 'interrupted',
            },
          ],
        },
      ],
    ]);
  }
  const edit = (change: (c: ObservedConversation) => void) => {
    const observed = intact();
    const c = observed.get(conversation);
    if (c) change(c);
    return compare(0, ledger(), observed);
  };

  it('passes a database holding every acknowledged write', () => {
    const findings = compare(0, ledger(), intact());
    expect(findings).toMatchObject({ lost: [], corrupt: [], streaming: [], torn: [] });
    expect(findings.checked).toBe(5);
    expect(findings.messages).toBe(4);
  });

  it('reports each kind of loss', () => {
    expect(edit((c) => (c.messages = c.messages.filter((m) => m.id !== 'a1'))).lost).toEqual([
      'answer a1',
    ]);
    expect(
      edit((c) => (c.messages = c.messages.filter((m) => m.content !== 'only a 200'))).lost,
    ).toEqual(['user message "only a 200"']);
    expect(edit((c) => (c.messages = c.messages.filter((m) => m.id !== 'a2'))).lost).toEqual([
      'answer row a2 (stream cut)',
    ]);
    expect(compare(0, ledger(), new Map()).lost).toContain('conversation c1');
  });

  it('reports writes saved otherwise than acknowledged', () => {
    const changed = edit((c) => {
      const answer = c.messages.find((m) => m.id === 'a1');
      if (answer) answer.content = 'answe';
    });
    expect(changed.corrupt).toEqual(['answer a1: complete, 5 characters where 6 were streamed']);
    const diverged = edit((c) => {
      const cut = c.messages.find((m) => m.id === 'a2');
      if (cut) cut.content = 'partial X';
    });
    expect(diverged.corrupt).toHaveLength(1);
    expect(edit((c) => (c.title = 'other')).corrupt).toHaveLength(1);
  });

  it('reports rows left streaming and questions without their answer row', () => {
    const findings = edit((c) => {
      const cut = c.messages.find((m) => m.id === 'a2');
      if (cut) cut.status = 'streaming';
      c.messages.push({ id: 'u3', parentId: 'a2', role: 'user', content: 'x', status: 'complete' });
    });
    expect(findings.streaming).toEqual(['a2']);
    expect(findings.torn).toEqual(['u3']);
  });
});
