import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { apiClient } from '../support/http.ts';
import { startTestKassa } from '../support/kassa.ts';

describe('scratch', function () {
  it('prints', async function () {
    this.timeout(600_000);
    const kassa = await startTestKassa({ backend: 'postgres', env: { BATCH_MONITOR_MS: '200' } });
    const admin = apiClient(kassa.url, await kassa.issueKey('agency', ['admin']));
    await admin.post('/v1/programs', { code: 'CHILD', name: 'Child', currency: 'KES', funding_account: { type: 'iban', value: 'GB82WEST12345698765432' }, budget: '100000000.00', approval_threshold: '100000000.00' }, randomUUID());
    const key = await kassa.issueKey('agency', ['benefits:write', 'orders:read']);
    const header = 'id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note';
    const big = [header, ...Array.from({ length: 200_000 }, (_, i) => `${i},R-${i},gsma,,,MSISDN,+2547${String(i).padStart(8, '1')},1.00,KES,a fairly long note to make the file bigger ${i}`)].join('\n');
    writeFileSync('/tmp/big.csv', big);
    const env = { ...process.env, KASSA_URL: kassa.url, KASSA_API_KEY: key };
    const bad = spawnSync(process.execPath, ['bin/kassa.js', 'batch', 'submit', '/tmp/big.csv', '--program', 'NOPE'], { env, encoding: 'utf8' });
    console.log('BAD', bad.status, bad.stdout, bad.stderr);
    const small = [header, ...Array.from({ length: 2000 }, (_, i) => `${i},S-${i},gsma,,,MSISDN,+2547${String(i).padStart(8, '2')},1.50,KES,x`), '1,S-bad,gsma,,,MSISDN,+254712345678,1.555,KES,x'].join('\n');
    writeFileSync('/tmp/small.csv', small);
    const tty = spawnSync('script', ['-qec', `node bin/kassa.js batch submit /tmp/small.csv --program CHILD`, '/dev/null'], { env, encoding: 'utf8' });
    console.log('TTY', tty.status, JSON.stringify(tty.stdout.slice(-3000)));
    const status = execFileSync(process.execPath, ['bin/kassa.js', 'batch', 'status', /batch: +(\S+)/.exec(tty.stdout)![1]!], { env, encoding: 'utf8' });
    console.log(status);
    const failures = execFileSync(process.execPath, ['bin/kassa.js', 'batch', 'failures', /batch: +(\S+)/.exec(tty.stdout)![1]!], { env, encoding: 'utf8' });
    console.log(failures);
    const big2 = spawnSync(process.execPath, ['bin/kassa.js', 'batch', 'submit', '/tmp/big.csv', '--program', 'CHILD', '--no-wait'], { env, encoding: 'utf8' });
    console.log('BIG', big2.status, big2.stdout, big2.stderr);
    await kassa.stop();
  });
});
