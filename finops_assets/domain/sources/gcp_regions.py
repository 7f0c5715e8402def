"""GCP region id -> region name, as Google's FOCUS BigQuery view of the billing export names them.

Source: the view's `region_names` table (Google's FOCUS view template, last updated 2024-03-19;
kept in FairwindsOps/insights-plugins @ 9a35fb8, plugins/cloud-costs/gcp-FOCUS-query.sql).
A region missing here keeps its id as its name.
"""

REGION_NAMES: dict[str, str] = {
    "africa-south1": "Johannesburg",
    "asia-east1": "Taiwan",
    "asia-east2": "Hong Kong",
    "asia-northeast1": "Tokyo",
    "asia-northeast2": "Osaka",
    "asia-northeast3": "Seoul",
    "asia-southeast1": "Singapore",
    "australia-southeast1": "Sydney",
    "australia-southeast2": "Melbourne",
    "europe-central2": "Warsaw",
    "europe-north1": "Finland",
    "europe-southwest1": "Madrid",
    "europe-west1": "Belgium",
    "europe-west2": "London",
    "europe-west3": "Frankfurt",
    "europe-west4": "Netherlands",
    "europe-west6": "Zurich",
    "europe-west8": "Milan",
    "europe-west9": "Paris",
    "europe-west10": "Berlin",
    "europe-west12": "Turin",
    "asia-south1": "Mumbai",
    "asia-south2": "Delhi",
    "asia-southeast2": "Jakarta",
    "me-central1": "Doha",
    "me-central2": "Dammam",
    "me-west1": "Tel Aviv",
    "northamerica-northeast1": "Montréal",
    "northamerica-northeast2": "Toronto",
    "us-central1": "Iowa",
    "us-east1": "South Carolina",
    "us-east4": "Northern Virginia",
    "us-east5": "Columbus",
    "us-south1": "Dallas",
    "us-west1": "Oregon",
    "us-west2": "Los Angeles",
    "us-west3": "Salt Lake City",
    "us-west4": "Las Vegas",
    "southamerica-east1": "São Paulo",
    "southamerica-west1": "Santiago",
}
