"""Reference-data resources: FX rates from the ECB's published feed, over a shipped offline seed.

The seed (the shipped ECB history, or `csv_path`) answers every day it covers without a network
call, so the demo runs offline. A day outside it is answered from the ECB feed over HTTP:
`<base_url>/eurofxref-hist.zip`, the full daily history since 1999 in the ECB's own format.
`base_url` defaults to FINOPS_ECB_BASE_URL (the ECB's address); "off" keeps the seed only.
"""

import datetime as dt
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import polars as pl
from dagster import ConfigurableResource

from finops_assets.domain.fx import load_ecb_rates
from finops_assets.domain.fx_feed import covers, merge_rates, parse_ecb_feed
from finops_assets.domain.reference import ECB_RATES_FILE, reference_text
from finops_assets.settings import Settings

HISTORY_FILE = "eurofxref-hist.zip"


class FxFeedError(RuntimeError):
    """The ECB feed could not be read; the message names the URL and what happened.

    `transient` is True for a network failure or a server error (worth trying again later),
    False for an answer that will not change by waiting (a 404: the base URL is wrong).
    """

    def __init__(self, message: str, transient: bool):
        super().__init__(message)
        self.transient = transient


class FxRatesResource(ConfigurableResource):
    """ECB daily reference rates: the offline seed, completed from the ECB feed when needed."""

    csv_path: str = ""
    lookback_days: int = 7
    # Empty: FINOPS_ECB_BASE_URL (settings). "off": never fetch, the seed only.
    base_url: str = ""
    # Negative: FINOPS_FX_WAIT_SECONDS / FINOPS_FX_WAIT_RETRIES (settings).
    wait_seconds: int = -1
    wait_retries: int = -1
    timeout_seconds: float = 60.0

    def csv_text(self) -> str:
        """The seed's ECB CSV text (the shipped history, or csv_path)."""
        if self.csv_path:
            return Path(self.csv_path).read_text(encoding="utf-8")
        return reference_text(ECB_RATES_FILE)

    def feed_url(self) -> str | None:
        """The URL of the ECB history file, or None when fetching is off."""
        base = (self.base_url or Settings.from_env().ecb_base_url).rstrip("/")
        return None if base in ("", "off") else f"{base}/{HISTORY_FILE}"

    def wait(self) -> tuple[int, int]:
        """(seconds between tries, tries) for a day whose rate is not published yet."""
        settings = Settings.from_env()
        seconds = self.wait_seconds if self.wait_seconds >= 0 else settings.fx_wait_seconds
        retries = self.wait_retries if self.wait_retries >= 0 else settings.fx_wait_retries
        return seconds, retries

    def history(self, days: list[dt.date]) -> tuple[pl.DataFrame, bool]:
        """(rates for `days`, whether the feed is live).

        The seed alone when it covers the days, else seed + the ECB feed. Live means later days
        can still be published (the feed is on), so a day after the newest one waits; with the
        feed off the seed is all there is and such a day is simply missing.
        """
        seed = load_ecb_rates(self.csv_text())
        url = self.feed_url()
        if url is None:
            return seed, False
        if covers(seed, days):
            return seed, True
        feed = parse_ecb_feed(fetch_bytes(url, self.timeout_seconds), url)
        return merge_rates(seed, feed), True


def fetch_bytes(url: str, timeout: float) -> bytes:
    """GET `url`; FxFeedError naming the URL on any HTTP or network failure."""
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise FxFeedError(f"ECB feed {url}: only http(s) URLs are fetched", transient=False)
    request = urllib.request.Request(url, headers={"User-Agent": "finops-assets"})  # noqa: S310
    try:  # S310: the scheme is checked just above (no file: or custom schemes)
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as error:
        message = f"ECB feed {url}: HTTP {error.code} {error.reason}"
        raise FxFeedError(message, transient=error.code >= 500 or error.code == 429) from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise FxFeedError(f"ECB feed {url}: cannot be reached ({error})", True) from error
