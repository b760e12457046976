"""A loopback reverse proxy that checks AWS Signature V4 on every request
before passing it to s3rver.

s3rver checks the access key but not the signature itself, so without this
proxy a request signed wrongly by dsm (through libcurl's CURLOPT_AWS_SIGV4)
would pass the tests and fail on real S3. The signature is recomputed with
botocore (Debian's python3-botocore), the AWS SDK's own signer: an
independent implementation of the same algorithm. A mismatch gets S3's own
answer, 403 SignatureDoesNotMatch, and is recorded in `failures`.
"""
import http.client
import http.server
import re
import threading

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class SigV4Proxy:
    def __init__(self, upstream_port, secrets):
        self.upstream_port = upstream_port
        self.secrets = dict(secrets)  # access key -> secret key
        self.failures = []
        self.checked = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                try:
                    self.forward()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client went away (a killed dsm)
                    self.connection.close()

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                problem = proxy.check(self.command, self.path, self.headers, body)
                if problem:
                    proxy.failures.append(f"{self.command} {self.path}: {problem}")
                    out = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
                           b"<Message>The request signature we calculated does not match the signature you "
                           b"provided.</Message></Error>")
                    self.send_response(403)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(out)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body if length else None, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                if self.command == "HEAD":
                    self.send_header("Content-Length", resp.getheader("Content-Length") or "0")
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def check(self, method, path, headers, body):
        """None when the request is signed correctly, else what is wrong."""
        self.checked += 1
        auth = headers.get("Authorization", "")
        m = AUTH_RE.match(auth)
        if not m:
            return f"no SigV4 Authorization header: {auth!r}"
        access_key, date, region, signed, signature = m.groups()
        if "x-amz-content-sha256" not in headers:
            return "no x-amz-content-sha256 header"
        secret = self.secrets.get(access_key)
        if secret is None:
            return None  # let s3rver answer InvalidAccessKeyId
        names = signed.split(";")
        sign_headers = {}
        for n in names:
            v = headers.get(n)
            if v is None:
                return f"signed header {n!r} is missing"
            sign_headers[n] = v
        request = AWSRequest(method=method, url=f"http://{headers.get('Host')}{path}", headers=sign_headers,
                             data=body)
        request.context["timestamp"] = headers.get("x-amz-date", "")
        signer = S3SigV4Auth(Credentials(access_key, secret), "s3", region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != signature:
            return f"signature mismatch; botocore's canonical request:\n{canonical}"
        return None
