"""What a real Lambda has and a loopback test lacks: TLS to its upstreams, and a small CPU
share. Used by the runtime tests (the deployed bootstraps reach the simulator and moto over
TLS) and by scripts/bench (cold starts under a CPU quota).

- `TestCa`: a throwaway CA and a certificate for 127.0.0.1, made with `cryptography` in a temp
  folder (the bootstraps trust it through TLS_EXTRA_ROOTS_FILE; nothing is installed
  system-wide).
- `TlsFront`: terminates TLS on a loopback port and pipes the bytes to a plain backend (the
  simulator, moto), so the bootstrap does the same handshakes it would with Vonage and AWS.
- `CpuQuota`: a cgroup with `cpu.cfs_quota_us` (v1) or `cpu.max` (v2) of N % of one core; Lambda
  gives 128 MB about 7 %. Processes are moved in by `preexec`; the group is removed on close."""

import asyncio
import datetime
import ipaddress
import os
import ssl
import tempfile
import threading
from pathlib import Path


class TestCa:
    def __init__(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.dir = Path(tempfile.mkdtemp(prefix="vp-bench-ca-"))
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "verify-proxy bench CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                           key_encipherment=False, data_encipherment=False, key_agreement=False,
                                           encipher_only=False, decipher_only=False), critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                            x509.DNSName("localhost")]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        self.ca_file = self.dir / "ca.pem"
        self.ca_file.write_bytes(ca.public_bytes(pem))
        self.cert_file = self.dir / "server.pem"
        self.cert_file.write_bytes(cert.public_bytes(pem))
        self.key_file = self.dir / "server.key"
        self.key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


class TlsFront:
    """TLS on 127.0.0.1:<port>, plain bytes to 127.0.0.1:<backend>."""

    def __init__(self, ca: TestCa, backend: int):
        self.backend = backend
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ca.cert_file, ca.key_file)
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def serve():
            self.server = await asyncio.start_server(self._pipe, "127.0.0.1", 0, ssl=ctx)
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()

        threading.Thread(target=lambda: (self.loop.run_until_complete(serve()), self.loop.run_forever()), daemon=True).start()
        ready.wait(10)

    async def _pipe(self, reader, writer):
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.backend)
        except OSError:
            writer.close()
            return

        async def copy(r, w):
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                w.close()

        await asyncio.gather(copy(reader, up_w), copy(up_r, writer))

    def close(self):
        self.loop.call_soon_threadsafe(self.server.close)


class CpuQuota:
    """`percent` of one core for the processes started with `preexec`; 100 = a whole core."""

    def __init__(self, percent: int, name: str = "verify-proxy-bench"):
        self.percent = percent
        v1 = Path("/sys/fs/cgroup/cpu")
        if (v1 / "cpu.cfs_quota_us").exists():
            self.path = v1 / f"{name}-{percent}"
            self.path.mkdir(exist_ok=True)
            (self.path / "cpu.cfs_period_us").write_text("100000")
            (self.path / "cpu.cfs_quota_us").write_text(str(percent * 1000))
        else:
            self.path = Path("/sys/fs/cgroup") / f"{name}-{percent}"
            self.path.mkdir(exist_ok=True)
            (self.path / "cpu.max").write_text(f"{percent * 1000} 100000")

    def preexec(self):
        # Runs in the child before exec: the bootstrap starts inside the quota.
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def close(self):
        try:
            self.path.rmdir()
        except OSError:
            pass
