"""Where uploaded files (mentor photos) live: a bucket every machine shares, or this machine's disk.

With MEDIA_BUCKET set, photos are kept in an S3 bucket (AWS, or any S3 API: MinIO, Cloudflare R2, Ceph) and
browsers fetch them from there: our photo address answers with a redirect to a signed link (or to the public
or CDN address when MEDIA_PUBLIC_URL is set), so no web worker streams a photo and a photo uploaded through
one machine is served through any other. Without it, the local disk (MEDIA_ROOT) and the app serves them.
"""

from urllib.parse import urlsplit

SIGNED_LINK_SECONDS = 3600
# Every call to the bucket gives up well inside a page's time (gunicorn's 30 s), retries included.
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def bucket_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    public_url: str = "",
    prefix: str = "",
) -> tuple[dict, list[str]]:
    """The STORAGES entry for the bucket, and the origins browsers load photos from (for img-src).

    Empty keys leave credentials to boto3 (the machine's role, AWS_* variables)."""
    from botocore.config import Config

    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "location": prefix.strip("/"),
        "file_overwrite": False,  # photo names are random; never replace another's file
        "default_acl": None,  # the bucket's policy decides; objects are not made public one by one
        "querystring_auth": not public_url,
        "querystring_expire": SIGNED_LINK_SECONDS,
        "client_config": Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"total_max_attempts": 2, "mode": "standard"},  # one try and one retry, both timed
            s3={"addressing_style": "path" if endpoint_url else "auto"},  # MinIO and friends want paths
            signature_version="s3v4",
        ),
    }
    if public_url:
        parts = urlsplit(public_url.rstrip("/"))
        options["custom_domain"] = parts.netloc + parts.path
        options["url_protocol"] = f"{parts.scheme}:"
        origins = [_origin(public_url)]
    elif endpoint_url:
        origins = [_origin(endpoint_url)]
    else:  # AWS: the bucket's global and regional virtual-host addresses
        origins = [f"https://{bucket}.s3.amazonaws.com"]
        if region:
            origins.append(f"https://{bucket}.s3.{region}.amazonaws.com")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}, origins


def photo_cache_seconds(*, public: bool) -> int:
    """How long a browser may keep our redirect: a public address for ever (a new photo has a new address),
    a signed link until shortly before it expires."""
    return 31536000 if public else SIGNED_LINK_SECONDS - 300


def storage_errors() -> tuple[type[Exception], ...]:
    """What a failing store raises: the disk's OSError, the bucket client's own errors."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (OSError, BotoCoreError, ClientError)
