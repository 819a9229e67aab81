"""Server-rendered SVG geometry: horizontal bar charts and the schematic district map.

No JavaScript and no chart library: the page sends a few kilobytes of SVG that scale to any
width (viewBox), each bar a link to the list it counts, with a data table beside it for screen
readers and for copying.
"""

from dataclasses import dataclass

from .statistics import Chart

WIDTH = 640
LABEL_WIDTH = 190
VALUE_WIDTH = 110
ROW_HEIGHT = 30
BAR_HEIGHT = 18
TOP = 8


@dataclass
class DrawnBar:
    label: str
    display: str
    url: str
    y: int
    text_y: int
    width: float
    value_x: float


@dataclass
class DrawnChart:
    chart: Chart
    height: int
    bar_x: int
    bars: list[DrawnBar]


def draw_bar_chart(chart: Chart) -> DrawnChart:
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    maximum = float(chart.maximum) or 1.0
    bars = []
    for index, bar in enumerate(chart.bars):
        y = TOP + index * ROW_HEIGHT
        width = round(area * float(bar.value) / maximum, 1) if bar.value else 0
        bars.append(
            DrawnBar(
                label=bar.label,
                display=bar.display,
                url=bar.url,
                y=y,
                text_y=y + BAR_HEIGHT - 4,
                width=max(width, 2 if bar.value else 0),
                value_x=LABEL_WIDTH + width + 6,
            )
        )
    return DrawnChart(
        chart=chart, height=TOP * 2 + max(len(bars), 1) * ROW_HEIGHT, bar_x=LABEL_WIDTH, bars=bars
    )


#: Schematic positions of the six districts on the map (SVG units, not to scale), by slug.
#: West Bund lies along the Huangpu in the east, Caohejing in the south-west, Fenglin in the
#: north-east, the SJTU area around Xujiahui in the north, the ECUST area around Meilong in the
#: south; the audio-visual district's location is not given in the sources.
MAP_POSITIONS = {
    "west-bund": (470, 250),
    "around-sjtu": (250, 120),
    "fenglin": (390, 95),
    "around-ecust": (250, 380),
    "caohejing": (120, 270),
}
UNPLACED_ORIGIN = (470, 430)
