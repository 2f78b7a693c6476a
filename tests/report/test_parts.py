"""Report parts on their own: highlighted pieces of a post and the SVG charts."""

from __future__ import annotations

from datetime import date

from narcotrace.report import charts
from narcotrace.report.highlight import pieces


def test_pieces_cover_the_text_and_indicators_win_over_terms():
    text = "Меф 1г, карта 4400430000000011, пиши"
    expl = [{"feature": "lexicon: меф", "span": [0, 3]}, {"feature": "price", "span": [4, 6]},
            {"feature": "payment", "span": [8, 20]}, {"feature": "bad", "span": [999, 1000]}]
    out = pieces(text, expl, [(14, 30, "card:4400430000000011")])
    assert "".join(p.text for p in out) == text
    marked = [(p.text, p.kind) for p in out if p.kind]
    assert marked == [("Меф", "term"), ("1г", "term"), ("карта ", "term"), ("4400430000000011", "indicator")]


def test_pieces_cut_long_posts():
    out = pieces("x" * 5000, [], [], max_chars=100)
    assert out[0].text == "x" * 100 and "4,900 more characters" in out[-1].text


def test_charts_escape_names_and_scale():
    svg = str(charts.horizontal_bars([("<script>x</script>", 10.0), ("B", 5.0)], title="t"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count('class="bar"') == 2
    days = [date(2026, 3, 1), date(2026, 3, 2)]
    bars = str(charts.daily_bars(days, [("ads", "#000", [3, 1])], title="Ads", counts=True))
    assert bars.count('class="bar"') == 2 and ">4</text>" in bars  # whole-number axis up to 4
    assert charts.nice_max(730_000) == 1_000_000 and charts.nice_max(0) == 1.0
    assert charts.short(1_560_000) == "1.56M"
