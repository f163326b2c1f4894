/**
 * Writes that arrive together are written together. Each `submit` queues one caller's rows; the
 * queue is written as one statement at the end of the event-loop turn (so the MQTT messages of one
 * socket read, or the HTTP requests parsed in one turn, share a statement), or as soon as it holds
 * `maxRows`. At most `maxWrites` statements run at once: meanwhile the queue grows, so batches get
 * larger exactly when the database is the bottleneck.
 *
 * `write` gets every queued row and returns the rows it newly stored; each caller gets back its own
 * stored rows (a row queued twice in one statement is stored once and given to the first caller).
 */
export class WriteCoalescer<Row> {
  private queue: Submission<Row>[] = [];
  private queuedRows = 0;
  private scheduled = false;
  private writing = 0;

  constructor(
    private readonly write: (rows: Row[]) => Promise<Row[]>,
    private readonly keyOf: (row: Row) => string,
    private readonly maxRows: number,
    private readonly maxWrites: number,
  ) {}

  submit(rows: Row[]): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
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
    const batch: Submission<Row>[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0]!.rows.length <= this.maxRows)) {
      const next = this.queue.shift()!;
      batch.push(next);
      rows += next.rows.length;
    }
    this.queuedRows -= rows;
    this.writing += 1;
    void this.run(batch).finally(() => {
      this.writing -= 1;
      this.flush();
    });
  }

  private async run(batch: Submission<Row>[]): Promise<void> {
    try {
      const rows = batch.flatMap((s) => s.rows);
      const stored = await this.write(rows);
      // The common case: everything was new, and each caller simply gets its own rows back.
      if (stored.length === rows.length) {
        for (const submission of batch) submission.resolve(submission.rows);
        return;
      }
      const storedKeys = new Set(stored.map(this.keyOf));
      for (const submission of batch) submission.resolve(submission.rows.filter((row) => storedKeys.delete(this.keyOf(row))));
    } catch (error) {
      for (const submission of batch) submission.reject(error);
    }
  }
}

interface Submission<Row> {
  rows: Row[];
  resolve: (stored: Row[]) => void;
  reject: (error: unknown) => void;
}
