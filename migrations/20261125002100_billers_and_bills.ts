import type { Knex } from 'knex';

/**
 * Bill payments (GovStack P2G). Billers own bill-ID prefixes and a bill source Kassa asks for bills; payer
 * institutions pay them. A bill inquiry or a biller's request to pay is what a payment pays against.
 *
 * A bill is paid at most once because at most one of its payments is live: the partial unique index below. A
 * payment whose order failed is released (released_at), which makes the bill payable again; the order's status,
 * not a copy of it, says whether a live payment has been paid. A payment with a voucher claims the bill before the
 * voucher is redeemed, so it has no order until the redemption made one; the voucher's number hash finds the
 * redemption again if the answer was lost.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE billers (
      id uuid PRIMARY KEY,
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.-]{1,20}$'),
      name text NOT NULL,
      currency char(3) NOT NULL,
      account jsonb NOT NULL,
      bill_source_url text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX billers_organisation ON billers (organisation_id);

    CREATE TABLE biller_prefixes (
      prefix text PRIMARY KEY CHECK (prefix ~ '^[A-Za-z0-9_.-]{1,20}$'),
      biller_id uuid NOT NULL REFERENCES billers(id)
    );
    CREATE INDEX biller_prefixes_biller ON biller_prefixes (biller_id);

    CREATE TABLE payer_institutions (
      id uuid PRIMARY KEY,
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.-]{1,20}$'),
      name text NOT NULL,
      settlement_account jsonb NOT NULL,
      rtp_url text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX payer_institutions_organisation ON payer_institutions (organisation_id);

    CREATE TABLE bill_inquiries (
      id uuid PRIMARY KEY,
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      correlation_id text NOT NULL,
      payer_institution_id uuid NOT NULL REFERENCES payer_institutions(id),
      biller_id uuid NOT NULL REFERENCES billers(id),
      bill_id text NOT NULL,
      biller_bill_status text,
      currency char(3) NOT NULL,
      amount_on_due_minor bigint NOT NULL CHECK (amount_on_due_minor > 0),
      amount_after_due_minor bigint CHECK (amount_after_due_minor > 0),
      due_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organisation_id, correlation_id)
    );

    CREATE TABLE transfer_requests (
      id uuid PRIMARY KEY,
      biller_id uuid NOT NULL REFERENCES billers(id),
      rtp_id text NOT NULL,
      request_id text NOT NULL,
      bill_id text NOT NULL,
      currency char(3) NOT NULL,
      amount_minor bigint NOT NULL CHECK (amount_minor > 0),
      payer_institution_id uuid NOT NULL REFERENCES payer_institutions(id),
      payer_address text,
      tenant_id text NOT NULL,
      callback_url text NOT NULL,
      decision text NOT NULL DEFAULT 'pending' CHECK (decision IN ('pending', 'accepted', 'rejected', 'cancelled')),
      reject_reason text,
      expires_at timestamptz NOT NULL,
      decided_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (biller_id, rtp_id),
      UNIQUE (biller_id, request_id)
    );

    CREATE TABLE bill_payments (
      id uuid PRIMARY KEY,
      biller_id uuid NOT NULL REFERENCES billers(id),
      bill_id text NOT NULL,
      -- Deferred: the payment claims its bill before the order it pays with is written, in the same transaction.
      order_id uuid UNIQUE REFERENCES orders(id) DEFERRABLE INITIALLY DEFERRED,
      voucher_number_hash text,
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      payer_institution_id uuid NOT NULL REFERENCES payer_institutions(id),
      inquiry_id uuid REFERENCES bill_inquiries(id),
      transfer_request_id uuid REFERENCES transfer_requests(id),
      request_id text NOT NULL,
      correlation_id text NOT NULL,
      tenant_id text NOT NULL,
      payment_reference text NOT NULL,
      callback_url text,
      released_at timestamptz,
      notice_status text NOT NULL DEFAULT 'awaiting_payment'
        CHECK (notice_status IN ('awaiting_payment', 'forwarding', 'delivered', 'acknowledged', 'rejected', 'not_due')),
      notice_reject_reason text CHECK (notice_reject_reason IN ('Def', 'Dup', 'Und')),
      notice_attempts integer NOT NULL DEFAULT 0,
      notice_last_status integer,
      notice_last_error text,
      notice_answered_at timestamptz,
      next_check_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((inquiry_id IS NULL) <> (transfer_request_id IS NULL)),
      CHECK (order_id IS NOT NULL OR voucher_number_hash IS NOT NULL)
    );
    CREATE UNIQUE INDEX bill_payments_one_live ON bill_payments (biller_id, bill_id) WHERE released_at IS NULL;
    CREATE INDEX bill_payments_transfer_request ON bill_payments (transfer_request_id) WHERE transfer_request_id IS NOT NULL;
    CREATE INDEX bill_payments_unsettled ON bill_payments (next_check_at) WHERE notice_status IN ('awaiting_payment', 'forwarding');
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE bill_payments, transfer_requests, bill_inquiries, payer_institutions, biller_prefixes, billers');
}
