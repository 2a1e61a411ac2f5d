import { JOB_STATES, queueReport } from '../jobs/queue-report.js';
import type { Queues } from '../jobs/queues.js';
import { html } from './html.js';
import { layout } from './pages.js';

/** A read-only view of the queues: counts per state, schedules and the latest failures. */
export async function queuesPage(queues: Queues): Promise<string> {
  const report = await queueReport(queues, 10);
  return layout(
    'Queues',
    html`<h1>Queues</h1><table><tr><th>queue</th>${JOB_STATES.map((s) => html`<th>${s}</th>`)}</tr>
${Object.entries(report.queues).map(([name, counts]) => html`<tr><td>${name}</td>${JOB_STATES.map((s) => html`<td>${counts[s] ?? 0}</td>`)}</tr>`)}</table>
<h2>Schedules</h2><ul>${report.schedulers.length ? report.schedulers.map((s) => html`<li>${s.queue}/${s.id}: next ${s.next ?? '?'}</li>`) : html`<li>none</li>`}</ul>
<h2>Latest failures</h2><table>${
      report.failures.length
        ? report.failures.map((f) => html`<tr><td>${f.queue}</td><td>${f.jobId}</td><td>${f.reason}</td></tr>`)
        : html`<tr><td>none</td></tr>`
    }</table>`,
  );
}
