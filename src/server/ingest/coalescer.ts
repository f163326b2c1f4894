/**
 * Writes that arrive together are written together. Each `submit` queues one caller's rows; the
 * queue is written as one statement at the end of the event-loop turn (so the MQTT messages of one
 * socket read, or the HTTP requests parsed in one turn, share a statement), or as soon as it holds
 * `maxRows`. At most `maxWrites` statements run at once: meanwhile the queue grows, so batches get
 * larger exactly when the database is the bottleneck.
 *
 * `write` gets every queued row and returns the rows it newly stored; each caller gets back its own
 * stored rows (a row queued twice in one statement is stored once and given to the first caller).
 * `committed`, when given, sees every caller's stored rows with the caller's context once per
 * statement, before the callers get their answers (e.g. to evaluate alerts per device, not per caller).
 * `isolates` says which failures may come from one caller's rows: those fail only that caller (see settle).
 */
export class WriteCoalescer<Row, Context = undefined> {
  private queue: Submission<Row, Context>[] = [];
  private queuedRows = 0;
  private scheduled = false;
  private writing = 0;

  constructor(
    private readonly write: (rows: Row[]) => Promise<Row[]>,
    private readonly keyOf: (row: Row) => string,
    private readonly maxRows: number,
    private readonly maxWrites: number,
    private readonly committed?: (parts: { context: Context; stored: Row[] }[]) => Promise<void>,
    private readonly isolates: (error: unknown) => boolean = () => false,
  ) {}

  submit(rows: Row[], context: Context): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, context, resolve, reject });
      this.queuedRows += rows.length;
      if (this.queuedRows >= this.maxRows) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    if (this.queue.length === 0 || this.writing >= this.maxWrites) return;
    const batch: Submission<Row, Context>[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0]!.rows.length <= this.maxRows)) {
      const next = this.queue.shift()!;
      batch.push(next);
      rows += next.rows.length;
    }
    this.queuedRows -= rows;
    this.writing += 1;
    void this.run(batch);
  }

  /** The statement is done (committed or failed): the next queued rows may be written. */
  private released(): void {
    this.writing -= 1;
    this.flush();
  }

  private async run(batch: Submission<Row, Context>[]): Promise<void> {
    const outcomes = await this.settle(batch);
    this.released();
    const parts: { context: Context; stored: Row[] }[] = [];
    batch.forEach((submission, i) => {
      const outcome = outcomes[i]!;
      if ('stored' in outcome) parts.push({ context: submission.context, stored: outcome.stored });
    });
    // The rows are committed: a failure after this point must not fail the callers.
    if (parts.length > 0) await this.committed?.(parts).catch(() => undefined);
    batch.forEach((submission, i) => {
      const outcome = outcomes[i]!;
      if ('stored' in outcome) submission.resolve(outcome.stored);
      else submission.reject(outcome.error);
    });
  }

  /**
   * Writes the submissions in one statement. When it fails for a reason the rows of one submission
   * may cause (`isolates`, e.g. a value the database refuses), the submissions are written again in
   * halves, and so on, until only the submissions at fault fail: one device's bad rows never fail the
   * other callers sharing its statement. Any other failure (a lost connection) fails them all.
   */
  private async settle(batch: Submission<Row, Context>[]): Promise<Outcome<Row>[]> {
    try {
      const rows = batch.flatMap((s) => s.rows);
      const stored = await this.write(rows);
      // The common case: everything was new, and each caller simply gets its own rows back.
      if (stored.length === rows.length) return batch.map((s) => ({ stored: s.rows }));
      const storedKeys = new Set(stored.map(this.keyOf));
      return batch.map((s) => ({ stored: s.rows.filter((row) => storedKeys.delete(this.keyOf(row))) }));
    } catch (error) {
      if (batch.length === 1 || !this.isolates(error)) return batch.map(() => ({ error }));
      const half = Math.ceil(batch.length / 2);
      return [...await this.settle(batch.slice(0, half)), ...await this.settle(batch.slice(half))];
    }
  }
}

type Outcome<Row> = { stored: Row[] } | { error: unknown };

interface Submission<Row, Context> {
  rows: Row[];
  context: Context;
  resolve: (stored: Row[]) => void;
  reject: (error: unknown) => void;
}
