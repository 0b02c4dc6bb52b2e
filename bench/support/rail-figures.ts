import pg from 'pg';

/** What the database says about one rail's orders once they are final. */
export interface RailFigures {
  readonly rail: string;
  readonly orders: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** Epoch ms of the first `submitted` event and the last `completed` event among the rail's orders. */
  readonly firstSubmittedMs: number | undefined;
  readonly lastCompletedMs: number | undefined;
}

export interface PipelineFigures {
  readonly rails: readonly RailFigures[];
  /** Epoch ms of the first order created and the last `completed` event of any order. */
  readonly firstCreatedMs: number | undefined;
  readonly lastCompletedMs: number | undefined;
  /** Every order's rail and rail key, to look up at the rail. */
  readonly railKeys: readonly { readonly rail: string; readonly railKey: string }[];
}

type Row = Record<string, unknown>;

export async function readPipelineFigures(databaseUrl: string): Promise<PipelineFigures> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // One client runs one query at a time.
    const statuses = await client.query('SELECT rail, status, count(*)::int AS count FROM orders GROUP BY rail, status');
    const spans = await client.query(`
      SELECT o.rail,
             extract(epoch FROM min(e.created_at) FILTER (WHERE e.to_status = 'submitted')) * 1000 AS first_submitted,
             extract(epoch FROM max(e.created_at) FILTER (WHERE e.to_status = 'completed')) * 1000 AS last_completed
      FROM order_events e JOIN orders o ON o.id = e.order_id
      GROUP BY o.rail`);
    const overall = await client.query(`
      SELECT extract(epoch FROM (SELECT min(created_at) FROM orders)) * 1000 AS first_created,
             extract(epoch FROM (SELECT max(created_at) FROM order_events WHERE to_status = 'completed')) * 1000 AS last_completed`);
    const keys = await client.query('SELECT rail, rail_key FROM orders');
    return {
      rails: railFigures(statuses.rows, spans.rows),
      firstCreatedMs: epochMs(overall.rows[0]?.first_created),
      lastCompletedMs: epochMs(overall.rows[0]?.last_completed),
      railKeys: keys.rows.map((row: Row) => ({ rail: String(row.rail), railKey: String(row.rail_key) })),
    };
  } finally {
    await client.end();
  }
}

function railFigures(statusRows: readonly Row[], spanRows: readonly Row[]): RailFigures[] {
  const rails = [...new Set(statusRows.map((row) => String(row.rail)))].sort();
  return rails.map((rail) => {
    const byStatus = Object.fromEntries(statusRows.filter((row) => row.rail === rail).map((row) => [String(row.status), Number(row.count)]));
    const span = spanRows.find((row) => row.rail === rail);
    return {
      rail,
      orders: Object.values(byStatus).reduce((sum, count) => sum + count, 0),
      byStatus,
      firstSubmittedMs: epochMs(span?.first_submitted),
      lastCompletedMs: epochMs(span?.last_completed),
    };
  });
}

/** pg returns numeric expressions as strings; NULL when no event matched. */
function epochMs(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}
