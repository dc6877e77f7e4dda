"""Benchmarks of mfa-session against the local moto emulator. Prints figures; asserts nothing.

Run through scripts/bench, which builds the release binary and starts the emulator.
"""
import http.client
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import boto3

BIN = sys.argv[1]
ENDPOINT = os.environ["MFA_SESSION_TEST_MOTO"]
URL = urllib.parse.urlparse(ENDPOINT)


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def timed(fn, runs, warmup=3):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def raw_get_session_token():
    # One signed-looking query-protocol call on a fresh connection, as a new process makes it.
    body = "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=43200"
    conn = http.client.HTTPConnection(URL.hostname, URL.port)
    conn.request(
        "POST",
        "/",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIABENCH/20260101/us-east-1/sts/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200, resp.status
    conn.close()


def provision(home):
    iam = boto3.client(
        "iam",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="admin",
        aws_secret_access_key="admin",
    )
    name = f"bench-{os.getpid()}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName=name,
        SerialNumber=dev["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    os.makedirs(os.path.join(home, ".aws"), mode=0o700)
    with open(os.path.join(home, ".aws", "credentials"), "w") as f:
        f.write(
            "[bench-long-term]\n"
            f"aws_access_key_id = {key['AccessKeyId']}\n"
            f"aws_secret_access_key = {key['SecretAccessKey']}\n"
            f"mfa_serial = {dev['SerialNumber']}\n"
        )


def main():
    home = tempfile.mkdtemp(prefix="mfa-bench-")
    provision(home)
    env = {"HOME": home, "PATH": os.environ["PATH"], "AWS_ENDPOINT_URL": ENDPOINT}

    def login():
        subprocess.run(
            [BIN, "login", "--profile", "bench", "--code", "123456", "--force"],
            env=env,
            check=True,
            stderr=subprocess.DEVNULL,
        )

    raw_med, raw_p90 = timed(raw_get_session_token, 50)
    login_med, login_p90 = timed(login, 30)
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("login (forced; code given, serial remembered: one GetSessionToken call)")
    print(f"  mfa-session login --force   median {ms(login_med)}  p90 {ms(login_p90)}  (30 runs)")
    print(f"  raw GetSessionToken         median {ms(raw_med)}  p90 {ms(raw_p90)}  (50 runs, fresh connection each)")
    print(f"  overhead over the raw call  {ms(login_med - raw_med)}")
    print(f"  peak RSS of a login         {rss_kib / 1024:.1f} MiB")
    print(f"  target: login under 50 ms -> {'met' if login_med < 0.050 else 'MISSED'}")


if __name__ == "__main__":
    main()
