"""The patient-flow picture: a Sankey-style drawing, left to right, with matplotlib only.

Places sit in layers (GP or other referral source, triage, services, theatre, rehab,
discharged); each band is as wide as its flow and carries its count a year. The GP
bounce-back loop of the fragmented design is drawn as one red loop over the top, fed by a
"back to the GP" box, so it cannot be missed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.base.lazy import later
from sim.report.labels import words
from sim.scenario.schema import Scenario

pd = later("pandas")
figure = later("matplotlib.figure")  # figures made without pyplot: no GUI backend, no global state
mpatches = later("matplotlib.patches")
mpath = later("matplotlib.path")

BACK = "back to the GP"
SOURCES = ("GP", "self-referral", "outside the contract")
"""Where referrals come from (the model names the direct ones in ``sim/model/referrals.py``)."""
LAYERS = ("source", "triage", "community", "hospital", "back", "theatre", "rehab", "out")
GAP_BEFORE = {"triage": 2.0, "community": 2.0, "hospital": 2.0, "back": 1.7, "theatre": 1.7, "rehab": 1.8, "out": 1.8}
BOX_W = 1.2
HEIGHT = 10.0  # data units for the tallest column
NODE_GAP = 0.42
MIN_H = 0.5
FORWARD, LOOP = "#4c72b0", "#c44e52"
FONT = 8.5
SIDE_LANE = 0.7  # room left of the GP for the loop when it enters from the side
LABEL_SHARE = 0.005  # smaller flows are listed beside the picture, not numbered on it


@dataclass
class FlowNotes:
    """What the picture leaves out, as (from, to, patients a year)."""

    unnumbered: list[tuple[str, str, float]]  # drawn, too small or too crowded to carry its number
    undrawn: list[tuple[str, str, float]]  # onward referrals between services, or a step back
    dropped: int  # flows under one patient a year


@dataclass
class Node:
    name: str
    layer: str
    x: float = 0.0
    top: float = 0.0
    height: float = MIN_H
    inflow: float = 0.0
    outflow: float = 0.0
    out_next: float = 0.0  # where the next outgoing band starts (from the top)
    in_next: float = 0.0
    rect: tuple[float, float, float, float] = field(default=(0, 0, 0, 0))

    @property
    def centre(self) -> float:
        return self.top - self.height / 2


def rank_of(layer: str) -> int:
    return LAYERS.index(layer)


def _layer(name: str, scenario: Scenario | None) -> str:
    if name in SOURCES or name.startswith("backlog"):
        return "source"
    if name == BACK:
        return "back"
    if name == "theatre":
        return "theatre"
    if name.endswith("(rehab)"):
        return "rehab"
    if name.startswith("discharged"):
        return "out"
    stage = scenario.stages.get(name) if scenario else None
    if stage is not None and stage.kind == "triage":
        return "triage"
    if stage is not None and stage.hospital:
        return "hospital"
    return "community"


def _order(name: str, scenario: Scenario | None) -> tuple:
    """Top-to-bottom order in a column: advice and therapies first, then clinics; a surgical
    clinic last so it sits next to the theatre; other referral sources above the GP."""
    if name == "advice":
        return (0, 0)
    if name == "GP":  # below other sources (self-referral), which mostly go to the services on top
        return (1, 1)
    if name.startswith("discharged"):
        return (0, {"discharged": 0, "discharged (dna)": 1}.get(name, 2))
    stage = scenario.stages.get(name) if scenario else None
    if stage is None:
        return (1, 0)
    names = list(scenario.stages)
    rank = {"triage": 0, "therapy": 1, "clinic": 2}[stage.kind]
    return (rank + (3 if stage.surgical else 0), names.index(name))


def _bezier(p0, p3, t: float) -> tuple[float, float]:
    dx = (p3[0] - p0[0]) / 2
    p1, p2 = (p0[0] + dx, p0[1]), (p3[0] - dx, p3[1])
    s = 1 - t
    x = s**3 * p0[0] + 3 * s * s * t * p1[0] + 3 * s * t * t * p2[0] + t**3 * p3[0]
    y = s**3 * p0[1] + 3 * s * s * t * p1[1] + 3 * s * t * t * p2[1] + t**3 * p3[1]
    return x, y


def _band(ax, x0: float, y0: float, x1: float, y1: float, width: float, colour: str) -> None:
    """A band of constant thickness from (x0, y0 top) to (x1, y1 top), as a filled S-curve."""
    dx = (x1 - x0) / 2
    verts = [
        (x0, y0), (x0 + dx, y0), (x1 - dx, y1), (x1, y1),
        (x1, y1 - width), (x1 - dx, y1 - width), (x0 + dx, y0 - width), (x0, y0 - width), (x0, y0),
    ]  # fmt: skip
    codes = [mpath.Path.MOVETO, *[mpath.Path.CURVE4] * 3, mpath.Path.LINETO, *[mpath.Path.CURVE4] * 3, mpath.Path.CLOSEPOLY]
    ax.add_patch(mpatches.PathPatch(mpath.Path(verts, codes), facecolor=colour, edgecolor="none", alpha=0.45, zorder=1))


class _Labels:
    """Places counts where they overlap neither each other nor a box."""

    def __init__(self, ax, per_x: float, per_y: float, blocked: list[tuple[float, float, float, float]]):
        self.ax, self.per_x, self.per_y = ax, per_x, per_y
        self.taken = list(blocked)

    def size(self, text: str) -> tuple[float, float]:
        return (len(text) * FONT * 0.62 + 4) * self.per_x, (FONT * 1.45 + 2) * self.per_y

    def free(self, x: float, y: float, w: float, h: float) -> bool:
        r = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        return all(r[2] <= a or r[0] >= c or r[3] <= b or r[1] >= d for a, b, c, d in self.taken)

    def place(self, text: str, points: list[tuple[float, float]], colour: str = "#222") -> bool:
        w, h = self.size(text)
        for x, y in points:
            if self.free(x, y, w, h):
                self.taken.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
                self.ax.text(x, y, text, fontsize=FONT, ha="center", va="center", color=colour, zorder=5,
                             bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})  # fmt: skip
                return True
        return False


def _loop(ax, back: Node, gp: Node, width: float, lane_top: float, per_x: float, per_y: float, side: bool) -> None:
    """The bounce-back loop: up from the "back to the GP" box, over the top, and down into the
    GP's top, or (``side``, when another source sits above the GP) round into its left side."""
    lw = width / per_y  # points
    half_x = width / 2 * per_x / per_y  # half the band's width, in x units
    y = lane_top - width / 2
    style = {"color": LOOP, "alpha": 0.45, "linewidth": lw, "solid_joinstyle": "round", "solid_capstyle": "butt", "zorder": 1}
    if side:
        edge = gp.x - BOX_W / 2
        x = edge - SIDE_LANE
        head = min(0.35, SIDE_LANE * 0.5)
        level = gp.top - min(gp.height / 2, 1.0)
        ax.plot([back.x, back.x, x, x, edge - head], [back.top, y, y, level, level], **style)
        tip = [(edge - head, level + 1.7 * width / 2), (edge - head, level - 1.7 * width / 2), (edge, level)]
    else:
        head = min(0.45, (lane_top - width - gp.top) * 0.6)
        ax.plot([back.x, back.x, gp.x, gp.x], [back.top, y, y, gp.top + head], **style)
        tip = [(gp.x - 1.7 * half_x, gp.top + head), (gp.x + 1.7 * half_x, gp.top + head), (gp.x, gp.top)]
    ax.add_patch(mpatches.Polygon(tip, closed=True, color=LOOP, alpha=0.6, linewidth=0, zorder=1))


def flow_diagram(flows: pd.DataFrame, design: str, scenario: Scenario | None = None):
    """Draw one design's flows (columns ``from``, ``to``, ``per_year``).

    Returns
    -------
    (figure, FlowNotes)
        The figure, and what it does not show in numbers, to list beside it.
    """
    f, dropped, loop_total = _read_flows(flows)
    nodes = _nodes(f, loop_total, scenario)
    xs = _column_x(nodes)
    f["forward"] = [_forward(nodes[r.src], nodes[r.dst], xs) for r in f.itertuples()]
    for r in f[f["forward"]].itertuples():
        nodes[r.src].outflow += r.per_year
        nodes[r.dst].inflow += r.per_year
    stacks = _stacks(nodes, scenario)
    k = _size(nodes, stacks, xs)
    _place(nodes, stacks, f)
    fwd, start, end = _ports(f, nodes, k)
    side = bool(loop_total) and "GP" in nodes and any(n.top > nodes["GP"].top for n in stacks.get("source", []))
    fig, ax, per_x, per_y, top = _canvas(nodes, loop_total * k, side)
    for n in nodes.values():
        n.rect = (n.x - BOX_W / 2, n.top - n.height, n.x + BOX_W / 2, n.top)
    labels = _Labels(ax, per_x, per_y, [n.rect for n in nodes.values()])
    least = LABEL_SHARE * float(f.loc[f["src"].isin(SOURCES), "per_year"].sum())
    unlabelled = _draw_bands(ax, fwd, nodes, (start, end), k, labels, least)
    undrawn = [(r.src, r.dst, r.per_year) for r in f[~f["forward"]].itertuples()]
    if loop_total and "GP" in nodes:
        _loop(ax, nodes[BACK], nodes["GP"], loop_total * k, top - 0.25, per_x, per_y, side)
        labels.place(
            f"{loop_total:,.0f} a year go back to the GP, who refers them again (the bounce-back loop)",
            [((nodes[BACK].x + nodes["GP"].x) / 2, top - 0.25 - loop_total * k / 2)],
            "#8b1a1a",
        )
    for n in nodes.values():
        _draw_box(ax, n, loop_total)
    return fig, FlowNotes(unlabelled, undrawn, dropped)


def _read_flows(flows: pd.DataFrame) -> tuple[pd.DataFrame, int, float]:
    """Flows of at least one patient a year, those back to the GP sent to the loop's box; how many
    were too small, and the loop's total."""
    f = flows.rename(columns={"from": "src", "to": "dst"})[["src", "dst", "per_year"]]
    dropped = int((f["per_year"] < 1).sum())
    f = f[f["per_year"] >= 1].copy()
    to_gp = f["dst"] == "GP"
    loop_total = float(f.loc[to_gp, "per_year"].sum())
    f.loc[to_gp, "dst"] = BACK  # the loop closes over the top, drawn apart
    return f, dropped, loop_total


def _nodes(f: pd.DataFrame, loop_total: float, scenario: Scenario | None) -> dict[str, Node]:
    names = list(dict.fromkeys([*f["src"], *f["dst"]]))
    nodes = {n: Node(n, _layer(n, scenario)) for n in names}
    if loop_total and "GP" in nodes:
        nodes["GP"].inflow = loop_total
    return nodes


def _column_x(nodes: dict[str, Node]) -> dict[str, float]:
    """Where each layer's column stands, left to right."""
    used = [layer for layer in LAYERS if any(n.layer == layer for n in nodes.values())]
    xs, x = {}, 0.0
    for i, layer in enumerate(used):
        x += GAP_BEFORE.get(layer, 1.6) if i else 0.0
        xs[layer] = x
    if "back" in xs and "theatre" in xs:
        # the loop box sits at the top of the theatre's column
        xs = {layer: (v if rank_of(layer) < rank_of("theatre") else v - GAP_BEFORE["theatre"]) for layer, v in xs.items()}
        xs["theatre"] = xs["back"]
    return xs


def _forward(a: Node, b: Node, xs: dict[str, float]) -> bool:
    """Whether a flow is drawn: it goes right, or from a community service to a hospital one."""
    return xs[b.layer] > xs[a.layer] or (a.layer == "community" and b.layer == "hospital")


def _stacks(nodes: dict[str, Node], scenario: Scenario | None) -> dict[str, list[Node]]:
    """The boxes of each column, top to bottom; community and hospital services share one."""
    stacks: dict[str, list[Node]] = {}
    for n in sorted(nodes.values(), key=lambda v: _order(v.name, scenario)):
        column = "services" if n.layer in ("community", "hospital") else n.layer
        stacks.setdefault(column, []).append(n)
    return stacks


def _size(nodes: dict[str, Node], stacks: dict[str, list[Node]], xs: dict[str, float]) -> float:
    """Size every box on one scale, the fullest column filling HEIGHT; returns the scale."""
    through = {n: max(v.inflow, v.outflow, 1.0) for n, v in nodes.items()}
    fullest = max(
        sum(through[n.name] for n in col) / max(HEIGHT - NODE_GAP * (len(col) - 1) - MIN_H * len(col), 1.0)
        for col in stacks.values()
    )
    k = 1.0 / fullest
    for n in nodes.values():
        n.x = xs[n.layer]
        n.height = max(through[n.name] * k, MIN_H)
    return k


def _stack(col: list[Node], y: float) -> None:
    """Stack boxes down from ``y``."""
    for n in col:
        n.top = y
        y -= n.height + NODE_GAP


def _span(col: list[Node]) -> float:
    return sum(n.height for n in col) + NODE_GAP * (len(col) - 1)


def _place(nodes: dict[str, Node], stacks: dict[str, list[Node]], f: pd.DataFrame) -> None:
    """Set each box's top: services from the top, small columns centred on what feeds them."""
    for col in stacks.values():
        _stack(col, 0.0)
    services = stacks.get("services", [])
    mid = (services[0].top + services[-1].top - services[-1].height) / 2 if services else 0.0
    bypass = _bypass(stacks, f)
    _stack(bypass, services[0].top if services else 0.0)  # above the triage box, level with the services
    for column in ("source", "triage"):
        col = [n for n in stacks.get(column, []) if n not in bypass]
        _stack(col, mid + _span(col) / 2)
    _place_theatre(nodes, stacks, services, f)
    out = stacks.get("out", [])
    if out:
        shift = mid + _span(out) / 2 - out[0].top
        for n in out:
            n.top += shift
    if BACK in nodes:
        top = max(n.top for n in nodes.values() if n.name != BACK)
        nodes[BACK].top = top + 0.6 + nodes[BACK].height


def _bypass(stacks: dict[str, list[Node]], f: pd.DataFrame) -> list[Node]:
    """Sources that skip triage: they go on top, so their bands pass over the triage box."""
    if "triage" not in stacks:
        return []
    triage = [m.name for m in stacks["triage"]]
    return [n for n in stacks.get("source", []) if not ((f["src"] == n.name) & f["dst"].isin(triage)).any()]


def _place_theatre(nodes: dict[str, Node], stacks: dict[str, list[Node]], services: list[Node], f: pd.DataFrame) -> None:
    """The theatre just below the surgical service that feeds it most; rehab beside it."""
    surgical = [n for n in services if n.layer == "hospital"]
    if "theatre" in nodes and surgical:
        feeder = max(surgical, key=lambda n: f[(f["src"] == n.name) & (f["dst"] == "theatre")]["per_year"].sum())
        nodes["theatre"].top = feeder.top - feeder.height - NODE_GAP
    for n in stacks.get("rehab", []):
        if "theatre" in nodes:
            n.top = nodes["theatre"].top - 0.2


def _ports(f: pd.DataFrame, nodes: dict[str, Node], k: float):
    """Where each band leaves and enters its boxes: in the order of where it goes, to limit crossings.

    Returns the drawn flows and the top of each band at its start and at its end."""
    fwd = f[f["forward"]].copy()
    fwd["dst_y"] = [nodes[d].centre for d in fwd["dst"]]
    fwd["src_y"] = [nodes[s].centre for s in fwd["src"]]
    fwd = fwd.sort_values(["src", "dst_y"], ascending=[True, False])
    start: dict[tuple[str, str], float] = {}
    for r in fwd.itertuples():
        n = nodes[r.src]
        pad = (n.height - n.outflow * k) / 2
        start[(r.src, r.dst)] = n.top - pad - n.out_next
        n.out_next += r.per_year * k
    end: dict[tuple[str, str], float] = {}
    for r in fwd.sort_values(["dst", "src_y"], ascending=[True, False]).itertuples():
        n = nodes[r.dst]
        pad = (n.height - n.inflow * k) / 2 if n.name != "GP" else (n.height - n.outflow * k) / 2
        end[(r.src, r.dst)] = n.top - pad - n.in_next
        n.in_next += r.per_year * k
    return fwd, start, end


def _canvas(nodes: dict[str, Node], loop_width: float, side: bool):
    """A figure just big enough for the boxes and the loop; data units per point across and up."""
    left = min(n.x for n in nodes.values()) - BOX_W / 2 - 0.3 - (SIDE_LANE + loop_width if side else 0.0)
    right = max(n.x for n in nodes.values()) + BOX_W / 2 + 0.3
    top = max(n.top for n in nodes.values()) + (0.9 if loop_width else 0.3)
    bottom = min(n.top - n.height for n in nodes.values()) - 0.3
    fig_w = 11.0
    fig_h = min(max(fig_w * (top - bottom) / (right - left) * 1.1, 4.5), 9.0)
    fig = figure.Figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.axis("off")
    return fig, ax, (right - left) / (fig_w * 72), (top - bottom) / (fig_h * 72), top


def _draw_bands(ax, fwd: pd.DataFrame, nodes: dict[str, Node], ends, k: float, labels: _Labels, least: float) -> list:
    """Draw the bands, widest first, numbering those with room; returns the ones left unnumbered."""
    start, end = ends
    unlabelled: list[tuple[str, str, float]] = []
    for r in fwd.sort_values("per_year", ascending=False).itertuples():
        a, b = nodes[r.src], nodes[r.dst]
        width = r.per_year * k
        y0, y1 = start[(r.src, r.dst)], end[(r.src, r.dst)]
        x0, x1 = a.x + BOX_W / 2, b.x - BOX_W / 2
        _band(ax, x0, y0, x1, y1, width, LOOP if r.dst == BACK else FORWARD)
        centre0, centre1 = (x0, y0 - width / 2), (x1, y1 - width / 2)
        spots = [_bezier(centre0, centre1, t) for t in (0.5, 0.38, 0.62, 0.27, 0.73, 0.18, 0.82)]
        if r.per_year < least or not labels.place(f"{r.per_year:,.0f}", spots, "#8b1a1a" if r.dst == BACK else "#222"):
            unlabelled.append((r.src, r.dst, r.per_year))
    return unlabelled


def _draw_box(ax, n: Node, loop_total: float) -> None:
    """A place's box with its name and, where there is room, its patients a year."""
    colour = LOOP if n.name == BACK else "#444"
    ax.add_patch(mpatches.FancyBboxPatch((n.rect[0], n.rect[1]), BOX_W, n.height, boxstyle="round,pad=0,rounding_size=0.08",
                                fc="white", ec=colour, linewidth=1.0, zorder=3))  # fmt: skip
    name = words(n.name)
    if n.name == "GP":
        new = n.outflow - loop_total
        count = f"{n.outflow:,.0f}\nreferrals" + (f"\n({new:,.0f} new)" if loop_total else "")
    else:
        count = f"{max(n.inflow, n.outflow):,.0f}"
    if len(name) > 13 and " " in name:
        name = name.replace(" ", "\n", 1)
    text = f"{name}\n{count}" if n.height >= 0.55 + 0.22 * name.count("\n") else name
    ax.text(n.x, n.centre, text, ha="center", va="center", fontsize=FONT + 0.5, zorder=4,
            color="#8b1a1a" if n.name == BACK else "#111", linespacing=1.1)  # fmt: skip
