import { Router, type Response } from 'express';
import { notFound, ProblemError } from '../../domain/errors.ts';
import { grants } from '../../domain/scopes.ts';
import { listAccounts, listOrderJournals } from '../../db/repositories/ledger.ts';
import { findOrder, loadOrders } from '../../db/repositories/orders.ts';
import type { ServiceContext } from '../../services/context.ts';
import { presentAccountBalance, presentJournal } from '../../services/present-ledger.ts';
import { ledgerAccountsQuerySchema, ledgerJournalsQuerySchema } from '../ledger-schemas.ts';
import { callerOf } from '../middleware/authenticate.ts';
import { parseRequest } from '../middleware/validate.ts';

/**
 * The ledger, read-only. An agency with `orders:read` reads its own organisation's accounts and journals;
 * treasury (`treasury:read`) reads any organisation's: its own by default, another's by `organisation_id`.
 */
export function ledgerRouter(context: ServiceContext): Router {
  const router = Router();

  /** Every account with its balance, as of `as_of` (every journal booked at or before it) or now. */
  router.get('/accounts', async (req, res) => {
    const reader = readerOf(res);
    const query = parseRequest(ledgerAccountsQuerySchema, req.query, 'query');
    const organisationId = query.organisation_id ?? callerOf(res).organisationId;
    if (reader.ownOnly !== undefined && organisationId !== reader.ownOnly) {
      throw new ProblemError(403, 'insufficient_scope', 'Forbidden', "reading another organisation's ledger needs the treasury:read scope");
    }
    const asOf = query.as_of ? new Date(query.as_of) : undefined;
    const accounts = await listAccounts(context.db, { organisationId, currency: query.currency, asOf });
    res.json({ organisation_id: organisationId, as_of: asOf?.toISOString() ?? null, data: accounts.map(presentAccountBalance) });
  });

  /** The journals an order's money movements were posted in. */
  router.get('/journals', async (req, res) => {
    const reader = readerOf(res);
    const query = parseRequest(ledgerJournalsQuerySchema, req.query, 'query');
    const [order] = reader.ownOnly === undefined ? await loadOrders(context.db, [query.order_id]) : [await findOrder(context.db, reader.ownOnly, query.order_id)];
    if (!order) throw notFound(`order ${query.order_id}`);
    res.json({ order_id: order.id, data: (await listOrderJournals(context.db, order.id)).map(presentJournal) });
  });
  return router;
}

/** Treasury reads every organisation (`ownOnly` undefined); an agency its own organisation only. */
function readerOf(res: Response): { readonly ownOnly: string | undefined } {
  const caller = callerOf(res);
  if (grants(caller.scopes, 'treasury:read')) return { ownOnly: undefined };
  if (grants(caller.scopes, 'orders:read')) return { ownOnly: caller.organisationId };
  throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'this endpoint needs the treasury:read scope, or orders:read for your own organisation');
}
