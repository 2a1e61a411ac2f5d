import type { Queues } from '../jobs/queues.js';
import { QUEUE_NAMES } from '../jobs/queues.js';
import { html } from './html.js';
import { layout } from './pages.js';

const STATES = ['wait', 'active', 'delayed', 'completed', 'failed'] as const;

/** A read-only view of the queues: counts per state, schedules and the latest failures. */
export async function queuesPage(queues: Queues): Promise<string> {
  const rows = [];
  const failures = [];
  const schedules = [];
  for (const name of QUEUE_NAMES) {
    const counts = await queues[name].getJobCounts(...STATES);
    rows.push(html`<tr><td>${name}</td>${STATES.map((s) => html`<td>${counts[s] ?? 0}</td>`)}</tr>`);
    for (const s of await queues[name].getJobSchedulers()) {
      schedules.push(html`<li>${name}/${s.key}: next ${s.next ? new Date(s.next).toISOString() : '?'}</li>`);
    }
    for (const job of await queues[name].getFailed(0, 9)) {
      failures.push(html`<tr><td>${name}</td><td>${job.id}</td><td>${job.failedReason}</td></tr>`);
    }
  }
  return layout(
    'Queues',
    html`<h1>Queues</h1><table><tr><th>queue</th>${STATES.map((s) => html`<th>${s}</th>`)}</tr>${rows}</table>
<h2>Schedules</h2><ul>${schedules.length ? schedules : html`<li>none</li>`}</ul>
<h2>Latest failures</h2><table>${failures.length ? failures : html`<tr><td>none</td></tr>`}</table>`,
  );
}
