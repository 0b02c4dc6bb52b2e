import { Router, type Request } from 'express';
import type { ServiceContext } from '../../services/context.ts';
import { dailyReport } from '../../services/daily-report.ts';
import { presentDailyReport } from '../../services/present-daily-report.ts';
import { dailyReportCsv } from '../daily-report-csv.ts';
import { callerOf } from '../middleware/authenticate.ts';
import { parseRequest } from '../middleware/validate.ts';
import { dailyReportQuerySchema } from '../report-schemas.ts';

/**
 * Treasury reports. `GET /daily?date=` is the day's report as JSON, or as CSV with `format=csv` or
 * `Accept: text/csv`; `treasury:read` reads every organisation (one with `organisation_id`), `orders:read`
 * its own.
 */
export function reportsRouter(context: ServiceContext): Router {
  const router = Router();

  router.get('/daily', async (req, res) => {
    const query = parseRequest(dailyReportQuerySchema, req.query, 'query');
    const report = presentDailyReport(await dailyReport(context, callerOf(res), { date: query.date, organisationId: query.organisation_id ?? null }));
    if ((query.format ?? formatAccepted(req)) === 'csv') {
      res.status(200).type('text/csv').setHeader('Content-Disposition', `attachment; filename="kassa-daily-${report.date}.csv"`).send(dailyReportCsv(report));
      return;
    }
    res.json(report);
  });
  return router;
}

function formatAccepted(req: Request): 'json' | 'csv' {
  return req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json';
}
