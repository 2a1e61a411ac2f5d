import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { slots } from '../jobs/send.job.js';

describe('slots (messages in hand per worker)', () => {
  it.each([
    [1, 4],
    [2, 7],
    [10, 40],
  ])('with %i slots, %i tasks run at most that many at once, and all finish', async (limit, tasks) => {
    const inHand = slots(limit);
    let running = 0;
    let most = 0;
    const done = await Promise.all(
      Array.from({ length: tasks }, (_, i) =>
        inHand(async () => {
          running++;
          most = Math.max(most, running);
          await sleep(i % 3);
          running--;
          return i;
        }),
      ),
    );
    expect(done).toEqual(Array.from({ length: tasks }, (_, i) => i));
    expect(most).toBe(Math.min(limit, tasks));
  });

  it('a task that throws gives its slot back', async () => {
    const inHand = slots(1);
    await expect(
      inHand(() => {
        throw new Error('bad address');
      }),
    ).rejects.toThrow('bad address');
    await expect(inHand(async () => 'next')).resolves.toBe('next');
  });
});
