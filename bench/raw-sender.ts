// Part (a) of bench:send, in a process of its own like the Dispatch worker: N pooled nodemailer
// sends of one pre-rendered message. Reads {port, from, subject, html, text, n} on stdin; prints seconds.
import nodemailer from 'nodemailer';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input) as { port: number; from: string; subject: string; html: string; text: string; n: number };
const transport = nodemailer.createTransport({
  host: '127.0.0.1',
  port: job.port,
  pool: true,
  maxConnections: 5,
  maxMessages: 1000,
  ignoreTLS: true,
});
const start = performance.now();
await Promise.all(
  Array.from({ length: job.n }, (_, i) =>
    transport.sendMail({
      from: job.from,
      to: `reader${i}@example.org`,
      subject: job.subject,
      html: job.html,
      text: job.text,
      textEncoding: 'base64',
    }),
  ),
);
process.stdout.write(String((performance.now() - start) / 1000));
transport.close();
