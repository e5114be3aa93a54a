"""Google Cloud service accounts: `google-pubsub`, `google-cloud-storage`,
`google-cloud-service-account` and `firebase`, each a key proved by one token exchange (google-auth
signs the grant), and the token endpoint's simulator. One provider per kind: each has its own scope
and its own `config`."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.base import Provider
from patchbay.providers.google_cloud import simulator
from patchbay.providers.google_cloud.credentials import (
    FirebaseCredentials,
    GoogleCloudKeyCredentials,
    ServiceAccountCredentials,
)

PUBSUB = registry.register(
    Provider(
        name="google-pubsub",
        display_name="Google Pub/Sub",
        kinds=("google-pubsub",),
        credential_kind=GoogleCloudKeyCredentials("google-pubsub"),
        simulators=(simulator,),
    )
)
STORAGE = registry.register(
    Provider(
        name="google-cloud-storage",
        display_name="Google Cloud Storage",
        kinds=("google-cloud-storage",),
        credential_kind=GoogleCloudKeyCredentials("google-cloud-storage"),
    )
)
SERVICE_ACCOUNT = registry.register(
    Provider(
        name="google-cloud-service-account",
        display_name="Google Cloud service account",
        kinds=("google-cloud-service-account",),
        credential_kind=ServiceAccountCredentials(),
    )
)
FIREBASE = registry.register(
    Provider(name="firebase", display_name="Firebase", kinds=("firebase",), credential_kind=FirebaseCredentials())
)
