import { lazy, Suspense, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api } from '../api/client';
import type {
  ConversationsUsage,
  DailyUsage,
  ErrorsUsage,
  LatencyUsage,
  PricesUsage,
  UsageReport,
  UsageSummary,
  User,
  UsersUsage,
} from '../api/types';
import { errorText } from '../lib/errors';
import { usd } from '../lib/money';
import { conversationPath } from '../lib/router';
import { byDay, byModel, dayRange, errorSeries } from '../lib/usage';

// uPlot comes with the chart, in a chunk of its own.
const UsageChart = lazy(() => import('./UsageChart'));

const RANGES = [
  { days: 7, label: 'Last 7 days' },
  { days: 30, label: 'Last 30 days' },
  { days: 90, label: 'Last 90 days' },
  { days: 365, label: 'Last 365 days' },
] as const;

interface Reports {
  summary: UsageSummary;
  daily: DailyUsage;
  latency: LatencyUsage;
  conversations: ConversationsUsage;
  errors: ErrorsUsage;
  prices: PricesUsage;
  users: UsersUsage | null;
}

const count = (n: number) => n.toLocaleString('en');
const ms = (n: number) => `${Math.round(n).toLocaleString('en')} ms`;
const perSecond = (n: number | null) => (n === null ? '–' : `${n.toFixed(1)}/s`);

/**
 * Where money and time go: spend and tokens per day and model, latency percentiles per model
 * and provider, the costliest conversations, errors over time and a check of the recorded
 * cost against the catalog's prices. Admins choose whose usage, or the whole server's. Every
 * chart has its table and CSV/Parquet downloads of the same rows.
 */
export default function UsagePage({ user }: { user: User }) {
  const isAdmin = user.role === 'admin';
  const [days, setDays] = useState<number>(30);
  const [custom, setCustom] = useState<{ from: string; to: string } | null>(null);
  const [who, setWho] = useState<string>(user.id);
  const [reports, setReports] = useState<Reports | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [userList, setUserList] = useState<UsersUsage['users']>([]);

  const range = custom ?? dayRange(days, new Date());
  const query = useMemo(() => {
    const params = new URLSearchParams({ from: range.from, to: range.to });
    if (who !== user.id) params.set('user', who);
    return params.toString();
  }, [range.from, range.to, who, user.id]);

  useEffect(() => {
    let live = true;
    const r = api.usage;
    Promise.all([
      r.summary(query),
      r.daily(query),
      r.latency(query),
      r.conversations(`${query}&limit=10`),
      r.errors(query),
      r.prices(query),
      isAdmin && who === 'all' ? r.users(`from=${range.from}&to=${range.to}`) : null,
    ]).then(
      ([summary, daily, latency, conversations, errors, prices, users]) => {
        if (!live) return;
        setError(null);
        setReports({ summary, daily, latency, conversations, errors, prices, users });
      },
      (err: unknown) => {
        if (live) setError(errorText(err));
      },
    );
    return () => {
      live = false;
    };
  }, [query, isAdmin, who, range.from, range.to]);

  useEffect(() => {
    if (!isAdmin) return;
    let live = true;
    api.usage.users('').then(
      (result) => live && setUserList(result.users),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [isAdmin]);

  return (
    <div className="page usage-page" data-testid="usage-page">
      <section className="card usage-controls" aria-label="Range">
        <label>
          Range{' '}
          <select
            data-testid="usage-range"
            value={custom ? 'custom' : String(days)}
            onChange={(e) => {
              if (e.target.value === 'custom') setCustom(dayRange(days, new Date()));
              else {
                setCustom(null);
                setDays(Number(e.target.value));
              }
            }}
          >
            {RANGES.map((r) => (
              <option key={r.days} value={r.days}>
                {r.label}
              </option>
            ))}
            <option value="custom">Custom…</option>
          </select>
        </label>
        {custom && (
          <>
            <label>
              From{' '}
              <input
                type="date"
                data-testid="usage-from"
                value={custom.from}
                max={custom.to}
                onChange={(e) => e.target.value && setCustom({ ...custom, from: e.target.value })}
              />
            </label>
            <label>
              To{' '}
              <input
                type="date"
                data-testid="usage-to"
                value={custom.to}
                min={custom.from}
                onChange={(e) => e.target.value && setCustom({ ...custom, to: e.target.value })}
              />
            </label>
          </>
        )}
        {isAdmin && (
          <label>
            Whose{' '}
            <select data-testid="usage-user" value={who} onChange={(e) => setWho(e.target.value)}>
              <option value={user.id}>Mine ({user.username})</option>
              <option value="all">Whole server</option>
              {userList
                .filter((u) => u.id !== user.id)
                .map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.username}
                  </option>
                ))}
            </select>
          </label>
        )}
      </section>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {!reports && !error && <p className="muted">Loading…</p>}
      {reports && <Reports reports={reports} query={query} />}
    </div>
  );
}

function Reports({ reports, query }: { reports: Reports; query: string }) {
  const { summary, daily, latency, conversations, errors, prices, users } = reports;
  const { from, to } = summary.scope;
  const spend = useMemo(() => byDay(daily.rows, from, to, (r) => r.costUsd), [daily, from, to]);
  const tokens = useMemo(() => {
    const prompt = byDay(
      daily.rows,
      from,
      to,
      (r) => r.promptTokens,
      () => 'Prompt',
    );
    const completion = byDay(
      daily.rows,
      from,
      to,
      (r) => r.completionTokens,
      () => 'Completion',
    );
    return { labels: prompt.labels, series: [...prompt.series, ...completion.series] };
  }, [daily, from, to]);
  const models = useMemo(() => byModel(daily.rows), [daily]);
  const errorsOverTime = useMemo(() => errorSeries(errors.rows, from, to), [errors, from, to]);
  const latencyChart = useMemo(
    () => ({
      labels: latency.rows.map((r) => (r.provider ? `${r.model} · ${r.provider}` : r.model)),
      series: [
        { label: 'p50', values: latency.rows.map((r) => r.ttftP50Ms) },
        { label: 'p90', values: latency.rows.map((r) => r.ttftP90Ms) },
        { label: 'p99', values: latency.rows.map((r) => r.ttftP99Ms) },
      ],
    }),
    [latency],
  );
  const t = summary.totals;

  return (
    <>
      <section className="card" aria-labelledby="usage-totals">
        <h2 id="usage-totals">
          {summary.scope.userId === null
            ? 'The whole server'
            : `${summary.scope.username ?? 'Usage'}`}
          , {from} to {to}
        </h2>
        <div className="usage-stats" data-testid="usage-totals">
          <Stat label="Today" value={usd(summary.today.costUsd)} testId="stat-today" />
          <Stat
            label={`This month (${summary.month.month})`}
            value={usd(summary.month.costUsd)}
            testId="stat-month"
          />
          {summary.budget && (
            <Stat
              label="Budget left this month"
              value={summary.budget.leftUsd === null ? 'No limit' : usd(summary.budget.leftUsd)}
              testId="stat-budget"
            />
          )}
          <Stat label="Cost over the range" value={usd(t.costUsd)} testId="stat-cost" />
          <Stat
            label="Tokens (prompt + completion)"
            value={count(t.promptTokens + t.completionTokens)}
            testId="stat-tokens"
          />
          <Stat label="Generations" value={count(t.generations)} testId="stat-generations" />
          <Stat label="Errors" value={count(t.errors)} testId="stat-errors" />
        </div>
        {t.estimatedCostUsd > 0 && (
          <p className="muted">
            {usd(t.estimatedCostUsd)} of it is estimated: figures OpenRouter has not given (tokens
            from the text, cost from the catalog price of the day).
          </p>
        )}
        <DataTable
          caption="By kind"
          testId="table-kinds"
          head={['Kind', 'Generations', 'Tokens', 'Cost']}
          rows={summary.kinds.map((k) => [
            k.kind,
            count(k.generations),
            count(k.tokens),
            usd(k.costUsd),
          ])}
        />
        <Downloads report="kinds" query={query} />
      </section>

      <ChartCard
        id="spend"
        title="Spend per day, by model"
        chart={
          <UsageChart
            title="Spend per day, by model"
            xLabel="Day"
            kind="bars"
            stacked
            labels={spend.labels}
            series={spend.series}
            format={usd}
          />
        }
        table={
          <DataTable
            caption="Per day and model"
            testId="table-daily"
            head={['Day', 'Model', 'Generations', 'Prompt', 'Completion', 'Cost']}
            rows={daily.rows.map((r) => [
              r.day,
              r.model,
              count(r.generations),
              count(r.promptTokens),
              count(r.completionTokens),
              usd(r.costUsd),
            ])}
          />
        }
        downloads={<Downloads report="daily" query={query} />}
      />

      <ChartCard
        id="tokens"
        title="Tokens per day"
        chart={
          <UsageChart
            title="Tokens per day"
            xLabel="Day"
            kind="lines"
            labels={tokens.labels}
            series={tokens.series}
            format={count}
          />
        }
        table={
          <DataTable
            caption="Per model"
            testId="table-models"
            head={['Model', 'Generations', 'Prompt', 'Completion', 'Reasoning', 'Cached', 'Cost']}
            rows={models.map((m) => [
              m.model,
              count(m.generations),
              count(m.promptTokens),
              count(m.completionTokens),
              count(m.reasoningTokens),
              count(m.cachedTokens),
              usd(m.costUsd),
            ])}
          />
        }
        downloads={<Downloads report="daily" query={query} />}
      />

      <ChartCard
        id="latency"
        title="Time to first token, by model and provider"
        chart={
          <UsageChart
            title="Time to first token, by model and provider"
            xLabel="Model"
            kind="bars"
            labels={latencyChart.labels}
            series={latencyChart.series}
            format={ms}
          />
        }
        table={
          <DataTable
            caption="Latency percentiles (each within 1 % of the exact value)"
            testId="table-latency"
            head={[
              'Model',
              'Provider',
              'Generations',
              'TTFT p50',
              'p90',
              'p99',
              'Tokens/s p50',
              'p90',
              'p99',
            ]}
            rows={latency.rows.map((r) => [
              r.model,
              r.provider || '–',
              count(r.generations),
              ms(r.ttftP50Ms),
              ms(r.ttftP90Ms),
              ms(r.ttftP99Ms),
              perSecond(r.tpsP50),
              perSecond(r.tpsP90),
              perSecond(r.tpsP99),
            ])}
          />
        }
        downloads={<Downloads report="latency" query={query} />}
      />

      <ChartCard
        id="errors"
        title="Errors per day, by code"
        chart={
          <UsageChart
            title="Errors per day, by code"
            xLabel="Day"
            kind="bars"
            stacked
            labels={errorsOverTime.labels}
            series={errorsOverTime.series}
            format={count}
          />
        }
        table={
          <DataTable
            caption="Per day, model and code"
            testId="table-errors"
            head={['Day', 'Model', 'Code', 'Count']}
            rows={errors.rows.map((r) => [r.day, r.model, r.errorCode, count(r.generations)])}
          />
        }
        downloads={<Downloads report="errors" query={query} />}
      />

      <section className="card" aria-labelledby="usage-conversations">
        <h2 id="usage-conversations">Costliest conversations</h2>
        <DataTable
          caption="Top 10 by cost"
          testId="table-conversations"
          head={[
            'Conversation',
            ...(summary.scope.userId === null ? ['User'] : []),
            'Generations',
            'Tokens',
            'Cost',
          ]}
          rows={conversations.rows.map((r) => [
            r.title === null ? (
              <span className="muted">(deleted)</span>
            ) : summary.scope.userId === null ? (
              r.title
            ) : (
              <a href={conversationPath(r.conversationId)}>{r.title}</a>
            ),
            ...(summary.scope.userId === null ? [r.username ?? '–'] : []),
            count(r.generations),
            count(r.tokens),
            usd(r.costUsd),
          ])}
        />
        <Downloads report="conversations" query={`${query}&limit=10`} />
      </section>

      <section className="card" aria-labelledby="usage-prices">
        <h2 id="usage-prices">Cost check</h2>
        <p className="page-lead">
          What OpenRouter charged next to the same tokens at the catalog&apos;s list price of each
          day. A provider cheaper or dearer than the list, cache discounts and models without a
          known price make the difference.
        </p>
        <DataTable
          caption="Charged and list price per day and model"
          testId="table-prices"
          head={['Day', 'Model', 'Generations', 'Charged', 'List price', 'Difference', 'Unpriced']}
          rows={prices.rows.map((r) => [
            r.day,
            r.model,
            count(r.generations),
            usd(r.chargedUsd),
            usd(r.listPriceUsd),
            usd(r.differenceUsd),
            count(r.unpriced),
          ])}
        />
        <Downloads report="prices" query={query} />
      </section>

      {users && (
        <section className="card" aria-labelledby="usage-users">
          <h2 id="usage-users">Per user</h2>
          <DataTable
            caption="Every user's usage over the range"
            testId="table-users"
            head={['User', 'Generations', 'Tokens', 'Cost', 'Errors']}
            rows={users.rows.map((r) => [
              r.username ?? r.userId,
              count(r.generations),
              count(r.tokens),
              usd(r.costUsd),
              count(r.errors),
            ])}
          />
          <Downloads report="users" query={`from=${from}&to=${to}`} />
        </section>
      )}

      <section className="card" aria-labelledby="usage-rows">
        <h2 id="usage-rows">Every generation</h2>
        <p className="page-lead">
          Each call of the range, with its tokens, cost (and whether it is an estimate), time to
          first token, duration, tokens per second, finish reason and error.
        </p>
        <Downloads report="generations" query={query} />
      </section>
    </>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="usage-stat" data-testid={testId}>
      <span className="usage-stat-label">{label}</span>
      <span className="usage-stat-value">{value}</span>
    </div>
  );
}

function ChartCard(props: {
  id: string;
  title: string;
  chart: ReactNode;
  table: ReactNode;
  downloads: ReactNode;
}) {
  return (
    <section
      className="card"
      aria-labelledby={`usage-${props.id}`}
      data-testid={`chart-${props.id}`}
    >
      <h2 id={`usage-${props.id}`}>{props.title}</h2>
      <Suspense fallback={<p className="muted">Loading the chart…</p>}>{props.chart}</Suspense>
      {props.table}
      {props.downloads}
    </section>
  );
}

function DataTable(props: {
  caption: string;
  head: string[];
  rows: ReactNode[][];
  testId: string;
}) {
  return (
    <details className="usage-table" open={props.rows.length <= 12}>
      <summary>
        {props.caption} ({props.rows.length} {props.rows.length === 1 ? 'row' : 'rows'})
      </summary>
      <div className="table-scroll">
        <table className="table" data-testid={props.testId}>
          <thead>
            <tr>
              {props.head.map((h, i) => (
                <th key={i} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row, i) => (
              <tr key={i}>
                {row.map((cell, j) => (
                  <td key={j}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function Downloads({ report, query }: { report: UsageReport; query: string }) {
  const href = (format: 'csv' | 'parquet') =>
    `/api/usage/export?report=${report}&format=${format}&${query}`;
  return (
    <p className="usage-downloads">
      Download the rows:{' '}
      <a href={href('csv')} download data-testid={`download-${report}-csv`}>
        CSV
      </a>{' '}
      ·{' '}
      <a href={href('parquet')} download data-testid={`download-${report}-parquet`}>
        Parquet
      </a>
    </p>
  );
}
