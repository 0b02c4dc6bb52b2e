import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call Kassa made to the biller, and the status it was answered with (none while it hangs). */
export interface BillSourceCall {
  readonly headers: IncomingHttpHeaders;
  readonly path: string;
  readonly body: Record<string, unknown> | undefined;
  answeredWith: number | undefined;
}

/**
 * How the biller answers a mark-paid notice: ACK or RJC (with a reason) in its 202; `taken`: a 202 with no status,
 * the answer to come later; `down`: 503; `hang`: no answer at all.
 */
export type NoticeAnswer = 'ACK' | 'RJC:Def' | 'RJC:Dup' | 'RJC:Und' | 'taken' | 'down' | 'hang';

/** A biller's GovStack bill source on loopback, serving the bills a test gives it and switchable to failing. */
export interface FakeBillSource {
  readonly url: string;
  /** The bill details it answers an inquiry with, by bill ID (billInquiryBillerResponse.yml's billDetails). */
  readonly bills: Map<string, Record<string, unknown>>;
  readonly inquiries: BillSourceCall[];
  readonly notices: BillSourceCall[];
  inquiryAnswer: 'bill' | 'down' | 'hang';
  noticeAnswer: NoticeAnswer;
  noticesAbout(billId: string): BillSourceCall[];
  close(): Promise<void>;
}

export async function startFakeBillSource(): Promise<FakeBillSource> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const call: BillSourceCall = { headers: { ...req.headers }, path: req.url ?? '', body: text ? JSON.parse(text) : undefined, answeredWith: undefined };
      const answer = (status: number, body: unknown) => {
        call.answeredWith = status;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const inquiry = /^\/bills\/([^/?]+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && inquiry) {
        source.inquiries.push(call);
        if (source.inquiryAnswer === 'hang') return;
        if (source.inquiryAnswer === 'down') return answer(503, { code: '01', reason: 'maintenance' });
        const billId = decodeURIComponent(inquiry[1]!);
        const details = source.bills.get(billId);
        if (!details) return answer(200, { code: '01', reason: 'no such bill', requestID: req.headers['x-correlationid'], billId });
        return answer(200, { code: '00', reason: 'ok', requestID: req.headers['x-correlationid'], billId, billDetails: details });
      }
      if (req.method === 'POST' && req.url === '/billTransferRequests') {
        source.notices.push(call);
        const requestID = call.body?.requestID;
        const mode = source.noticeAnswer;
        if (mode === 'hang') return;
        if (mode === 'down') return answer(503, { code: '01', reason: 'maintenance' });
        if (mode === 'taken') return answer(202, { responseCode: '00', reason: 'received', requestID });
        const [status, rejectReason] = mode.split(':');
        return answer(202, { requestId: requestID, billId: call.body?.billId, status, ...(rejectReason ? { rejectReason } : {}) });
      }
      answer(404, { code: '01', reason: 'not a bill source path' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const source: FakeBillSource = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bills: new Map(),
    inquiries: [],
    notices: [],
    inquiryAnswer: 'bill',
    noticeAnswer: 'ACK',
    noticesAbout: (billId) => source.notices.filter((notice) => notice.body?.billId === billId),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return source;
}
