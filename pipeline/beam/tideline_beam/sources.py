"""Sources: the pipeline's Pub/Sub subscriptions (streaming), the raw archive (batch, a date range)
and landing uploads. Each hands the graph `Inbound` messages with their arrival; the graph itself
(transforms.build_graph) knows nothing of where they came from."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.io import fileio

from . import contracts
from .parse import Message
from .transforms import Inbound


@cache
def resources() -> dict[str, Any]:
    """infra/resources.json: the topics, subscriptions and buckets (one list for Terraform, the local
    launcher and this pipeline); TIDELINE_RESOURCES names another copy."""
    path = os.environ.get("TIDELINE_RESOURCES") or Path(__file__).resolve().parents[3] / "infra" / "resources.json"
    return dict(json.loads(Path(path).read_text(encoding="utf-8")))


def subscriptions(project: str, streams: Sequence[str]) -> dict[str, str]:
    """stream → projects/<project>/subscriptions/<name> of the pipeline's subscription to its topic."""
    by_topic = {s["topic"]: s["name"] for s in resources()["subscriptions"] if s["name"].startswith("pipeline-")}
    return {s: f"projects/{project}/subscriptions/{by_topic[s]}" for s in streams}


def bucket(kind: str, project: str) -> str:
    return str(resources()["buckets"][kind]).replace("{project}", project)


def dates_between(first: str, last: str) -> list[str]:
    try:
        a, b = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as e:
        raise ValueError(f"--from_date {first} / --to_date {last}: use YYYY-MM-DD (UTC) ({e})") from e
    if a > b:
        raise ValueError(f"--from_date {first} is after --to_date {last}")
    return [(a + timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


class _PubSubToInbound(beam.DoFn):
    def __init__(self, stream: str) -> None:
        self.stream = stream

    def process(self, m: Any) -> Iterator[Inbound]:
        attrs = tuple(sorted((m.attributes or {}).items()))
        data = m.data.decode("utf-8", errors="replace") if isinstance(m.data, bytes) else str(m.data)
        yield Inbound(Message(self.stream, data, attrs, getattr(m, "message_id", None)), scope=self.stream)


class ReadSubscriptions(beam.PTransform):
    """Every stream's subscription, timestamped by the `event_ts` attribute the edge sets (records of
    the dead-letters topic by publish time); ReadFromPubSub honours PUBSUB_EMULATOR_HOST."""

    def __init__(self, project: str, streams: Sequence[str]) -> None:
        super().__init__()
        self.subs = subscriptions(project, streams)

    def expand(self, p: beam.pvalue.PBegin) -> beam.PCollection[Inbound]:
        from apache_beam.io.gcp.pubsub import ReadFromPubSub

        parts = [
            p
            | f"Read-{stream}"
            >> ReadFromPubSub(subscription=sub, with_attributes=True, timestamp_attribute="event_ts" if stream in contracts.STREAMS else None)
            | f"Inbound-{stream}" >> beam.ParDo(_PubSubToInbound(stream))
            for stream, sub in self.subs.items()
        ]
        return parts | "Streams" >> beam.Flatten()


def _lines(text: bytes) -> Iterator[tuple[int, str]]:
    for n, raw in enumerate(io.BytesIO(text), start=1):
        line = raw.decode("utf-8", errors="replace").strip()
        if line:
            yield n, line


class _ObjectToInbound(beam.DoFn):
    """One archive object or upload → its lines. An archive object is one edge batch: its records
    share the stream's watermark and arrive in the order of the objects' names; an upload is judged on
    a watermark of its own."""

    def __init__(self, own_watermark: bool) -> None:
        self.own_watermark = own_watermark

    def process(self, f: fileio.ReadableFile) -> Iterator[Inbound]:
        path = f.metadata.path
        stream, name = _object_of(path)
        scope = f"{stream}@{name}" if self.own_watermark else stream
        for n, line in _lines(f.read()):
            yield Inbound(Message(stream, line, (), f"{name}#{n}"), scope=scope, order=name, seq=n, own_watermark=self.own_watermark)


def _object_of(path: str) -> tuple[str, str]:
    """(stream, object name) of …/raw/<stream>/… or …/landing/<stream>/…: the name as the bucket
    knows it, so a dead letter names the object whatever the archive's root. An unknown stream is
    passed on and becomes dead letters."""
    parts = path.replace("\\", "/").split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] in ("raw", "landing") and i + 1 < len(parts) - 1:
            return parts[i + 1], "/".join(parts[i:])
    return "unknown", path


class ReadArchive(beam.PTransform):
    """raw/<stream>/dt=<date>/hour=<HH>/*.ndjson.gz under `root` for each date and stream."""

    def __init__(self, root: str, dates: Sequence[str], streams: Sequence[str]) -> None:
        super().__init__()
        self.patterns = [f"{root.rstrip('/')}/raw/{s}/dt={d}/hour=*/*.ndjson*" for d in dates for s in streams if s in contracts.STREAMS]

    def expand(self, p: beam.pvalue.PBegin) -> beam.PCollection[Inbound]:
        return (
            p
            | "Patterns" >> beam.Create(self.patterns)
            | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
            | "Open" >> fileio.ReadMatches()
            | "Lines" >> beam.ParDo(_ObjectToInbound(own_watermark=False))
        )


class ReadUploads(beam.PTransform):
    """Landing uploads matching `pattern` (plain or gzip NDJSON), each judged on its own watermark."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = pattern

    def expand(self, p: beam.pvalue.PBegin) -> beam.PCollection[Inbound]:
        return p | "Match" >> fileio.MatchFiles(self.pattern) | "Open" >> fileio.ReadMatches() | "Lines" >> beam.ParDo(_ObjectToInbound(own_watermark=True))
