"""Amazon Web Services: `aws-s3` and `aws-redshift`, access keys proved with STS, roles assumed with
STS and tried on S3 or the Redshift Data API (and Redshift's direct PostgreSQL-protocol variant), and
the STS and Redshift Data simulators. Two providers, one per kind, because
each kind documents its own `config`."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.aws import data_api_simulator, simulator
from patchbay.providers.aws.credentials import AWSRedshiftCredentials, AWSS3Credentials
from patchbay.providers.base import Provider

S3 = registry.register(
    Provider(
        name="aws-s3",
        display_name="Amazon S3",
        kinds=("aws-s3",),
        credential_kind=AWSS3Credentials(),
        simulators=(simulator,),
    )
)
REDSHIFT = registry.register(
    Provider(
        name="aws-redshift",
        display_name="Amazon Redshift",
        kinds=("aws-redshift",),
        credential_kind=AWSRedshiftCredentials(),
        simulators=(data_api_simulator,),
    )
)
