"""Ordinary life looks like life: daily and weekly rhythm, heavy-tailed contacts, salaries, bills, cash,
and the legitimate look-alikes of drug money are all there."""

from __future__ import annotations


def test_daily_rhythm_in_local_time(con):
    by_hour = dict(con.execute("""SELECT hour(timestamp + INTERVAL 5 HOUR), count(*) FROM t
                                  GROUP BY 1""").fetchall())
    total = sum(by_hour.values())
    night = sum(by_hour.get(h, 0) for h in (2, 3, 4, 5)) / total
    evening = sum(by_hour.get(h, 0) for h in (18, 19, 20)) / total
    assert night < 0.04 and evening > 0.15, (night, evening)


def test_weekends_differ(con):
    rows = dict(con.execute("""
        SELECT isodow(timestamp + INTERVAL 5 HOUR) >= 6, count(*) FILTER (WHERE channel = 'iban_transfer')
               / count(DISTINCT CAST(timestamp + INTERVAL 5 HOUR AS DATE))
        FROM t GROUP BY 1""").fetchall())
    # firms pay invoices on working days
    assert rows[True] < 0.5 * rows[False], rows


def test_p2p_contacts_are_heavy_tailed(con):
    for side, other in (("from_account", "to_account"), ("to_account", "from_account")):
        med, top = con.execute(f"""
            SELECT median(n), max(n) FROM (SELECT {side}, count(DISTINCT {other}) n FROM t JOIN tt USING (transfer_id)
                                           WHERE activity = 'p2p' GROUP BY 1)""").fetchone()
        assert top >= 8 * med, (side, med, top)


def test_everyday_and_look_alike_activities_present(con):
    acts = {r[0] for r in con.execute("SELECT DISTINCT activity FROM tt").fetchall()}
    assert {"pos_purchase", "p2p", "salary", "rent", "utility", "atm_withdrawal", "seller_payment", "big_purchase",
            "group_collection", "group_gift", "charity_donation", "salary_passthrough", "remittance", "crypto_buy",
            "loan_repayment"} <= acts
    channels = {r[0] for r in con.execute("SELECT DISTINCT channel FROM t").fetchall()}
    assert {"card_p2p", "phone_p2p", "iban_transfer", "salary", "merchant_pos", "bill_payment", "atm_withdrawal",
            "cash_deposit", "crypto_transfer", "swift"} <= channels


def test_one_dominant_bank(con):
    shares = con.execute("""SELECT bank, count(*) / sum(count(*)) OVER () s FROM a
                            WHERE kind = 'bank' AND holder_kind = 'person' GROUP BY 1 ORDER BY 2 DESC""").fetchall()
    assert shares[0][0] == "kaspi" and shares[0][1] > 0.35 and len(shares) >= 6


def test_salary_pass_through_moves_most_of_the_salary_within_hours(con):
    n = con.execute("""
        SELECT count(*) FROM t s JOIN tt ts USING (transfer_id)
        JOIN t f ON f.from_account = s.to_account AND f.timestamp BETWEEN s.timestamp AND s.timestamp + INTERVAL 2 HOUR
        JOIN tt tf ON tf.transfer_id = f.transfer_id
        WHERE ts.activity = 'salary' AND tf.activity = 'salary_passthrough' AND f.amount_base >= 0.8 * s.amount_base
        """).fetchone()[0]
    assert n > 10
