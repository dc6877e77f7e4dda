"""Benchmarks of mfa-session against the local moto emulator. Prints figures; asserts nothing.

Run through scripts/bench, which builds the release binary and starts the emulator.
"""
import http.client
import os
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


def run_rss(argv, env):
    """Runs argv to completion; returns its peak RSS in KiB, measured by GNU time. (wait4 from
    this process would count the forked Python image the child starts as.)"""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=True,
        text=True,
    )
    return int(out.stderr.strip().splitlines()[-1])


def session_block(name, expiration):
    token = "IQoJb3JpZ2luX2VjE" + "A" * 340 + "=="
    return (
        f"[{name}]\n"
        "aws_access_key_id = ASIAQEXAMPLESESSION1\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        f"aws_session_token = {token}\n"
        f"expiration = {expiration}\n\n"
    )


def hot_path(report):
    """export/status on a valid session: the cost of reading a file, and the cat floor."""
    far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 10 * 3600))
    for label, count in (("typical file (5 profiles)", 5), ("10 000 profiles", 10_000)):
        home = tempfile.mkdtemp(prefix="mfa-bench-hot-")
        os.makedirs(os.path.join(home, ".aws"), mode=0o700)
        creds = os.path.join(home, ".aws", "credentials")
        with open(creds, "w") as f:
            f.write("# bench\n")
            for i in range(count):
                f.write(f"[p{i}-long-term]\naws_access_key_id = AKIAEXAMPLE{i:09d}\naws_secret_access_key = x{i}\n\n")
                f.write(session_block(f"p{i}", far))
        size = os.path.getsize(creds)
        env = {"HOME": home, "PATH": os.environ["PATH"]}
        target = f"p{count - 1}"
        runs = 50
        cat_med, _ = timed(lambda: subprocess.run(["cat", creds], stdout=subprocess.DEVNULL, check=True), runs)
        exp_med, exp_p90 = timed(
            lambda: subprocess.run([BIN, "export", "--no-login", "-p", target], env=env, stdout=subprocess.DEVNULL, check=True),
            runs,
        )
        st_med, st_p90 = timed(
            lambda: subprocess.run([BIN, "status", "-p", target], env=env, stdout=subprocess.DEVNULL, check=True),
            runs,
        )
        all_med, _ = timed(
            lambda: subprocess.run([BIN, "status", "--json"], env=env, stdout=subprocess.DEVNULL, check=True),
            20,
        )
        rss_export = run_rss([BIN, "export", "--no-login", "-p", target], env)
        rss_status = run_rss([BIN, "status", "--json"], env)
        report.append(f"hot path, {label}: credentials file of {size / 1024:.0f} KiB, {runs} runs each")
        report.append(f"  cat (floor)                 median {ms(cat_med)}")
        report.append(f"  export --no-login           median {ms(exp_med)}  p90 {ms(exp_p90)}  = {exp_med / cat_med:.2f}x cat   peak RSS {rss_export / 1024:.1f} MiB")
        report.append(f"  status -p (one profile)     median {ms(st_med)}  p90 {ms(st_p90)}")
        report.append(f"  status --json (all)         median {ms(all_med)}                          peak RSS {rss_status / 1024:.1f} MiB")


def many_profiles(report, count=8000):
    """status and refresh --all with `count` config profiles: SSO profiles (not managed: every
    one is looked at and skipped), then role profiles with cached sessions (every one listed,
    and still valid: refresh makes no call)."""
    import json

    far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 10 * 3600))
    results = []
    for kind in ("SSO", "role"):
        home = tempfile.mkdtemp(prefix="mfa-bench-many-")
        os.makedirs(os.path.join(home, ".aws"), mode=0o700)
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[src-long-term]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n\n")
            f.write(session_block("src", far))
        cache = os.path.join(home, ".cache", "mfa-session", "roles")
        os.makedirs(cache, mode=0o700)
        with open(os.path.join(home, ".aws", "config"), "w") as f:
            f.write("[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n\n")
            for i in range(count):
                if kind == "SSO":
                    f.write(f"[profile sso{i}]\nsso_session = corp\nsso_account_id = {100000000000 + i}\nsso_role_name = Admin\nregion = us-east-1\n\n")
                    continue
                arn = f"arn:aws:iam::123456789012:role/r{i}"
                f.write(f"[profile role{i}]\nrole_arn = {arn}\nsource_profile = src\n\n")
                path = os.path.join(cache, f"role{i}.json")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, "w") as c:
                    json.dump({"Version": 1, "RoleArn": arn, "SourceProfile": "src", "AccessKeyId": "ASIAROLE",
                               "SecretAccessKey": "s", "SessionToken": "t", "Expiration": far}, c)
        # No endpoint is reachable: a call would fail the run.
        env = {"HOME": home, "PATH": os.environ["PATH"], "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
        st_med, st_p90 = timed(
            lambda: subprocess.run([BIN, "status", "--json"], env=env, stdout=subprocess.DEVNULL, check=True), 10, warmup=1
        )
        ref_med, _ = timed(lambda: subprocess.run([BIN, "-q", "refresh", "--all"], env=env, check=True), 5, warmup=1)
        results.append(st_med)
        report.append(f"{count} {kind} profiles in the config file")
        report.append(f"  status --json               median {ms(st_med)}  p90 {ms(st_p90)}  (10 runs)")
        report.append(f"  refresh --all (none due)    median {ms(ref_med)}  (5 runs)")
    worst = max(results)
    report.append(f"  target: status with {count} profiles <= 150 ms -> {'met' if worst <= 0.150 else 'MISSED'}")


def endpoint_under_load(report, slow=1100, requests=10):
    """exec --server's endpoint while `slow` connections send a byte a second (reconnecting when
    dropped): the owner's request latency and the server's thread count."""
    import socket
    import threading

    home = tempfile.mkdtemp(prefix="mfa-bench-ep-")
    os.makedirs(os.path.join(home, ".aws"))
    with open(os.path.join(home, ".aws/credentials"), "w") as f:
        f.write("[ep-long-term]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n\n")
        f.write(session_block("ep", "2099-01-01T00:00:00Z"))
    where = os.path.join(home, "endpoint")
    server = subprocess.Popen(
        [BIN, "exec", "-p", "ep", "--server", "--", "sh", "-c",
         f'printf "%s %s" "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN" > {where}.t && mv {where}.t {where} && exec sleep 120'],
        env={"HOME": home, "PATH": os.environ["PATH"]},
        stderr=subprocess.DEVNULL,
    )
    while not os.path.exists(where):
        time.sleep(0.05)
    url, token = open(where).read().split(" ")
    host, port = urllib.parse.urlparse(url).hostname, urllib.parse.urlparse(url).port
    stop = threading.Event()

    def attack():
        conns = [None] * slow
        while not stop.is_set():
            for i, c in enumerate(conns):
                try:
                    if c is None:
                        c = conns[i] = socket.create_connection((host, port))
                        c.setblocking(False)
                    c.send(b"G")
                except OSError:
                    conns[i] = None
            stop.wait(1)

    attacker = threading.Thread(target=attack)
    attacker.start()
    time.sleep(2)
    latencies = []
    for _ in range(requests):
        start = time.perf_counter()
        s = socket.create_connection((host, port))
        s.settimeout(30)
        s.sendall(f"GET /credentials HTTP/1.1\r\nAuthorization: {token}\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        latencies.append(time.perf_counter() - start)
        assert b"200 OK" in data, data[:80]
        time.sleep(0.3)
    threads = next(l.split()[1] for l in open(f"/proc/{server.pid}/status") if l.startswith("Threads:"))
    stop.set()
    attacker.join()
    server.terminate()
    server.wait()
    report.append(f"exec --server endpoint under {slow} slow connections ({requests} owner requests)")
    report.append(f"  owner request  median {ms(statistics.median(latencies))}  max {ms(max(latencies))}  server threads {threads}")
    report.append(f"  target: answered within 5 s -> {'met' if max(latencies) < 5 else 'MISSED'}")


def admin_iam():
    return boto3.client(
        "iam",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="admin",
        aws_secret_access_key="admin",
    )


def new_user(iam, name):
    """An IAM user with an access key and an enabled virtual MFA device; returns the section
    lines of its long-term keys and serial."""
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName=name,
        SerialNumber=dev["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    return (
        f"aws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n"
        f"mfa_serial = {dev['SerialNumber']}\n"
    )


def provision(home):
    os.makedirs(os.path.join(home, ".aws"), mode=0o700)
    with open(os.path.join(home, ".aws", "credentials"), "w") as f:
        f.write("[bench-long-term]\n" + new_user(admin_iam(), f"bench-{os.getpid()}"))


def refresh_all_home(count):
    """A HOME with `count` independent profiles (one IAM user, key and device each) whose code
    comes from an mfa_process; stock moto accepts any code."""
    iam = admin_iam()
    home = tempfile.mkdtemp(prefix="mfa-bench-refresh-")
    os.makedirs(os.path.join(home, ".aws"), mode=0o700)
    with open(os.path.join(home, ".aws", "credentials"), "w") as f:
        for i in range(count):
            lines = new_user(iam, f"bench-r{os.getpid()}-{i}")
            f.write(f"[r{i}-long-term]\n{lines}mfa_process = echo 123456\n\n")
    return home


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

    size = os.path.getsize(BIN)
    print(f"release binary: {size / 1e6:.2f} MB ({size} bytes); target <= 8 MB -> {'met' if size <= 8e6 else 'MISSED'}")
    print()

    report = []
    hot_path(report)
    print("\n".join(report))
    print("  targets: export <= 1.5x cat (2x with the release profile tuned for size); export and status with 10 000 profiles <= 50 ms; peak RSS <= 10 MiB")
    print()

    report = []
    many_profiles(report)
    print("\n".join(report))
    print()

    report = []
    endpoint_under_load(report)
    print("\n".join(report))
    print()

    raw_med, raw_p90 = timed(raw_get_session_token, 50)
    login_med, login_p90 = timed(login, 30)
    rss_kib = run_rss([BIN, "login", "--profile", "bench", "--code", "123456", "--force"], env)
    print("login (forced; code given, serial remembered: one GetSessionToken call)")
    print(f"  mfa-session login --force   median {ms(login_med)}  p90 {ms(login_p90)}  (30 runs)")
    print(f"  raw GetSessionToken         median {ms(raw_med)}  p90 {ms(raw_p90)}  (50 runs, fresh connection each)")
    print(f"  overhead over the raw call  {ms(login_med - raw_med)}")
    print(f"  peak RSS of a login         {rss_kib / 1024:.1f} MiB")
    print(f"  target: login under 50 ms -> {'met' if login_med < 0.050 else 'MISSED'}")
    print()

    count = 20
    rhome = refresh_all_home(count)
    renv = {"HOME": rhome, "PATH": os.environ["PATH"], "AWS_ENDPOINT_URL": ENDPOINT}

    creds = os.path.join(rhome, ".aws", "credentials")
    with open(creds) as f:
        without_sessions = f.read()

    def refresh_all():
        # Every run starts with no sessions, so it makes 20 logins.
        with open(creds, "w") as f:
            f.write(without_sessions)
        subprocess.run([BIN, "-q", "refresh", "--all"], env=renv, check=True)
        with open(creds) as f:
            assert f.read().count("aws_session_token") == count, "every profile renewed"

    # The emulator's own floor: the same number of raw calls, as many at a time as refresh
    # makes them. moto answers in one Python process (one core at a time, the GIL), so no
    # client can renew 20 profiles faster than this.
    from concurrent.futures import ThreadPoolExecutor

    def raw_calls():
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: raw_get_session_token(), range(count)))

    floor_med, _ = timed(raw_calls, 10, warmup=1)
    ref_med, ref_p90 = timed(refresh_all, 10, warmup=1)
    print(f"refresh --all of {count} independent profiles (one device each, mfa_process codes)")
    print(f"  mfa-session refresh --all   median {ms(ref_med)}  p90 {ms(ref_p90)}  (10 runs)")
    print(f"  {count} raw GetSessionToken, 8 at a time (the emulator's floor)  median {ms(floor_med)}  = {floor_med / login_med:.1f}x one login")
    print(f"  overhead over that floor    {ms(ref_med - floor_med)}")
    print(f"  = {ref_med / login_med:.1f}x one login; target <= 3x -> {'met' if ref_med <= 3 * login_med else 'MISSED'}")


if __name__ == "__main__":
    main()
