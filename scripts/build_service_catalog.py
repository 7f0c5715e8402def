"""One-off generator of finops_assets/reference/service_catalog.csv (kept out of the package)."""

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "finops_assets" / "reference" / "service_catalog.csv"
# Usage: python scripts/build_service_catalog.py [path to finops-toolkit open-data/Services.csv]
SERVICES = (
    sys.argv[1]
    if len(sys.argv) > 1
    else str(
        Path(__file__).resolve().parents[1]
        / "finops_assets_tests/public_data/finops-toolkit/open-data/Services.csv"
    )
)

# (provider, service_code, ServiceName, ServiceCategory, ServiceSubcategory)
AWS = [
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "Compute", "Virtual Machines"),
    (
        "Amazon Elastic Compute Cloud - Compute",
        "Amazon Elastic Compute Cloud",
        "Compute",
        "Virtual Machines",
    ),
    ("EC2 - Other", "Amazon Elastic Compute Cloud", "Compute", "Virtual Machines"),
    ("AmazonS3", "Amazon Simple Storage Service", "Storage", "Object Storage"),
    ("Amazon Simple Storage Service", "Amazon Simple Storage Service", "Storage", "Object Storage"),
    ("AmazonGlacier", "Amazon Glacier", "Storage", "Backup Storage"),
    ("Amazon Glacier", "Amazon Glacier", "Storage", "Backup Storage"),
    ("AmazonEFS", "Amazon Elastic File System", "Storage", "File Storage"),
    ("Amazon Elastic File System", "Amazon Elastic File System", "Storage", "File Storage"),
    ("AWSBackup", "AWS Backup", "Storage", "Backup Storage"),
    ("AWS Backup", "AWS Backup", "Storage", "Backup Storage"),
    ("AmazonRDS", "Amazon Relational Database Service", "Databases", "Relational Databases"),
    (
        "Amazon Relational Database Service",
        "Amazon Relational Database Service",
        "Databases",
        "Relational Databases",
    ),
    ("AmazonDynamoDB", "Amazon DynamoDB", "Databases", "NoSQL Databases"),
    ("Amazon DynamoDB", "Amazon DynamoDB", "Databases", "NoSQL Databases"),
    ("AmazonElastiCache", "Amazon ElastiCache", "Databases", "Caching"),
    ("Amazon ElastiCache", "Amazon ElastiCache", "Databases", "Caching"),
    ("AmazonRedshift", "Amazon Redshift", "Databases", "Data Warehouses"),
    ("Amazon Redshift", "Amazon Redshift", "Databases", "Data Warehouses"),
    ("AWSLambda", "AWS Lambda", "Compute", "Serverless Compute"),
    ("AWS Lambda", "AWS Lambda", "Compute", "Serverless Compute"),
    ("AmazonECS", "Amazon Elastic Container Service", "Compute", "Containers"),
    (
        "Amazon Elastic Container Service",
        "Amazon Elastic Container Service",
        "Compute",
        "Containers",
    ),
    ("AmazonEKS", "Amazon Elastic Kubernetes Service", "Compute", "Containers"),
    (
        "Amazon Elastic Kubernetes Service",
        "Amazon Elastic Kubernetes Service",
        "Compute",
        "Containers",
    ),
    ("AmazonECR", "Amazon Elastic Container Registry", "Compute", "Containers"),
    (
        "Amazon EC2 Container Registry (ECR)",
        "Amazon Elastic Container Registry",
        "Compute",
        "Containers",
    ),
    ("AmazonCloudFront", "Amazon CloudFront", "Networking", "Content Delivery"),
    ("Amazon CloudFront", "Amazon CloudFront", "Networking", "Content Delivery"),
    ("AmazonVPC", "Amazon Virtual Private Cloud", "Networking", "Network Infrastructure"),
    (
        "Amazon Virtual Private Cloud",
        "Amazon Virtual Private Cloud",
        "Networking",
        "Network Infrastructure",
    ),
    ("AWSELB", "Elastic Load Balancing", "Networking", "Application Networking"),
    ("Elastic Load Balancing", "Elastic Load Balancing", "Networking", "Application Networking"),
    ("AmazonRoute53", "Amazon Route 53", "Networking", "Network Routing"),
    ("Amazon Route 53", "Amazon Route 53", "Networking", "Network Routing"),
    ("AWSDataTransfer", "AWS Data Transfer", "Networking", "Network Connectivity"),
    ("AWS Data Transfer", "AWS Data Transfer", "Networking", "Network Connectivity"),
    ("AmazonApiGateway", "Amazon API Gateway", "Integration", "API Management"),
    ("Amazon API Gateway", "Amazon API Gateway", "Integration", "API Management"),
    ("AWSQueueService", "Amazon Simple Queue Service", "Integration", "Messaging"),
    ("Amazon Simple Queue Service", "Amazon Simple Queue Service", "Integration", "Messaging"),
    ("AmazonSNS", "Amazon Simple Notification Service", "Integration", "Messaging"),
    (
        "Amazon Simple Notification Service",
        "Amazon Simple Notification Service",
        "Integration",
        "Messaging",
    ),
    ("AWSEvents", "Amazon EventBridge", "Integration", "Messaging"),
    ("CloudWatch Events", "Amazon EventBridge", "Integration", "Messaging"),
    ("AmazonCloudWatch", "Amazon CloudWatch", "Management and Governance", "Observability"),
    ("Amazon CloudWatch", "Amazon CloudWatch", "Management and Governance", "Observability"),
    ("AWSCloudTrail", "AWS CloudTrail", "Management and Governance", "Observability"),
    ("AWS CloudTrail", "AWS CloudTrail", "Management and Governance", "Observability"),
    ("AWSConfig", "AWS Config", "Management and Governance", "Compliance"),
    ("AWS Config", "AWS Config", "Management and Governance", "Compliance"),
    (
        "AWSSystemsManager",
        "AWS Systems Manager",
        "Management and Governance",
        "Endpoint Management",
    ),
    (
        "AWS Systems Manager",
        "AWS Systems Manager",
        "Management and Governance",
        "Endpoint Management",
    ),
    ("AWSCostExplorer", "AWS Cost Explorer", "Management and Governance", "Cost Management"),
    ("AWS Cost Explorer", "AWS Cost Explorer", "Management and Governance", "Cost Management"),
    ("AWSSupportBusiness", "AWS Support (Business)", "Management and Governance", "Support"),
    ("AWS Support (Business)", "AWS Support (Business)", "Management and Governance", "Support"),
    ("AWSSupportEnterprise", "AWS Support (Enterprise)", "Management and Governance", "Support"),
    (
        "AWS Support (Enterprise)",
        "AWS Support (Enterprise)",
        "Management and Governance",
        "Support",
    ),
    ("ComputeSavingsPlans", "Savings Plans for AWS Compute usage", "Compute", "Other (Compute)"),
    (
        "Savings Plans for AWS Compute usage",
        "Savings Plans for AWS Compute usage",
        "Compute",
        "Other (Compute)",
    ),
    ("AWSKMS", "AWS Key Management Service", "Security", "Secret Management"),
    ("AWS Key Management Service", "AWS Key Management Service", "Security", "Secret Management"),
    ("AWSSecretsManager", "AWS Secrets Manager", "Security", "Secret Management"),
    ("AWS Secrets Manager", "AWS Secrets Manager", "Security", "Secret Management"),
    ("AmazonGuardDuty", "Amazon GuardDuty", "Security", "Threat Detection and Response"),
    ("Amazon GuardDuty", "Amazon GuardDuty", "Security", "Threat Detection and Response"),
    ("AWSSecurityHub", "AWS Security Hub", "Security", "Security Posture Management"),
    ("AWS Security Hub", "AWS Security Hub", "Security", "Security Posture Management"),
    ("AmazonSecurityLake", "Amazon Security Lake", "Security", "Threat Detection and Response"),
    ("Amazon Security Lake", "Amazon Security Lake", "Security", "Threat Detection and Response"),
    ("AmazonCognito", "Amazon Cognito", "Identity", "Identity and Access Management"),
    ("Amazon Cognito", "Amazon Cognito", "Identity", "Identity and Access Management"),
    ("AWSGlue", "AWS Glue", "Analytics", "Data Processing"),
    ("AWS Glue", "AWS Glue", "Analytics", "Data Processing"),
    ("AmazonAthena", "Amazon Athena", "Analytics", "Analytics Platforms"),
    ("Amazon Athena", "Amazon Athena", "Analytics", "Analytics Platforms"),
    ("AmazonKinesis", "Amazon Kinesis", "Analytics", "Streaming Analytics"),
    ("Amazon Kinesis", "Amazon Kinesis", "Analytics", "Streaming Analytics"),
    ("AmazonSageMaker", "Amazon SageMaker", "AI and Machine Learning", "Machine Learning"),
    ("Amazon SageMaker", "Amazon SageMaker", "AI and Machine Learning", "Machine Learning"),
    ("AmazonBedrock", "Amazon Bedrock", "AI and Machine Learning", "Generative AI"),
    ("Amazon Bedrock", "Amazon Bedrock", "AI and Machine Learning", "Generative AI"),
    ("AWSAmplify", "AWS Amplify", "Web", "Application Platforms"),
    ("AWS Amplify", "AWS Amplify", "Web", "Application Platforms"),
    ("AWSCodeArtifact", "AWS CodeArtifact", "Developer Tools", "Developer Platforms"),
    ("AWS CodeArtifact", "AWS CodeArtifact", "Developer Tools", "Developer Platforms"),
    ("AWSCodeCommit", "AWS CodeCommit", "Developer Tools", "Source Code Management"),
    ("AWS CodeCommit", "AWS CodeCommit", "Developer Tools", "Source Code Management"),
    (
        "AWSCodePipeline",
        "AWS CodePipeline",
        "Developer Tools",
        "Continuous Integration and Deployment",
    ),
    (
        "AWS CodePipeline",
        "AWS CodePipeline",
        "Developer Tools",
        "Continuous Integration and Deployment",
    ),
    ("CodeBuild", "AWS CodeBuild", "Developer Tools", "Continuous Integration and Deployment"),
    ("AWSIoTEvents", "AWS IoT Events", "Internet of Things", "IoT Platforms"),
    ("AWS IoT Events", "AWS IoT Events", "Internet of Things", "IoT Platforms"),
    ("AWSIoTSiteWise", "AWS IoT SiteWise", "Internet of Things", "IoT Analytics"),
    ("AWS IoT SiteWise", "AWS IoT SiteWise", "Internet of Things", "IoT Analytics"),
    ("Tax", "Tax", "Other", "Other (Other)"),
]
GCP = [
    ("Compute Engine", "Compute Engine", "Compute", "Virtual Machines"),
    ("Cloud Storage", "Cloud Storage", "Storage", "Object Storage"),
    ("BigQuery", "BigQuery", "Databases", "Data Warehouses"),
    ("Kubernetes Engine", "Google Kubernetes Engine", "Compute", "Containers"),
    ("Cloud SQL", "Cloud SQL", "Databases", "Relational Databases"),
    ("Networking", "Networking", "Networking", "Network Infrastructure"),
    ("Cloud Logging", "Cloud Logging", "Management and Governance", "Observability"),
    ("Cloud Monitoring", "Cloud Monitoring", "Management and Governance", "Observability"),
    ("Vertex AI", "Vertex AI", "AI and Machine Learning", "AI Platforms"),
    ("Cloud Run", "Cloud Run", "Compute", "Serverless Compute"),
    ("Cloud Functions", "Cloud Functions", "Compute", "Serverless Compute"),
    ("App Engine", "App Engine", "Web", "Application Platforms"),
    ("Cloud Pub/Sub", "Cloud Pub/Sub", "Integration", "Messaging"),
    ("Cloud Dataflow", "Cloud Dataflow", "Analytics", "Data Processing"),
    ("Cloud Spanner", "Cloud Spanner", "Databases", "Relational Databases"),
    ("Cloud Memorystore for Redis", "Memorystore for Redis", "Databases", "Caching"),
    ("Cloud Key Management Service (KMS)", "Cloud KMS", "Security", "Secret Management"),
    ("Secret Manager", "Secret Manager", "Security", "Secret Management"),
    ("Artifact Registry", "Artifact Registry", "Developer Tools", "Developer Platforms"),
    ("Cloud Build", "Cloud Build", "Developer Tools", "Continuous Integration and Deployment"),
    ("Cloud DNS", "Cloud DNS", "Networking", "Network Routing"),
    ("Cloud CDN", "Cloud CDN", "Networking", "Content Delivery"),
    ("Support", "Google Cloud Support", "Management and Governance", "Support"),
    ("Invoice", "Invoice", "Other", "Other (Other)"),
]
OCI = [
    ("Compute", "OCI Compute", "Compute", "Virtual Machines"),
    ("Block Storage", "OCI Block Volume", "Storage", "Block Storage"),
    ("Block Volume", "OCI Block Volume", "Storage", "Block Storage"),
    ("Tax", "Tax", "Other", "Other (Other)"),
    ("Object Storage", "OCI Object Storage", "Storage", "Object Storage"),
    ("File Storage", "OCI File Storage", "Storage", "File Storage"),
    ("Networking", "OCI Networking", "Networking", "Network Infrastructure"),
    ("Load Balancer", "OCI Load Balancer", "Networking", "Application Networking"),
    ("Database", "Oracle Database Service", "Databases", "Relational Databases"),
    ("Autonomous Database", "Oracle Autonomous Database", "Databases", "Relational Databases"),
    ("Container Engine for Kubernetes", "OCI Kubernetes Engine", "Compute", "Containers"),
    ("Functions", "OCI Functions", "Compute", "Serverless Compute"),
    ("Logging", "OCI Logging", "Management and Governance", "Observability"),
    ("Monitoring", "OCI Monitoring", "Management and Governance", "Observability"),
]

# Azure Cost Management Query API groups by ServiceName (= MeterCategory), not ConsumedService:
# the common meter categories, named after the Services.csv row of their resource provider.
AZURE_METER_CATEGORIES = [
    ("Virtual Machines", "Virtual Machines", "Compute", "Virtual Machines"),
    ("Storage", "Storage Accounts", "Storage", "Storage Platforms"),
    ("Content Delivery Network", "Content Delivery Network", "Networking", "Content Delivery"),
    ("SQL Database", "Azure SQL Database", "Databases", "Relational Databases"),
    ("Azure Firewall", "Azure Firewall", "Networking", "Network Security"),
    ("Bandwidth", "Bandwidth", "Networking", "Network Connectivity"),
    ("Load Balancer", "Load Balancer", "Networking", "Application Networking"),
    ("Azure Monitor", "Azure Monitor", "Management and Governance", "Observability"),
    ("Log Analytics", "Azure Monitor", "Management and Governance", "Observability"),
    ("Azure Kubernetes Service", "Azure Kubernetes Service", "Compute", "Containers"),
    ("Container Registry", "Azure Container Registry", "Compute", "Containers"),
    ("Container Instances", "Container Instances", "Compute", "Containers"),
    ("Azure Cosmos DB", "Cosmos DB", "Databases", "NoSQL Databases"),
    ("Key Vault", "Key Vault", "Security", "Secret Management"),
    (
        "Azure Database for PostgreSQL",
        "Azure DB for PostgreSQL",
        "Databases",
        "Relational Databases",
    ),
    ("Azure Database for MySQL", "Azure DB for MySQL", "Databases", "Relational Databases"),
    ("Redis Cache", "Azure Cache for Redis", "Databases", "Caching"),
    ("Backup", "Azure Backup", "Storage", "Backup Storage"),
    ("Azure DNS", "Azure DNS", "Networking", "Network Routing"),
    ("Event Hubs", "Event Hubs", "Integration", "Messaging"),
    ("Service Bus", "Service Bus", "Integration", "Messaging"),
    ("Logic Apps", "Logic Apps", "Integration", "Workflow Orchestration"),
    ("Azure Data Factory v2", "Azure Data Factory", "Integration", "Workflow Orchestration"),
    ("Cognitive Services", "Azure AI Services", "AI and Machine Learning", "AI Platforms"),
    ("Azure OpenAI", "Azure OpenAI", "AI and Machine Learning", "Generative AI"),
    ("Application Gateway", "Application Gateway", "Networking", "Application Networking"),
    ("VPN Gateway", "VPN Gateway", "Networking", "Network Connectivity"),
    ("ExpressRoute", "ExpressRoute", "Networking", "Network Connectivity"),
    ("NAT Gateway", "NAT Gateway", "Networking", "Network Connectivity"),
    ("Azure Front Door Service", "Azure Front Door", "Networking", "Content Delivery"),
    ("Azure Bastion", "Azure Bastion", "Networking", "Network Security"),
    (
        "Microsoft Defender for Cloud",
        "Microsoft Defender for Cloud",
        "Security",
        "Security Posture Management",
    ),
    ("Sentinel", "Microsoft Sentinel", "Security", "Threat Detection and Response"),
    ("Azure Synapse Analytics", "Azure Synapse Analytics", "Analytics", "Analytics Platforms"),
    ("Azure Databricks", "Azure Databricks", "Analytics", "Data Processing"),
]

rows = [("aws", *r) for r in AWS] + [("gcp", *r) for r in GCP] + [("oci", *r) for r in OCI]
seen = set()
with open(SERVICES, encoding="utf-8-sig") as f:
    for r in csv.DictReader(f):
        code = r["ConsumedService"].strip()
        if not code or code.lower() in seen:
            continue
        seen.add(code.lower())
        rows.append(
            ("azure", code, r["ServiceName"], r["ServiceCategory"], r["ServiceSubcategory"])
        )
for r in AZURE_METER_CATEGORIES:
    if r[0].lower() not in seen:
        rows.append(("azure", *r))
# Microsoft maps a service by ConsumedService AND ResourceType (Get-FinOpsService): one row per
# pair, keyed "<ConsumedService>|<resource type>" (what azure_cost's x_service_code carries when
# the pair is known; other rows fall back to the ConsumedService rows above).
with open(SERVICES, encoding="utf-8-sig") as f:
    for r in csv.DictReader(f):
        code = f"{r['ConsumedService'].strip()}|{r['ResourceType'].strip().lower()}"
        if not r["ConsumedService"].strip() or not r["ResourceType"].strip():
            continue
        if code.lower() in seen:
            continue
        seen.add(code.lower())
        rows.append(
            ("azure", code, r["ServiceName"], r["ServiceCategory"], r["ServiceSubcategory"])
        )
keys = [(p, c.lower()) for p, c, *_ in rows]
assert len(keys) == len(set(keys)), "duplicate keys"
with open(OUT, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["provider", "service_code", "ServiceName", "ServiceCategory", "ServiceSubcategory"])
    w.writerows(rows)
print(len(rows))
