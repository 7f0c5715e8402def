"""Who sells, hosts and invoices a FOCUS row: provider slugs and the 1.3/1.4 entity columns.

FOCUS 1.3 replaced ProviderName and PublisherName by ServiceProviderName and HostProviderName
(1.4 removed the old two). Our model is FOCUS 1.2, so a 1.3/1.4 row's ProviderName is derived
here from the new columns and the invoice issuer.
"""

import polars as pl

_PROVIDER_SLUGS = {
    "aws": "aws",
    "amazon web services": "aws",
    "microsoft": "azure",
    "microsoft azure": "azure",
    "azure": "azure",
    "google cloud": "gcp",
    "google cloud platform": "gcp",
    "google": "gcp",
    "gcp": "gcp",
    "oracle": "oci",
    "oracle cloud infrastructure": "oci",
    "oci": "oci",
}
# A provider's legal entity names ('Amazon Web Services Canada, Inc.') -> the provider's name.
_LEGAL_ENTITY = r"^(amazon web services|microsoft|google|oracle)\b.*$"


def provider_slug_expr(name: pl.Expr) -> pl.Expr:
    """ProviderName text -> aws | azure | gcp | oci, else a lowercase slug of the name.

    A provider's legal entities count as the provider ('Amazon Web Services EMEA SARL': aws).
    """
    key = name.str.strip_chars().str.to_lowercase().str.replace(r",? inc\.?$", "")
    key = key.str.replace(_LEGAL_ENTITY, "$1")
    slug = key.str.replace_all(r"[^a-z0-9]+", "-").str.strip_chars("-")
    return key.replace_strict(_PROVIDER_SLUGS, default=slug, return_dtype=pl.Utf8)


def provider_from_entities_expr() -> pl.Expr:
    """FOCUS 1.2 ProviderName of a 1.3/1.4 row that has no ProviderName column.

    The FOCUS migration guide (1.2 -> 1.3) maps ProviderName to ServiceProviderName for a direct
    purchase, and to the cloud for a Marketplace one, where the seller is the service provider
    and the cloud issues the invoice (and hosts the service, or the seller does). So: when the
    invoice issuer is another party than the service provider, the provider is the host if the
    host is that issuer, else the issuer; otherwise the service provider. Parties compare by
    provider_slug_expr ('Amazon Web Services Canada, Inc.' is AWS).
    """
    seller, host = pl.col("ServiceProviderName"), pl.col("HostProviderName")
    issuer = pl.col("InvoiceIssuerName")
    third_party = provider_slug_expr(issuer) != provider_slug_expr(seller)
    host_issues = provider_slug_expr(host) == provider_slug_expr(issuer)
    marketplace = pl.when(host_issues.fill_null(False)).then(host).otherwise(issuer)
    return pl.when(third_party.fill_null(False)).then(marketplace).otherwise(seller)


def service_provider_expr() -> pl.Expr:
    """FOCUS 1.3 ServiceProviderName of a row that states none (a 1.0-1.2 export, a provider).

    By the FOCUS 1.2 -> 1.3 migration guide: the provider sells its own services; on a
    Marketplace row the publisher (a party other than the provider, e.g. 'Red Hat, Inc.' on a
    CUR row) is the service provider. Parties compare by provider_slug_expr.
    """
    provider, publisher = pl.col("ProviderName"), pl.col("PublisherName")
    third_party = provider_slug_expr(publisher) != provider_slug_expr(provider)
    derived = pl.when(third_party.fill_null(False)).then(publisher).otherwise(provider)
    return pl.coalesce(pl.col("ServiceProviderName"), derived).alias("ServiceProviderName")


def host_provider_expr() -> pl.Expr:
    """FOCUS 1.3 HostProviderName of a row that states none: the provider whose cloud runs it."""
    return pl.coalesce("HostProviderName", "ProviderName").alias("HostProviderName")
