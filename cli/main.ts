import { Command, CommanderError, Option } from 'commander';
import { DispatchError } from '../src/errors.js';
import { terminalSafe } from '../src/text/terminal-safe.js';

/** Exit codes: 0 success, 1 unexpected failure, 2 bad input or usage (the error's code says which). */
const EXIT_BAD_INPUT = 2;

const verbose = process.argv.includes('--verbose');

// `dispatch parse x | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

function example(...lines: string[]): string {
  return `\nExample:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

const program = new Command('dispatch')
  .description("Turn a news site's articles into tweet-sized posts and a weekly newsletter.")
  .option('--verbose', 'print stack traces of unexpected errors')
  .showHelpAfterError('(run with --help for usage)')
  // Commander's errors quote the arguments, which may hold terminal escapes.
  .configureOutput({ writeErr: (text) => process.stderr.write(terminalSafe(text, { multiline: true })) })
  .exitOverride();

program
  .command('parse')
  .description('parse one article (scraped text, HTML page or JSON) and print it')
  .argument('<input>', 'a file, an http(s) URL, or - for standard input')
  .addOption(new Option('--format <format>', 'skip format detection').choices(['text', 'html', 'json']))
  .option('--json', 'print the Article as JSON')
  .addHelpText(
    'after',
    example(
      'dispatch parse examples/harbour-ferry.txt',
      'curl -s https://example.com/story | dispatch parse - --format html --json',
    ),
  )
  .action(async (input: string, options: { format?: 'text' | 'html' | 'json'; json?: boolean }) => {
    const { parseCommand } = await import('./commands/parse.js');
    await parseCommand(input, options);
  });

program
  .command('tweets')
  .description('summarize an article and print its posts, each with its weighted length out of 280')
  .argument('[input]', 'a file, an http(s) URL, or - for standard input')
  .addOption(new Option('--format <format>', 'skip format detection').choices(['text', 'html', 'json']))
  .option('--url <url>', "the article's link, for an input that does not carry one")
  .option('--json', 'print {id, summary, posts} as JSON')
  .option('--jsonl <in>', 'read JSON lines of {id, title?, body | article | text | html} instead')
  .option('--out <file>', 'with --jsonl: where to write the lines of {id, summary, posts}')
  .addHelpText(
    'after',
    example(
      'dispatch tweets examples/river-cleanup.html',
      'dispatch tweets examples/harbour-ferry-returns.txt --url https://news.example.com/ferry --json',
      'dispatch tweets --jsonl articles.jsonl --out posts.jsonl',
    ),
  )
  .action(async (input: string | undefined, options: import('./commands/tweets.js').TweetsOptions) => {
    const { tweetsCommand } = await import('./commands/tweets.js');
    await tweetsCommand(input, options);
  });

const posts = program
  .command('posts')
  .description(
    "summarize an article and print its posts for every network (or one), each with its length out of that network's limit",
  )
  .argument('[input]', 'a file, an http(s) URL, or - for standard input')
  .addOption(
    new Option('--network <network>', 'one network, or all')
      .choices(['x', 'bluesky', 'mastodon', 'threads', 'linkedin', 'all'])
      .default('all'),
  )
  .option('--format <format>', 'skip format detection: text, html or json (for export: csv)')
  .option('--url <url>', "the article's link, for an input that does not carry one")
  .option('--json', 'print {id, summary, posts} as JSON')
  .option('--jsonl <in>', 'read JSON lines of {id, title?, body | article | text | html} instead')
  .option('--out <file>', 'with --jsonl: where to write the lines of {id, summary, posts}')
  .addHelpText(
    'after',
    example(
      'dispatch posts examples/river-cleanup.html',
      'dispatch posts examples/harbour-ferry-returns.txt --network bluesky --url https://news.example.com/ferry --json',
      'dispatch posts --jsonl articles.jsonl --out posts.jsonl --network mastodon',
      'dispatch posts schedule --week 2026-W49',
    ),
  )
  .action(async (input: string | undefined, options: import('./commands/posts.js').PostsOptions) => {
    const { postsCommand } = await import('./commands/posts.js');
    await postsCommand(input, options);
  });
posts
  .command('schedule')
  .description("the week's planned posts by time (local in TZ), their state, and each network's posting")
  .option('--week <week>', 'the ISO week, e.g. 2026-W49 (default: this week in TZ)')
  .option(
    '--dry-run',
    "what would be planned for the week's stored articles with no plan yet; nothing is stored or queued",
  )
  .addHelpText(
    'after',
    example(
      'dispatch posts schedule',
      'dispatch posts schedule --week 2026-W49 --json',
      'dispatch posts schedule --dry-run',
    ),
  )
  .action(async (_options: object, cmd: Command) => {
    const { postsScheduleCommand } = await import('./commands/posts-schedule.js');
    await postsScheduleCommand(cmd.optsWithGlobals());
  });

posts
  .command('cancel')
  .description('cancel a planned post that has not been posted (its id is on `dispatch posts schedule`)')
  .argument('<id>', 'the planned post, e.g. post-x-6903094c8d60ce67-keyPoint-1')
  .addHelpText('after', example('dispatch posts cancel post-x-6903094c8d60ce67-keyPoint-1'))
  .action(async (id: string) => {
    const { postsCancelCommand } = await import('./commands/posts-schedule.js');
    await postsCancelCommand(id);
  });

posts
  .command('resume')
  .description('let a network paused after refusing the credentials post again (fix them first)')
  .argument('<network>', 'x, bluesky or mastodon')
  .addHelpText('after', example('dispatch posts resume x'))
  .action(async (network: string) => {
    const { postsResumeCommand } = await import('./commands/posts-schedule.js');
    await postsResumeCommand(network);
  });

posts
  .command('export')
  .description(
    "the week's posts as a CSV for the bulk upload of Buffer or Hootsuite (posts' --format csv, --network and --out apply)",
  )
  .addOption(new Option('--tool <tool>', 'whose bulk upload').choices(['buffer', 'hootsuite']).default('buffer'))
  .option('--week <week>', 'the ISO week (default: this week in TZ)')
  .addHelpText(
    'after',
    example(
      'dispatch posts export --format csv --tool buffer --network linkedin --out linkedin.csv',
      'dispatch posts export --tool hootsuite --week 2026-W49 --network x',
    ),
  )
  .action(async (_options: object, cmd: Command) => {
    const { postsExportCommand } = await import('./commands/posts-schedule.js');
    await postsExportCommand(cmd.optsWithGlobals());
  });

program
  .command('newsletter')
  .description("build and render one week's newsletter issue from article files")
  .requiredOption('--from <paths...>', 'article files, or folders of them')
  .option('--week <week>', 'the ISO week, e.g. 2013-W37 (default: the week of --now)')
  .option('--now <iso>', 'the time the issue is built at (default: now)')
  .option('--out <dir>', 'where to write issue.mjml, issue.html, issue.txt and issue.json', 'out')
  .option('--templates <dir>', 'the templates folder (default: the project templates/)')
  .addHelpText(
    'after',
    example(
      'dispatch newsletter --from examples --out /tmp/issue',
      'dispatch newsletter --from a.txt b.html --week 2013-W37 --now 2013-09-13T09:00:00Z --out out',
    ),
  )
  .action(async (options: import('./commands/newsletter.js').NewsletterOptions) => {
    const { newsletterCommand } = await import('./commands/newsletter.js');
    await newsletterCommand(options);
  });

program
  .command('worker')
  .description('work the queues (ingest, social, newsletter, feeds, send, post-*) and run the schedules, until Ctrl-C')
  .option('--concurrency <n>', 'jobs at once per queue (default: WORKER_CONCURRENCY)')
  .option('--queues <names>', 'comma-separated queues to work (default: all)')
  .addHelpText(
    'after',
    example(
      'dispatch worker',
      'REDIS_URL=redis://queue.internal:6379 dispatch worker --concurrency 8 --queues ingest,social',
    ),
  )
  .action(async (options: import('./commands/worker.js').WorkerCommandOptions) => {
    const { workerCommand } = await import('./commands/worker.js');
    await workerCommand(options);
  });

program
  .command('enqueue')
  .description('add ingest jobs for article files, folders or URLs (duplicates are reported, not added)')
  .argument('[inputs...]', 'files, folders of files, or http(s) URLs')
  .option('--feed <url...>', 'poll these RSS or Atom feeds now')
  .addHelpText(
    'after',
    example(
      'dispatch enqueue examples/',
      'dispatch enqueue https://news.example.com/story --feed https://news.example.com/rss',
    ),
  )
  .action(async (inputs: string[], options: import('../jobs/enqueue-articles.js').EnqueueOptions) => {
    const { enqueueCommand } = await import('./commands/enqueue.js');
    await enqueueCommand(inputs, options);
  });

program
  .command('status')
  .description(
    "jobs per queue and state, the next scheduled runs, the latest failures, the sends and the list's health",
  )
  .option('--json', 'print the status as JSON')
  .addHelpText('after', example('dispatch status', 'dispatch status --json'))
  .action(async (options: { json?: boolean }) => {
    const { statusCommand } = await import('./commands/status.js');
    await statusCommand(options);
  });

program
  .command('show')
  .description('a stored article with its posts, or a stored issue')
  .argument('<id-or-week>', 'an article id (16 hex digits) or an ISO week such as 2013-W37')
  .option('--json', 'print it as JSON')
  .addHelpText('after', example('dispatch show 2026-W48', 'dispatch show 6903094c8d60ce67 --json'))
  .action(async (id: string, options: { json?: boolean }) => {
    const { showCommand } = await import('./commands/show.js');
    await showCommand(id, options);
  });

program
  .command('check')
  .description(
    "check the week's issue before it goes: Gmail's clip, MJML, email-client compatibility, links and images, SpamAssassin's score (exit 1 when a check fails)",
  )
  .argument('[week]', 'the ISO week (default: this week)')
  .option('--json', 'print the report as JSON')
  .option('--offline', 'do not fetch links and images (they are reported as unchecked)')
  .addHelpText('after', example('dispatch check 2026-W48', 'dispatch check 2026-W48 --json --offline'))
  .action(async (week: string | undefined, options: { json?: boolean; offline?: boolean }) => {
    const { checkCommand } = await import('./commands/check.js');
    await checkCommand(week, options);
  });

program
  .command('send-test')
  .description("send the week's issue to any addresses, marked [Test] (built first when it is not stored yet)")
  .requiredOption('--to <addresses>', 'comma-separated addresses')
  .option('--week <week>', 'the ISO week (default: this week)')
  .option('--direct', 'send from this process instead of through the queue')
  .addHelpText(
    'after',
    example(
      'dispatch send-test --to me@example.org',
      'dispatch send-test --to a@example.org,b@example.org --week 2026-W48 --direct',
    ),
  )
  .action(async (options: import('./commands/send-test.js').SendTestOptions) => {
    const { sendTestCommand } = await import('./commands/send-test.js');
    await sendTestCommand(options);
  });

program
  .command('mailbox')
  .description('the local mailbox: an SMTP catcher on the port of SMTP_URL that keeps what it receives')
  .option('--list', 'list the messages it holds')
  .addHelpText('after', example('dispatch mailbox', 'dispatch mailbox --list'))
  .action(async (options: { list?: boolean }) => {
    const { mailboxCommand } = await import('./commands/mailbox.js');
    await mailboxCommand(options);
  });

program
  .command('preview')
  .description('the preview server: issues, articles, checks, test sends and the local mailbox in a browser')
  .option('--port <port>', 'port (default: PREVIEW_PORT)')
  .option('--host <host>', 'address to listen on (default: PREVIEW_HOST, 127.0.0.1)')
  .addHelpText('after', example('dispatch preview', 'dispatch preview --port 3100'))
  .action(async (options: { port?: string; host?: string }) => {
    const { previewCommand } = await import('./commands/preview.js');
    await previewCommand(options);
  });

const subscribers = program
  .command('subscribers')
  .description('the mailing list: import, list, show, stats, export, remove');
subscribers
  .command('import')
  .description('add or update subscribers from a CSV (with an email column) or JSON lines file')
  .argument('<file>', 'file.csv or file.jsonl')
  .addHelpText('after', example('dispatch subscribers import list.csv', 'dispatch subscribers import export.jsonl'))
  .action(async (file: string) => {
    const { importCommand } = await import('./commands/subscribers.js');
    await importCommand(file);
  });
subscribers
  .command('list')
  .description('every subscriber with their status')
  .option('--json', 'print them as JSON')
  .addHelpText('after', example('dispatch subscribers list'))
  .action(async (options: { json?: boolean }) => {
    const { listCommand } = await import('./commands/subscribers.js');
    await listCommand(options);
  });
subscribers
  .command('show')
  .description('one subscriber: status, consent record (how, when and from where they joined) and trail')
  .argument('<email>')
  .option('--json', 'print it as JSON')
  .addHelpText('after', example('dispatch subscribers show ana@example.org'))
  .action(async (email: string, options: { json?: boolean }) => {
    const { showSubscriberCommand } = await import('./commands/subscribers.js');
    await showSubscriberCommand(email, options);
  });
subscribers
  .command('stats')
  .description("how many subscribers have each status, and the latest issue's bounce and complaint rates")
  .option('--json', 'print them as JSON')
  .addHelpText('after', example('dispatch subscribers stats', 'dispatch subscribers stats --json'))
  .action(async (options: { json?: boolean }) => {
    const { statsCommand } = await import('./commands/subscribers.js');
    await statsCommand(options);
  });
subscribers
  .command('export')
  .description('subscribers as CSV with their consent record (spreadsheet-safe)')
  .addOption(
    new Option('--status <status>', 'only subscribers with this status').choices([
      'pending',
      'active',
      'unsubscribed',
      'bounced',
      'complained',
    ]),
  )
  .option('--out <file>', 'write to this file instead of standard output')
  .addHelpText(
    'after',
    example('dispatch subscribers export > list.csv', 'dispatch subscribers export --status active --out active.csv'),
  )
  .action(async (options: import('./commands/subscribers.js').ExportOptions) => {
    const { exportCommand } = await import('./commands/subscribers.js');
    await exportCommand(options);
  });
subscribers
  .command('remove')
  .description('delete a subscriber (an unsubscribed address stays suppressed)')
  .argument('<email>')
  .addHelpText('after', example('dispatch subscribers remove ana@example.org'))
  .action(async (email: string) => {
    const { removeCommand } = await import('./commands/subscribers.js');
    await removeCommand(email);
  });

program
  .command('send')
  .description("send the week's issue to every active subscriber: batches through the queue, a ledger per recipient")
  .option('--week <week>', 'the ISO week (default: this week)')
  .option('--rate <n/s>', 'messages per second across all workers (default: no limit)')
  .option('--pause <week>', 'pause a send in progress')
  .option('--resume <week>', 'resume a paused send')
  .option('--wait', 'wait until the send is done, even when not on a terminal')
  .addHelpText(
    'after',
    example(
      'dispatch send --week 2026-W48 --rate 50/s',
      'dispatch send --pause 2026-W48',
      'dispatch send --resume 2026-W48',
    ),
  )
  .action(async (options: import('./commands/send.js').SendOptions) => {
    const { sendCommand } = await import('./commands/send.js');
    await sendCommand(options);
  });

const issue = program
  .command('issue')
  .description("the weekly loop of one week's issue: its state, the editors' approval, hold and edits, the proof");

issue
  .command('show')
  .description('where the issue stands: built, held, approved, scheduled for T, sending, sent, empty or failed')
  .argument('[week]', 'the ISO week (default: this week)')
  .option('--json', 'print it as JSON')
  .addHelpText('after', example('dispatch issue show', 'dispatch issue show 2026-W49 --json'))
  .action(async (week: string | undefined, options: { json?: boolean }) => {
    const { issueShowCommand } = await import('./commands/issue.js');
    await issueShowCommand(week, options);
  });

issue
  .command('approve')
  .description('approve the issue: its list send starts now (the same send as dispatch send)')
  .argument('<week>', 'the ISO week, e.g. 2026-W49')
  .addHelpText('after', example('dispatch issue approve 2026-W49'))
  .action(async (week: string) => {
    const { issueApproveCommand } = await import('./commands/issue.js');
    await issueApproveCommand(week);
  });

issue
  .command('hold')
  .description('hold the issue: it is not sent by itself (NEWSLETTER_SEND_AFTER) until released')
  .argument('<week>', 'the ISO week, e.g. 2026-W49')
  .addHelpText('after', example('dispatch issue hold 2026-W49'))
  .action(async (week: string) => {
    const { issueHoldCommand } = await import('./commands/issue.js');
    await issueHoldCommand(week);
  });

issue
  .command('release')
  .description('release a held issue: its automatic send is scheduled again (at once if its time has passed)')
  .argument('<week>', 'the ISO week, e.g. 2026-W49')
  .addHelpText('after', example('dispatch issue release 2026-W49'))
  .action(async (week: string) => {
    const { issueReleaseCommand } = await import('./commands/issue.js');
    await issueReleaseCommand(week);
  });

issue
  .command('edit')
  .description("an editor's hand on the issue before it is sent: lead story, dropped stories, order, editor's note")
  .argument('<week>', 'the ISO week, e.g. 2026-W49')
  .option('--lead <id>', 'pin this article as the lead story (auto: the usual choice again)')
  .option('--drop <ids...>', 'leave these articles out')
  .option('--keep <ids...>', 'put dropped articles back')
  .option('--order <ids>', 'comma-separated article ids shown first, in this order (none: newest first again)')
  .option('--note <text>', 'the editor\'s note above the stories ("" removes it)')
  .option('--note-file <file>', "read the editor's note from a file (- for standard input)")
  .option('--reset', 'forget every earlier edit first')
  .option('--direct', 'rebuild in this process instead of through the queue')
  .addHelpText(
    'after',
    example(
      'dispatch issue edit 2026-W49 --lead 6903094c8d60ce67 --drop 0a1b2c3d4e5f6071',
      'dispatch issue edit 2026-W49 --order 6903094c8d60ce67,0a1b2c3d4e5f6071 --note-file note.txt',
    ),
  )
  .action(async (week: string, options: import('./commands/issue.js').IssueEditOptions) => {
    const { issueEditCommand } = await import('./commands/issue.js');
    await issueEditCommand(week, options);
  });

issue
  .command('proof')
  .description('send the proof of the issue to EDITOR_EMAILS again')
  .argument('<week>', 'the ISO week, e.g. 2026-W49')
  .addHelpText('after', example('dispatch issue proof 2026-W49'))
  .action(async (week: string) => {
    const { issueProofCommand } = await import('./commands/issue.js');
    await issueProofCommand(week);
  });

const archive = program.command('archive').description('the public archive of sent issues');

archive
  .command('build')
  .description('write the archive (index, one page per sent issue, feed.xml) as static files for any web host')
  .requiredOption('--out <dir>', 'the folder to write')
  .addHelpText('after', example('dispatch archive build --out public/archive'))
  .action(async (options: { out: string }) => {
    const { archiveBuildCommand } = await import('./commands/archive.js');
    await archiveBuildCommand(options);
  });

program
  .command('serve')
  .description(
    'the public pages behind the site, at PUBLIC_URL: sign-up, confirm, unsubscribe, preferences and the archive',
  )
  .option('--port <port>', 'port (default: the port of PUBLIC_URL, else 3001)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .addHelpText('after', example('dispatch serve', 'dispatch serve --host 0.0.0.0 --port 8080'))
  .action(async (options: { port?: string; host?: string }) => {
    const { serveCommand } = await import('./commands/serve.js');
    await serveCommand(options);
  });

program
  .command('form')
  .description("print the HTML of a sign-up form for the site's article template (it posts to PUBLIC_URL/subscribe)")
  .addHelpText('after', example('dispatch form > join-form.html'))
  .action(async () => {
    const { formCommand } = await import('./commands/form.js');
    await formCommand();
  });

program
  .command('bounces')
  .description('receive bounce and complaint reports by SMTP (mail to BOUNCE_ADDRESS) and update readers, until Ctrl-C')
  .option('--port <port>', 'port (default: BOUNCE_SMTP_PORT, 2526)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .addHelpText('after', example('dispatch bounces', 'dispatch bounces --host 0.0.0.0 --port 25'))
  .action(async (options: { port?: string; host?: string }) => {
    const { bouncesCommand } = await import('./commands/bounces.js');
    await bouncesCommand(options);
  });

program
  .command('redis')
  .description('start (or reuse) the managed redis-server under DATA_DIR/redis and print its URL')
  .option('--stop', 'stop the managed redis-server')
  .addHelpText('after', example('dispatch redis', 'dispatch redis --stop'))
  .action(async (options: { stop?: boolean }) => {
    const { redisCommand } = await import('./commands/redis.js');
    await redisCommand(options);
  });

program
  .command('spamd')
  .description(
    'start (or reuse) the managed spamd under DATA_DIR/spamd that dispatch check scores with, and print its port',
  )
  .option('--stop', 'stop the managed spamd')
  .addHelpText('after', example('dispatch spamd', 'dispatch spamd --stop'))
  .action(async (options: { stop?: boolean }) => {
    const { spamdCommand } = await import('./commands/spamd.js');
    await spamdCommand(options);
  });

program
  .command('dev')
  .description(
    'the local stack that `npm start` runs: Redis, a worker, the preview, the mailbox, the sign-up pages, the bounce receiver, the example articles and their issue',
  )
  .option('--examples <dir>', 'where the example articles are (default: the project examples/)')
  .option('--once', 'stop once the example issue is built')
  .addHelpText('after', example('npm start', 'dispatch dev --examples my-articles/ --once'))
  .action(async (options: import('./commands/dev.js').DevOptions) => {
    const { devCommand } = await import('./commands/dev.js');
    await devCommand(options);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  } else if (error instanceof DispatchError) {
    // Messages quote the bad value (a file name, a title): shown on one line, never obeyed.
    process.stderr.write(`dispatch: ${error.code}: ${terminalSafe(error.message)}\n`);
    if (verbose) process.stderr.write(`${terminalSafe(error.stack ?? '', { multiline: true })}\n`);
    process.exitCode = EXIT_BAD_INPUT;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `dispatch: unexpected error: ${terminalSafe(message)}${verbose ? '' : ' (run with --verbose for details)'}\n`,
    );
    if (verbose && error instanceof Error)
      process.stderr.write(`${terminalSafe(error.stack ?? '', { multiline: true })}\n`);
    process.exitCode = 1;
  }
}
