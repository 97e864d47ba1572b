"""Development defaults of the secret settings.

They are committed, hence public: anyone holding a database dump could decrypt the personal
data and brute-force the blind indexes with them. With DEBUG off the system checks in
`redwheel/core/checks.py` refuse every one of them, so `migrate`, `check --deploy`, the worker
and the development server stop until real values are set.
"""

SECRET_KEY = "dev-insecure-redwheel-key-change-me"
PII_ENCRYPTION_KEY = "cmVkd2hlZWwtZGV2LWtleS0wMDAwMDAwMDAwMDAwMDA="
PII_BLIND_INDEX_KEY = "redwheel-dev-blind-index-key"
