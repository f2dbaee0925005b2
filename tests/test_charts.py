"""The server-side SVG charts: one bar per reason, a line and a dot per week, every label escaped."""

from leadops.charts import bar_chart, line_chart


def test_bar_chart_draws_a_linked_bar_per_reason_and_escapes_labels():
    svg = bar_chart([("<script>x</script>", 4, "/leads/?a=1&b=2"), ("suppressions", 2, "")], title="Why")

    assert svg.count("<rect") == 2
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<a href=") == 1 and "a=1&amp;b=2" in svg


def test_line_chart_draws_a_line_and_a_dot_per_week_of_each_series():
    svg = line_chart(["2026-03-02", "2026-03-09"], {"Leads in": [3, 5], "Meetings": [0, 1]}, title="Weekly")

    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4
    assert "2026-03-02" in svg and "2026-03-09" in svg


def test_empty_charts_say_so():
    assert "nothing to draw" in bar_chart([], title="Why")
    assert "nothing to draw" in line_chart([], {}, title="Weekly")
