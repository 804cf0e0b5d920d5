"""The SVG chart module: points where the values are, scaled to the y axis, axes and legend, empty data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from slotforce.service.charts import HEIGHT, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_TOP, Series, label_step, minute_chart, y_ceiling

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 3, 1, 11, 58, tzinfo=timezone.utc)
BOTTOM = HEIGHT - MARGIN_BOTTOM


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def points(svg: ET.Element, series: str) -> list[tuple[float, float]]:
    line = svg.find(f"{SVG}g[@data-series='{series}']/{SVG}polyline")
    return [tuple(map(float, p.split(","))) for p in line.get("points").split()]


def test_every_bucket_is_a_vertex_and_values_above_zero_get_a_point_with_a_tooltip():
    svg = parse(minute_chart("Bookings", "per minute", START, [Series("accepted", "#00f", [0, 3, 0, 6]),
                                                                Series("failed", "#f00", [0, 0, 1, 0])]))
    accepted = points(svg, "accepted")
    assert len(accepted) == 4
    assert [x for x, _ in accepted] == sorted(x for x, _ in accepted) and accepted[0][0] == MARGIN_LEFT
    circles = svg.findall(f".//{SVG}g[@data-series='accepted']/{SVG}circle")
    assert [(c.get("data-minute"), c.get("data-value")) for c in circles] == [
        ("2026-03-01T11:59", "3"), ("2026-03-01T12:01", "6")]
    assert circles[0].find(f"{SVG}title").text == "11:59 UTC: 3 accepted"
    assert len(svg.findall(f".//{SVG}g[@data-series='failed']/{SVG}circle")) == 1


def test_values_are_scaled_to_a_round_top_of_the_y_axis():
    svg = parse(minute_chart("t", "d", START, [Series("accepted", "#00f", [0, 5, 10])]))
    (_, y0), (_, y5), (_, y10) = points(svg, "accepted")
    assert y0 == BOTTOM and y10 == MARGIN_TOP  # 10 is the top: y_ceiling(10) == 10
    assert abs(y5 - (BOTTOM + MARGIN_TOP) / 2) < 0.1
    labels = [t.text for t in svg.findall(f"{SVG}g[@class='axes']/{SVG}text")]
    assert labels[:3] == ["0", "5", "10"] and "12:00" in labels  # y ticks, then a time on the hour
    assert [y_ceiling(n) for n in (0, 1, 3, 7, 11, 180, 501)] == [1, 1, 5, 10, 20, 200, 1000]
    assert label_step(180) == 30 and label_step(60) == 10 and label_step(1440) == 180


def test_empty_data_draws_axes_and_says_no_data():
    svg = parse(minute_chart("Bookings", "nothing yet", START, [Series("accepted", "#00f", [])]))
    assert svg.find(f"{SVG}text[@class='empty']").text == "No data"
    assert svg.find(f".//{SVG}polyline") is None and svg.find(f".//{SVG}circle") is None
    zeros = parse(minute_chart("Bookings", "quiet", START, [Series("accepted", "#00f", [0] * 60)]))
    assert len(points(zeros, "accepted")) == 60 and zeros.find(f".//{SVG}circle") is None
    assert {y for _, y in points(zeros, "accepted")} == {BOTTOM}


def test_the_chart_is_labelled_for_screen_readers_and_escapes_every_text():
    markup = str(minute_chart('<script>alert("t")</script>', "a & b", START, [Series('x"><b>', "red", [1])],
                              step=timedelta(minutes=5), element_id="c"))
    svg = parse(markup)
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c-title c-desc"
    assert svg.find(f"{SVG}title").text == '<script>alert("t")</script>' and svg.find(f"{SVG}desc").text == "a & b"
    assert "<script>" not in markup and "<b>" not in markup and not re.search(r"\son\w+=", markup)
    assert svg.find(f".//{SVG}g[@class='series']").get("data-series") == 'x"><b>'
