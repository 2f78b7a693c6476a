"""No account spends money it never had beyond its overdraft rule."""

from __future__ import annotations


def test_running_balance_never_below_overdraft(con):
    bad = con.execute("""
        WITH e AS (
            SELECT transfer_id, timestamp, from_account AS acc, -amount_base AS v FROM t
            UNION ALL SELECT transfer_id, timestamp, to_account, amount_base FROM t),
        r AS (SELECT acc, transfer_id,
                     sum(v) OVER (PARTITION BY acc ORDER BY timestamp, transfer_id ROWS UNBOUNDED PRECEDING) AS run
              FROM e)
        SELECT count(*) FROM r JOIN a ON r.acc = a.account_id
        WHERE a.opening_balance + r.run < -a.overdraft_limit - 0.005""").fetchone()[0]
    assert bad == 0


def test_the_check_catches_a_spender(con):
    # the same query on a tampered copy (an extra large payment from a poor account) must fail
    bad = con.execute("""
        WITH poor AS (SELECT account_id FROM a WHERE kind = 'bank' AND overdraft_limit = 0
                      ORDER BY opening_balance LIMIT 1),
        t2 AS (SELECT transfer_id, timestamp, from_account, to_account, amount_base FROM t
               UNION ALL SELECT 'x', TIMESTAMP '2026-01-05 00:00:00', (SELECT account_id FROM poor), 'nobody', 1e9),
        e AS (SELECT transfer_id, timestamp, from_account AS acc, -amount_base AS v FROM t2
              UNION ALL SELECT transfer_id, timestamp, to_account, amount_base FROM t2),
        r AS (SELECT acc, sum(v) OVER (PARTITION BY acc ORDER BY timestamp, transfer_id ROWS UNBOUNDED PRECEDING) run
              FROM e)
        SELECT count(*) FROM r JOIN a ON r.acc = a.account_id
        WHERE a.opening_balance + r.run < -a.overdraft_limit - 0.005""").fetchone()[0]
    assert bad >= 1


def test_amounts_positive_and_base_currency_consistent(con):
    assert con.execute("SELECT count(*) FROM t WHERE amount <= 0 OR amount_base <= 0").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM t WHERE currency = 'KZT' AND amount <> amount_base").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM t WHERE channel = 'crypto_transfer' AND currency = 'KZT'").fetchone()[0] == 0


def test_no_transfer_before_the_account_was_opened(con):
    bad = con.execute("""
        SELECT count(*) FROM t JOIN a ON a.account_id IN (t.from_account, t.to_account)
        WHERE t.timestamp < a.opened_at""").fetchone()[0]
    assert bad == 0
    # and some accounts are opened inside the window (fresh cards: drops' and ordinary people's)
    assert con.execute("SELECT count(*) FROM a WHERE opened_at >= (SELECT min(timestamp) FROM t)").fetchone()[0] > 0
