"""Billing-period deliveries read from a bucket in the provider's native layout.

S3, GCS and Azure Blob each give a BucketReader (list the location, read one object at the
version listed); domain.delivery_layouts decides which objects are a period's current delivery
and domain.deliveries checks it against its manifest. A delivery's files become payloads that
span days: archived once under the period's first day, each day keeps its own rows.
"""

import datetime as dt
from abc import ABC, abstractmethod

from finops_assets.domain.cursors import ContentHashes, content_digest
from finops_assets.domain.deliveries import Manifest, check_against_manifest, read_manifest
from finops_assets.domain.delivery_layouts import (
    Listed,
    PeriodListing,
    current_manifest,
    delivery_files,
    group_periods,
)
from finops_assets.resources.payloads import Payload, bucket_file_name


class BucketReader(ABC):
    """One watched bucket location: its objects (keys relative to it) and their bytes."""

    uri: str  # `s3://bucket/prefix`, named in every message

    def __init__(self) -> None:
        self._read: dict[tuple[str, str], bytes] = {}
        # A sensor's bounded (object, content tag) -> content digest map: objects it knows are
        # not downloaded to learn their digest (domain.cursors.ContentHashes).
        self.hashes: ContentHashes | None = None

    @abstractmethod
    def list(self) -> list[Listed]:
        """Every object under the location, keys relative to it."""

    @abstractmethod
    def fetch(self, obj: Listed) -> bytes:
        """The object's bytes at the version listed (a rewritten object fails, naming it)."""

    def read(self, obj: Listed) -> bytes:
        """`fetch`, once per object version for the life of this reader."""
        key = (obj.key, obj.version)
        if key not in self._read:
            self._read[key] = self.fetch(obj)
        return self._read[key]

    def digest(self, obj: Listed) -> str:
        """The content digest of the object, from `hashes` when it knows the object's version."""
        if self.hashes is None:
            return content_digest(self.read(obj))
        return self.hashes.digest(self.name(obj), obj.version, lambda: self.read(obj))

    def name(self, obj: Listed) -> str:
        """The object's full URI."""
        return f"{self.uri.rstrip('/')}/{obj.key}"


def periods_holding(
    reader: BucketReader, layout: str, source: str, day: dt.date
) -> list[PeriodListing]:
    """The billing periods of the location whose days include `day` (of `source`, in the
    multi-source `months` layout)."""
    return [
        period
        for period in group_periods(layout, reader.list())
        if period.span[0] <= day <= period.span[1] and period.source in (None, source)
    ]


def delivery_objects(
    reader: BucketReader, layout: str, period: PeriodListing
) -> tuple[Manifest | None, list[Listed]]:
    """The period's current delivery: its manifest (if any, read) and its data files as listed.

    A file name outside the landing pattern, or a key that could escape its folder, is refused
    with LandingError naming it.
    """
    manifest_obj = current_manifest(layout, period)
    manifest = None
    if manifest_obj is not None:
        manifest = read_manifest(reader.read(manifest_obj), reader.name(manifest_obj))
    files = []
    for obj in delivery_files(layout, period, manifest):
        folder = obj.key.rsplit("/", 1)[0] + "/"
        if bucket_file_name(f"{reader.uri}/{obj.key}", f"{reader.uri}/{folder}") is not None:
            files.append(obj)
    return manifest, files


def read_delivery(
    reader: BucketReader, layout: str, period: PeriodListing
) -> tuple[Manifest | None, list[tuple[Listed, bytes]]]:
    """The period's current delivery: its manifest (if any) and its data files with their bytes."""
    manifest, files = delivery_objects(reader, layout, period)
    return manifest, [(obj, reader.read(obj)) for obj in files]


def period_payloads(reader: BucketReader, layout: str, source: str, day: dt.date) -> list[Payload]:
    """Every file of the current deliveries holding `day`, checked against their manifests.

    Each payload spans days (the pipeline keeps `day`'s rows) and is named
    `<source>/<period label>/<file>`; a manifest vouches for the sizes and rows it lists.
    """
    payloads = []
    for period in periods_holding(reader, layout, source, day):
        manifest, files = read_delivery(reader, layout, period)
        if manifest is not None:
            check_against_manifest(manifest, {obj.name: data for obj, data in files})
        payloads += [
            Payload(
                f"{source}/{period.label}/{obj.name}",
                data,
                obj.modified.astimezone(dt.UTC).replace(microsecond=0),
                spans_days=True,
                period=period.span,
                vouched=manifest is not None,
                dataset=manifest.dataset if manifest is not None else None,
            )
            for obj, data in files
        ]
    return payloads
