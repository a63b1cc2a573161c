"""A webhook receiver that checks each notification with paytoken: `python receiver.py nicepay dev 8000`."""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from tidak_cli import verify_notification

provider, profile, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))  # the raw bytes: never re-serialized
        with Path("capture.txt").open("wb") as capture:  # the request as it came, for `paytoken verify`
            capture.write(f"{self.requestline}\n{self.headers}".encode() + body)
        verdict = verify_notification(provider, profile, "POST", self.path, self.headers.items(), body)
        code = "2002500" if verdict.authentic else "4012500"
        answer = json.dumps({"responseCode": code, "responseMessage": verdict.reason}).encode()
        self.send_response(200 if verdict.authentic else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
