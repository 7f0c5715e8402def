"""Who owns what in the sample estate: business units, accounts, projects, subscriptions, clusters.

Shared by the generator (which writes billing files for it) and the shipped allocation rules
(which map it to business units). Everything here is fictional.
"""

from dataclasses import dataclass, field

BUSINESS_UNITS = ("payments", "search", "data-platform", "marketing-web", "ml-research")
UNALLOCATED = "unallocated"

# Tag keys as engineers really write them: the normalizer maps all of these to `cost_center`.
COST_CENTER_TAG_SPELLINGS = ("CostCenter", "costcenter", "cost-center", "cost_center")


@dataclass(frozen=True)
class Account:
    """An AWS account, GCP project, Azure subscription or OCI compartment."""

    provider: str
    account_id: str
    name: str
    business_unit: str | None  # None: shared, its cost is distributed by proportional rules
    billing_account_id: str
    billing_account_name: str
    currency: str
    source: str  # which raw source bills it
    regions: tuple[str, ...] = field(default=())


ACCOUNTS: tuple[Account, ...] = (
    # AWS organization billed through CUR 2.0 (USD)
    Account(
        "aws",
        "210987654321",
        "payments-prod",
        "payments",
        "123456789012",
        "acme-org",
        "USD",
        "aws_cur",
        ("us-east-1", "eu-west-1"),
    ),
    Account(
        "aws",
        "210987654322",
        "search-prod",
        "search",
        "123456789012",
        "acme-org",
        "USD",
        "aws_cur",
        ("us-east-1",),
    ),
    Account(
        "aws",
        "210987654323",
        "data-platform-prod",
        "data-platform",
        "123456789012",
        "acme-org",
        "USD",
        "aws_cur",
        ("us-west-2",),
    ),
    Account(
        "aws",
        "210987654324",
        "shared-networking",
        None,
        "123456789012",
        "acme-org",
        "USD",
        "aws_cur",
        ("us-east-1",),
    ),
    Account(
        "aws",
        "210987654325",
        "sandbox",
        None,
        "123456789012",
        "acme-org",
        "USD",
        "aws_cur",
        ("us-east-1",),
    ),
    # A second AWS organization with no CUR: ingested through the Cost Explorer API (USD)
    Account(
        "aws",
        "310987654321",
        "eu-marketing",
        "marketing-web",
        "333344445555",
        "acme-eu",
        "USD",
        "aws_cost_explorer",
        ("eu-central-1",),
    ),
    Account(
        "aws",
        "310987654322",
        "eu-analytics",
        "data-platform",
        "333344445555",
        "acme-eu",
        "USD",
        "aws_cost_explorer",
        ("eu-central-1",),
    ),
    # GCP billing account in EUR
    Account(
        "gcp",
        "ml-research-prod",
        "ML Research Prod",
        "ml-research",
        "01A2B3-C4D5E6-F7A8B9",
        "Acme GmbH",
        "EUR",
        "gcp_billing_export",
        ("europe-west4",),
    ),
    Account(
        "gcp",
        "data-lake-prod",
        "Data Lake Prod",
        "data-platform",
        "01A2B3-C4D5E6-F7A8B9",
        "Acme GmbH",
        "EUR",
        "gcp_billing_export",
        ("europe-west1",),
    ),
    Account(
        "gcp",
        "shared-gke-prod",
        "Shared GKE Prod",
        None,
        "01A2B3-C4D5E6-F7A8B9",
        "Acme GmbH",
        "EUR",
        "gcp_billing_export",
        ("europe-west1",),
    ),
    # Azure enterprise agreement billed in JPY (no minor unit)
    Account(
        "azure",
        "5f1c0b1e-7a52-4c3e-9d7a-0b8e2f1a6c01",
        "marketing-web-prod",
        "marketing-web",
        "8611537",
        "Acme KK",
        "JPY",
        "azure_cost",
        ("japaneast",),
    ),
    Account(
        "azure",
        "5f1c0b1e-7a52-4c3e-9d7a-0b8e2f1a6c02",
        "shared-services",
        None,
        "8611537",
        "Acme KK",
        "JPY",
        "azure_cost",
        ("japaneast",),
    ),
    # Oracle Cloud, delivered as a FOCUS 1.2 export (USD)
    Account(
        "oci",
        "ocid1.compartment.oc1..search",
        "search-oci",
        "search",
        "ocid1.tenancy.oc1..acme",
        "acme-oci",
        "USD",
        "focus_export",
        ("us-ashburn-1",),
    ),
)

# The shared Kubernetes cluster in shared-gke-prod: namespace -> business unit.
K8S_CLUSTER = "gke-shared-prod"
K8S_NAMESPACES = {
    "payments-api": "payments",
    "search-indexer": "search",
    "ml-training": "ml-research",
    "etl-jobs": "data-platform",
    "kube-system": None,  # platform overhead: distributed with the idle share
}

# Shared infrastructure whose cost is distributed proportionally.
SHARED_RESOURCE_KINDS = ("nat-gateway", "load-balancer", "shared-database", "support", "k8s-node")


def account(account_id: str) -> Account:
    """The estate account with this id."""
    for candidate in ACCOUNTS:
        if candidate.account_id == account_id:
            return candidate
    raise KeyError(account_id)


def accounts_for_source(source: str) -> tuple[Account, ...]:
    return tuple(a for a in ACCOUNTS if a.source == source)


def cost_explorer_payer() -> str:
    """The payer account of the estate's Cost Explorer organisation (its one billing account).

    Cost Explorer does not name it: the demo and `make focus-check` set it as
    FINOPS_AWS_PAYER_ACCOUNT_ID, as a deployment does.
    """
    (payer,) = {a.billing_account_id for a in accounts_for_source("aws_cost_explorer")}
    return payer
