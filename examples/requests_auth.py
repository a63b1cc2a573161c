"""Create a NICEPAY virtual account with a signed call: the token and signature come from profile [nicepay.dev]."""

import requests

import tidak_cli

auth = tidak_cli.auth("nicepay", profile="dev")  # the token from paytoken's cache; fetched when missing
body = {"partnerServiceId": "  1234", "customerNo": "0001", "virtualAccountNo": "  12340001", "trxId": "INV-1"}
answer = requests.post(f"{auth.base_url}/nicepay/api/v1.0/transfer-va/create-va", json=body, auth=auth, timeout=30)
print(answer.status_code, answer.json()["responseCode"])  # 4012701 (token refused): auth.refresh(), send again
