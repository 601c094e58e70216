//! A stacked bar chart per day, drawn as SVG on the server: it shows without JavaScript and
//! prints. A small component of our own rather than a charting crate: the charts here are bars
//! per day and nothing else, and an SVG written by the view is styled by the page's CSS
//! (light and dark), hydrates like any other view, and adds nothing to the bundle but this
//! file. It is an image with a title and a description for screen readers; the same figures
//! are in a table below it. Hovering a day (once hydrated) shows that day's figures.

use chrono::NaiveDate;
use leptos::prelude::*;

/// One stacked layer: a name and a figure per day.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub label: String,
    pub values: Vec<f64>,
}

/// How a chart's figures read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Dollars,
    Count,
}

impl Unit {
    /// A figure in full, as the readout and the table show it.
    pub fn full(self, v: f64) -> String {
        match self {
            Unit::Dollars => format!("${}", grouped_decimal(v, 2)),
            Unit::Count => domain::numbers::grouped(v.round().max(0.0) as u64),
        }
    }

    /// A figure on the axis, short.
    fn short(self, v: f64) -> String {
        let (n, suffix) = if v >= 1_000_000.0 {
            (v / 1_000_000.0, "M")
        } else if v >= 1_000.0 {
            (v / 1_000.0, "k")
        } else {
            (v, "")
        };
        let digits = if n == n.trunc() || n >= 10.0 {
            format!("{n:.0}")
        } else if n >= 1.0 || suffix.is_empty() && self == Unit::Count {
            format!("{n:.1}")
        } else {
            format!("{n:.2}")
        };
        match self {
            Unit::Dollars => format!("${digits}{suffix}"),
            Unit::Count => format!("{digits}{suffix}"),
        }
    }
}

fn grouped_decimal(v: f64, places: usize) -> String {
    let text = format!("{:.*}", places, v.max(0.0));
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let whole = domain::numbers::grouped(whole.parse().unwrap_or(0));
    if frac.is_empty() {
        whole
    } else {
        format!("{whole}.{frac}")
    }
}

/// The drawing's width when none is given, in its own units (the page scales it to fit).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;
/// Grid lines above zero.
const TICKS: usize = 4;
/// Room for one day label along the bottom, in the drawing's units.
const DAY_LABEL_ROOM: f64 = 100.0;

/// The smallest "round" number (1, 2 or 5 × 10ⁿ) × [`TICKS`] at or above `max`.
fn axis_top(max: f64) -> f64 {
    if max <= 0.0 {
        return TICKS as f64;
    }
    let raw = max / TICKS as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    step * TICKS as f64
}

/// A stacked bar chart of `layers` over `days`. `id` names its title and description for
/// assistive technology; `colours` says which CSS series classes the layers take, in order.
#[component]
pub fn BarChart(
    id: &'static str,
    title: &'static str,
    description: String,
    days: Vec<NaiveDate>,
    layers: Vec<Layer>,
    unit: Unit,
    /// The CSS class of each layer (`series-0`…); layers beyond it reuse the last.
    colours: Vec<&'static str>,
    /// The drawing's width: about the width it is shown at, so its text reads at its size.
    #[prop(default = WIDTH)]
    width: f64,
) -> impl IntoView {
    let n = days.len().max(1);
    let totals: Vec<f64> = (0..days.len())
        .map(|i| {
            layers
                .iter()
                .map(|l| l.values.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let top = axis_top(totals.iter().copied().fold(0.0, f64::max));
    let plot_w = width - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let band = plot_w / n as f64;
    let bar = (band * 0.72).max(1.0);
    let y = move |v: f64| TOP + plot_h - (v / top) * plot_h;
    let colour = {
        let colours = colours.clone();
        move |j: usize| {
            colours
                .get(j)
                .or(colours.last())
                .copied()
                .unwrap_or("series-0")
        }
    };
    let hovered = RwSignal::new(None::<usize>);
    let empty = totals.iter().all(|t| *t <= 0.0);

    let grid = (0..=TICKS)
        .map(|t| {
            let v = top * t as f64 / TICKS as f64;
            let gy = format!("{:.1}", y(v));
            view! {
                <line class="chart-grid" x1=LEFT x2=width - RIGHT y1=gy.clone() y2=gy.clone() />
                <text
                    class="chart-axis"
                    x=LEFT - 6.0
                    y=gy
                    text-anchor="end"
                    dominant-baseline="middle"
                >
                    {unit.short(v)}
                </text>
            }
        })
        .collect_view();
    let labels = ((width - LEFT) / DAY_LABEL_ROOM).floor().max(2.0) as usize;
    let every = days.len().div_ceil(labels).max(1);
    let day_labels = days
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, d)| {
            let x = format!("{:.1}", LEFT + band * (i as f64 + 0.5));
            view! {
                <text class="chart-axis" x=x y=HEIGHT - 6.0 text-anchor="middle">
                    {d.format("%-d %b").to_string()}
                </text>
            }
        })
        .collect_view();
    let bars = (0..days.len())
        .map(|i| {
            let x = LEFT + band * i as f64 + (band - bar) / 2.0;
            let mut base = 0.0;
            let rects = layers
                .iter()
                .enumerate()
                .filter_map(|(j, l)| {
                    let v = l.values.get(i).copied().unwrap_or(0.0);
                    if v <= 0.0 {
                        return None;
                    }
                    let (y0, y1) = (y(base), y(base + v));
                    base += v;
                    Some(view! {
                        <rect
                            class=colour(j)
                            x=format!("{x:.1}")
                            y=format!("{y1:.1}")
                            width=format!("{bar:.1}")
                            height=format!("{:.1}", (y0 - y1).max(0.5))
                        />
                    })
                })
                .collect_view();
            let hit_x = format!("{:.1}", LEFT + band * i as f64);
            view! {
                <g class="chart-day" class:chart-day-hovered=move || hovered.get() == Some(i)>
                    {rects}
                    <rect
                        class="chart-hit"
                        x=hit_x
                        y=TOP
                        width=format!("{band:.1}")
                        height=plot_h
                        on:mouseenter=move |_| hovered.set(Some(i))
                    />
                </g>
            }
        })
        .collect_view();

    let readout = {
        let (days, layers, totals) = (days.clone(), layers.clone(), totals.clone());
        move || match hovered.get() {
            Some(i) => {
                let parts: Vec<String> = layers
                    .iter()
                    .filter_map(|l| {
                        let v = l.values.get(i).copied().unwrap_or(0.0);
                        (v > 0.0).then(|| format!("{} {}", l.label, unit.full(v)))
                    })
                    .collect();
                let detail = if parts.len() > 1 {
                    format!(" — {}", parts.join(", "))
                } else {
                    String::new()
                };
                format!(
                    "{}: {}{detail}",
                    days.get(i)
                        .map(|d| d.format("%a %-d %b").to_string())
                        .unwrap_or_default(),
                    unit.full(totals.get(i).copied().unwrap_or(0.0)),
                )
            }
            None => "Point at a day for its figures.".to_owned(),
        }
    };
    let legend = (layers.len() > 1).then(|| {
        layers
            .iter()
            .enumerate()
            .map(|(j, l)| {
                view! {
                    <li>
                        <span
                            class=format!("legend-swatch {}", colour(j))
                            aria-hidden="true"
                        ></span>
                        {l.label.clone()}
                    </li>
                }
            })
            .collect_view()
    });
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    view! {
        <figure class="chart">
            <figcaption id=title_id.clone() class="chart-title">
                {title}
            </figcaption>
            <p id=desc_id.clone() class="chart-desc">
                {description}
            </p>
            {legend.map(|items| view! { <ul class="chart-legend">{items}</ul> })}
            <p class="chart-readout" aria-hidden="true">
                {readout}
            </p>
            <div class="chart-scroll">
                <svg
                    class="chart-svg"
                    viewBox=format!("0 0 {width} {HEIGHT}")
                    role="img"
                    aria-labelledby=title_id
                    aria-describedby=desc_id
                    on:mouseleave=move |_| hovered.set(None)
                >
                    {grid}
                    {bars}
                    {day_labels}
                </svg>
            </div>
            {empty.then(|| view! { <p class="chart-empty">"Nothing in this range."</p> })}
            <FiguresTable days layers totals unit title />
        </figure>
    }
}

/// The chart's figures as a table, folded away under it.
#[component]
fn FiguresTable(
    days: Vec<NaiveDate>,
    layers: Vec<Layer>,
    totals: Vec<f64>,
    unit: Unit,
    title: &'static str,
) -> impl IntoView {
    let stacked = layers.len() > 1;
    view! {
        <details class="chart-figures">
            <summary>{format!("{title}: the figures")}</summary>
            <div class="table-scroll">
                <table class="mini-table">
                    <thead>
                        <tr>
                            <th scope="col">"Day"</th>
                            {stacked
                                .then(|| {
                                    layers
                                        .iter()
                                        .map(|l| view! { <th scope="col">{l.label.clone()}</th> })
                                        .collect_view()
                                })}
                            <th scope="col">"Total"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {days
                            .iter()
                            .enumerate()
                            .map(|(i, d)| {
                                view! {
                                    <tr>
                                        <th scope="row">{d.format("%Y-%m-%d").to_string()}</th>
                                        {stacked
                                            .then(|| {
                                                layers
                                                    .iter()
                                                    .map(|l| {
                                                        view! {
                                                            <td class="num">
                                                                {unit.full(l.values.get(i).copied().unwrap_or(0.0))}
                                                            </td>
                                                        }
                                                    })
                                                    .collect_view()
                                            })}
                                        <td class="num">
                                            {unit.full(totals.get(i).copied().unwrap_or(0.0))}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::{Unit, axis_top};

    #[test]
    fn the_axis_ends_on_a_round_figure_above_the_largest_day() {
        assert_eq!(axis_top(0.0), 4.0);
        assert_eq!(axis_top(3.3), 4.0);
        assert_eq!(axis_top(9.0), 10.0);
        assert_eq!(axis_top(101.0), 200.0);
        assert_eq!(axis_top(0.042), 0.08);
    }

    #[test]
    fn figures_read_short_on_the_axis_and_whole_in_the_readout() {
        assert_eq!(Unit::Dollars.short(2_500.0), "$2.5k");
        assert_eq!(Unit::Dollars.short(0.25), "$0.25");
        assert_eq!(Unit::Dollars.short(50.0), "$50");
        assert_eq!(Unit::Count.short(1_200_000.0), "1.2M");
        assert_eq!(Unit::Dollars.full(1234.5), "$1,234.50");
        assert_eq!(Unit::Count.full(12345.0), "12,345");
    }
}
