"""Data-quality and freshness SLOs: one query per SLO in SQL that DuckDB (local) and BigQuery
(production) both accept, a figure computed from its row, and a verdict against the spec's
threshold. Pure functions: the tasks run the query on their platform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Late records are accepted up to this many days behind the watermark (contracts/limits.ts), so a
# record received in the window has an event date at most this much before the window's start.
LATENESS_HORIZON_DAYS = 3


@dataclass(frozen=True)
class Window:
    start: datetime
    now: datetime

    @property
    def first_date(self) -> str:
        return (self.start - timedelta(days=LATENESS_HORIZON_DAYS)).date().isoformat()


@dataclass(frozen=True)
class Tables:
    """Table references in the platform's dialect."""

    dialect: str
    project: str = ""
    dataset_prefix: str = ""

    def __call__(self, name: str) -> str:
        if self.dialect == "duckdb":
            return name
        dataset, table = name.split(".")
        return f"`{self.project}.{self.dataset_prefix}{dataset}.{table}`"

    def ts(self, t: datetime) -> str:
        iso = t.isoformat(timespec="seconds")
        return f"TIMESTAMPTZ '{iso}'" if self.dialect == "duckdb" else f"TIMESTAMP '{iso}'"


@dataclass(frozen=True)
class Measure:
    figure: float
    detail: str


@dataclass(frozen=True)
class Slo:
    name: str
    threshold_key: str
    unit: str
    sql: Callable[[Tables, Window], str]
    measure: Callable[[dict[str, Any], Window], Measure]


def _seconds_since(t: Any, now: datetime) -> float:
    when = t if isinstance(t, datetime) else datetime.fromisoformat(str(t).replace("Z", "+00:00").replace(" ", "T", 1))
    return max(0.0, (now - when).total_seconds())


def _rate(part: Any, whole: Any) -> float:
    p, w = int(part or 0), int(whole or 0)
    return p / w if w else 0.0


def _raw_lag(r: dict[str, Any], w: Window) -> Measure:
    if r.get("newest") is None:
        return Measure(float("inf"), f"raw.events received nothing since {w.first_date}")
    return Measure(_seconds_since(r["newest"], w.now), f"newest event received at {r['newest']}")


def _marts_lag(r: dict[str, Any], w: Window) -> Measure:
    loaded, built = r.get("newest_load"), r.get("built_through")
    if loaded is None:
        return Measure(0.0, "nothing loaded yet")
    if built is None:
        return Measure(float("inf"), f"data loaded (newest at {loaded}) but no successful models run yet")
    lag = max(0.0, _seconds_since(built, w.now) - _seconds_since(loaded, w.now))
    return Measure(lag, f"newest load {loaded}, marts built through {built}")


def _window_detail(part: str, whole: str) -> Callable[[dict[str, Any], Window], Measure]:
    def measure(r: dict[str, Any], w: Window) -> Measure:
        n, total = int(r.get(part) or 0), int(r.get(whole) or 0)
        return Measure(_rate(n, total), f"{n} of {total} records received since {w.start.isoformat(timespec='seconds')}")

    return measure


def _dead_letter(r: dict[str, Any], w: Window) -> Measure:
    dead, loaded = int(r.get("dead") or 0), int(r.get("loaded") or 0)
    return Measure(_rate(dead, dead + loaded), f"{dead} dead letters, {loaded} records loaded since {w.start.isoformat(timespec='seconds')}")


SLOS: tuple[Slo, ...] = (
    Slo(
        "raw_lag",
        "rawLagSeconds",
        "s",
        lambda t, w: f"SELECT MAX(received_at) AS newest FROM {t('raw.events')} WHERE event_date >= DATE '{w.first_date}'",
        _raw_lag,
    ),
    Slo(
        "marts_lag",
        "martsLagSeconds",
        "s",
        lambda t, w: (
            f"SELECT (SELECT MAX(last_loaded_at) FROM {t('ops.partitions_touched')}"
            " WHERE table_name IN ('raw.events', 'raw.webhooks', 'raw.cdc_changes')) AS newest_load,"
            f" (SELECT MAX(loaded_through) FROM {t('ops.model_runs')} WHERE status = 'success') AS built_through"
        ),
        _marts_lag,
    ),
    Slo(
        "dead_letter_rate",
        "deadLetterRate",
        "",
        lambda t, w: (
            f"SELECT (SELECT COUNT(*) FROM {t('ops.dead_letters')} WHERE failed_at >= {t.ts(w.start)}) AS dead,"
            f" (SELECT COUNT(*) FROM {t('raw.events')} WHERE event_date >= DATE '{w.first_date}' AND received_at >= {t.ts(w.start)})"
            f" + (SELECT COUNT(*) FROM {t('raw.webhooks')} WHERE received_at >= {t.ts(w.start)})"
            f" + (SELECT COUNT(*) FROM {t('raw.cdc_changes')} WHERE received_at >= {t.ts(w.start)}) AS loaded"
        ),
        _dead_letter,
    ),
    Slo(
        "duplicate_rate",
        "duplicateRate",
        "",
        lambda t, w: (
            f"SELECT COUNT(*) - COUNT(DISTINCT event_id) AS duplicates, COUNT(*) AS total FROM {t('raw.events')}"
            f" WHERE event_date >= DATE '{w.first_date}' AND received_at >= {t.ts(w.start)}"
        ),
        _window_detail("duplicates", "total"),
    ),
    Slo(
        "late_rate",
        "lateRate",
        "",
        lambda t, w: (
            f"SELECT COUNT(CASE WHEN is_late THEN 1 END) AS late, COUNT(*) AS total FROM {t('raw.events')}"
            f" WHERE event_date >= DATE '{w.first_date}' AND received_at >= {t.ts(w.start)}"
        ),
        _window_detail("late", "total"),
    ),
)


def fmt(value: float, unit: str) -> str:
    if value == float("inf"):
        return "unbounded"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:.4g}"


def verdict(slo: Slo, m: Measure, threshold: float) -> tuple[bool, str]:
    """(passed, message): the message names the SLO, the figure and the threshold."""
    ok = m.figure <= threshold
    word = "within" if ok else "breaches"
    return (
        ok,
        f"SLO {slo.name}: {fmt(m.figure, slo.unit)} {word} the threshold {fmt(threshold, slo.unit)} ({slo.threshold_key} in dags/schedule.json); {m.detail}",
    )
