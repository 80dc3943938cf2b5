"""A local S3 server (moto's) for the tests of the shared media bucket: started on a free port, with its own
bucket, stopped at the end. Nothing leaves 127.0.0.1."""

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

from mentorship import media_storage

from .stripe_server import free_port

KEYS = {"access_key": "local-access-key", "secret_key": "local-secret-key"}


class LocalS3:
    def __init__(self, bucket: str = "mentorship-media"):
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.bucket = bucket
        self.process: subprocess.Popen | None = None

    def start(self) -> "LocalS3":
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:  # waiting for another process to listen
            try:
                urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the local S3 server did not start within 30 s") from None
                time.sleep(0.1)
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=KEYS["access_key"],
            aws_secret_access_key=KEYS["secret_key"],
        )

    def object_names(self) -> list[str]:
        return [item["Key"] for item in self.client().list_objects_v2(Bucket=self.bucket).get("Contents", [])]

    def storage(self, **options) -> dict:
        """The STORAGES entry our settings make for this bucket."""
        entry, _ = media_storage.bucket_storage(
            bucket=self.bucket, endpoint_url=self.endpoint_url, region="us-east-1", **KEYS, **options
        )
        return entry

    def environment(self) -> dict:
        """The same, as a deployer's environment variables."""
        return {
            "MEDIA_BUCKET": self.bucket,
            "MEDIA_ENDPOINT_URL": self.endpoint_url,
            "MEDIA_REGION": "us-east-1",
            "MEDIA_ACCESS_KEY_ID": KEYS["access_key"],
            "MEDIA_SECRET_ACCESS_KEY": KEYS["secret_key"],
        }
