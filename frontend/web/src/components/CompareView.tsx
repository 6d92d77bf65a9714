import { memo, useEffect, useState } from 'react';
import type { Comparison, Model } from '../api/types';
import { formatTokens } from '../lib/format';
import type { SiblingPosition } from '../lib/thread';
import type { LiveFigures, ViewMessage } from '../state/chat';
import { MessageView, seconds, SiblingNav, type MessageActions } from './MessageView';

/** A comparison with its answers as the thread holds them (an answer deleted since is left out). */
export interface CompareGroupData {
  comparison: Comparison;
  answers: ViewMessage[];
}

/** What the buttons of a comparison do (Workspace): stable callbacks. */
export interface CompareActions {
  /** Continues the conversation with this answer (recorded by the backend). */
  choose: (comparison: Comparison, messageId: string) => void;
  /** Stops one answer still being written. */
  stopAnswer: (messageId: string) => void;
  /** Stops every answer of it still being written. */
  stopAll: (comparison: Comparison) => void;
}

interface CompareGroupProps {
  group: CompareGroupData;
  /** The answer on the branch shown: the conversation goes on below it. */
  currentId: string;
  /** Where that answer sits among all the question's answers (‹ n/m ›), if it has siblings. */
  siblings: SiblingPosition | undefined;
  /** A version was picked at this question (chosen, or by ‹ n/m ›): the current one is marked. */
  picked: boolean;
  models: Model[];
  actions: MessageActions;
  compareActions: CompareActions;
  busy: boolean;
  focusId: string | null;
}

/** The time (`performance.now()`), read again every `ms` while `on`: for figures that move with it. */
function useNow(on: boolean, ms: number): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => setNow(performance.now()), ms);
    return () => clearInterval(timer);
  }, [on, ms]);
  return now;
}

/**
 * The figures of an answer being written, as this tab counts them: pieces of text received
 * (about a token each), time to first token (when followed from the start) and tokens per
 * second. The saved figures replace them once it ends.
 */
function LiveStats({ live }: { live: LiveFigures | undefined }) {
  const now = useNow(live !== undefined && live.firstAt === null, 250);
  const parts: Array<{ key: string; text: string; title?: string }> = [];
  if (live) {
    parts.push({
      key: 'tokens',
      text: `~${formatTokens(live.pieces)} tokens`,
      title: 'Pieces of text received so far, about a token each',
    });
    if (live.fromStart) {
      const waited = Math.max(0, (live.firstAt ?? now) - live.since);
      parts.push({
        key: 'ttft',
        text:
          live.firstAt === null
            ? `waiting ${seconds(waited)}`
            : `${seconds(waited)} to first token`,
      });
    }
    if (live.firstAt !== null && live.lastAt !== null && live.lastAt > live.firstAt) {
      const rate = (live.pieces - 1) / ((live.lastAt - live.firstAt) / 1000);
      parts.push({ key: 'speed', text: `~${rate.toFixed(rate < 10 ? 1 : 0)} tok/s` });
    }
  }
  return (
    <div className="message-meta compare-live" data-testid="compare-live-stats" aria-live="off">
      {parts.map((part) => (
        <span key={part.key} className={`meta-part meta-${part.key}`} title={part.title}>
          {part.text}
        </span>
      ))}
    </div>
  );
}

function StopAnswerButton({ onStop }: { onStop: () => void }) {
  const [stopping, setStopping] = useState(false);
  return (
    <button
      type="button"
      className="action-button"
      data-testid="compare-stop"
      disabled={stopping}
      onClick={() => {
        setStopping(true);
        onStop();
      }}
    >
      {stopping ? 'Stopping…' : 'Stop'}
    </button>
  );
}

/**
 * One question's answers from 2 to 4 models, side by side (stacked on a narrow screen): each
 * column names its model and shows the answer as any answer is shown (the same sanitized
 * Markdown), its live figures while it is written and its own Stop, then its saved figures and
 * "Continue with this answer". The answer chosen is marked; the one on the branch shown is
 * outlined once a version was picked, and ‹ n/m › below still moves between the question's
 * answers (a later regenerate included).
 */
export const CompareGroup = memo(function CompareGroup({
  group,
  currentId,
  siblings,
  picked,
  models,
  actions,
  compareActions,
  busy,
  focusId,
}: CompareGroupProps) {
  const { comparison, answers } = group;
  const writing = answers.some((a) => a.status === 'streaming');
  const nameOf = (model: string | null) =>
    model ? (models.find((m) => m.id === model)?.name ?? model) : 'Unknown model';
  const chosen = answers.find((a) => a.id === comparison.chosenId);
  return (
    <section
      className="compare-group"
      data-testid="compare-group"
      data-comparison-id={comparison.id}
      data-columns={answers.length}
      aria-label={`${answers.length} answers compared`}
    >
      <header className="compare-header">
        <span className="compare-title">Compared {answers.length} models</span>
        <span className="compare-hint" data-testid="compare-hint">
          {chosen
            ? `Continuing with ${nameOf(chosen.model)}`
            : writing
              ? 'Writing…'
              : 'Choose the answer to continue with'}
        </span>
        {writing && (
          <button
            type="button"
            className="action-button"
            data-testid="compare-stop-all"
            onClick={() => compareActions.stopAll(comparison)}
          >
            Stop all
          </button>
        )}
      </header>
      <div className="compare-columns" data-columns={answers.length}>
        {answers.map((answer) => {
          const isChosen = answer.id === comparison.chosenId;
          const isCurrent = picked && answer.id === currentId;
          const streaming = answer.status === 'streaming';
          const name = nameOf(answer.generation?.model ?? answer.servedBy?.model ?? answer.model);
          return (
            <div
              key={answer.id}
              className={`compare-column${isCurrent ? ' current' : ''}${isChosen ? ' chosen' : ''}`}
              data-testid="compare-column"
              data-answer-id={answer.id}
              data-chosen={isChosen || undefined}
              aria-current={isCurrent ? 'true' : undefined}
            >
              <div className="compare-column-head">
                <span className="compare-model" data-testid="compare-model">
                  {name}
                </span>
                {isChosen && (
                  <span className="status-badge compare-chosen" data-testid="compare-chosen">
                    Chosen
                  </span>
                )}
              </div>
              {streaming && <LiveStats live={answer.live} />}
              <MessageView
                message={answer}
                models={models}
                siblings={undefined}
                actions={actions}
                busy={busy}
                focused={answer.id === focusId}
              />
              <div className="compare-column-foot">
                {streaming ? (
                  <StopAnswerButton onStop={() => compareActions.stopAnswer(answer.id)} />
                ) : (
                  !(isChosen && answer.id === currentId) && (
                    <button
                      type="button"
                      className="action-button primary"
                      data-testid="compare-choose"
                      disabled={busy}
                      onClick={() => compareActions.choose(comparison, answer.id)}
                    >
                      Continue with this answer
                    </button>
                  )
                )}
              </div>
            </div>
          );
        })}
      </div>
      {siblings && (
        <div className="compare-footer">
          <SiblingNav position={siblings} choose={actions.choose} />
        </div>
      )}
    </section>
  );
});
