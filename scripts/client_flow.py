#!/usr/bin/env python3
"""A worker's whole flow, driven by a client that openapi-python-client
generates from the served OpenAPI document.

Starts the service (the binary given) on a fresh SQLite database and a free
port, generates the client into a temporary directory (any generator
warning, such as a schema it had to drop, fails the run), installs it into
this Python's environment, and as a worker signs in (sandbox WeChat: any code
works), fills in the profile, searches policies, checks eligibility, uploads
documents, applies and follows the application, reports unpaid wages, opens a
social-insurance transfer and reads the notifications. Every step's answer is
asserted; the first that fails ends the run with a non-zero status.

Usage: client_flow.py PATH_TO_SHIMINHUA_BINARY
"""

import datetime
import importlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

# The seeded 广西返乡创业一次性创业补贴 (its id is derived from its slug).
STARTUP_PROGRAM = "4762127f-72c6-5f98-af72-4ff79f609e99"
# Enough of a JPEG for the upload check, which judges by content.
JPEG = bytes([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + b"JFIF\x00"
ID_NUMBER = "450102198801011235"
# Stops the generator's post-hooks (ruff is not needed) and maps the xlsx
# exports to bytes, which the generator reads as a file download.
GENERATOR_CONFIG = """\
post_hooks: []
content_type_overrides:
  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary: str, work: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite://{work}/flow.db?mode=rwc",
        SHIMINHUA_UPLOAD_DIR=str(work / "uploads"),
        SHIMINHUA_BIND=f"127.0.0.1:{port}",
        SHIMINHUA_WECHAT_MODE="sandbox",
        RUST_LOG="warn",
    )
    env.pop("REDIS_URL", None)
    log = open(work / "server.log", "wb")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        if server.poll() is not None:
            raise SystemExit(f"the server stopped:\n{(work / 'server.log').read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return server, base
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the server did not answer /healthz")


def generate_client(base: str, work: Path) -> None:
    """Generates the client from the served document and installs it."""
    config = work / "generator.yaml"
    config.write_text(GENERATOR_CONFIG)
    output = work / "client"
    generator = Path(sys.executable).with_name("openapi-python-client")
    run = subprocess.run(
        [str(generator), "generate", "--url", f"{base}/openapi.json", "--meta", "setup",
         "--output-path", str(output), "--config", str(config)],
        capture_output=True, text=True,
    )
    said = run.stdout + run.stderr
    if run.returncode != 0 or "warning" in said.lower() or "unable to" in said.lower():
        raise SystemExit(f"openapi-python-client did not generate a clean client:\n{said}")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--force-reinstall", str(output)],
        check=True,
    )
    importlib.invalidate_caches()


def expect(response, status: int, step: str):
    """The parsed answer of `step`, which must have `status`."""
    if response.status_code != status:
        raise SystemExit(f"{step}: expected {status}, got {response.status_code}: {response.content!r}")
    print(f"ok  {step}")
    return response.parsed


def worker_flow(base: str) -> None:
    from shiminhua_api_client import AuthenticatedClient, Client
    from shiminhua_api_client.api.applications import create_application, get_my_application, list_my_applications
    from shiminhua_api_client.api.auth import wechat_login
    from shiminhua_api_client.api.me import get_me, list_my_notifications, update_my_profile
    from shiminhua_api_client.api.policies import search_policies
    from shiminhua_api_client.api.programs import check_eligibility, get_program
    from shiminhua_api_client.api.si_transfers import get_my_transfer, list_my_transfers, open_transfer
    from shiminhua_api_client.api.uploads import upload_document
    from shiminhua_api_client.api.wage_reports import file_wage_report, get_my_wage_report
    from shiminhua_api_client.models import (
        ApplicationCreate, ApplicationCreateAnswers, ApplicationStatus, HukouType, InsuranceType,
        ProfileUpdate, ReportStatus, Sector, TransferRequest, UploadDocumentBody, WageReportCreate, WechatLogin,
    )
    from shiminhua_api_client.types import File

    anonymous = Client(base_url=base)
    signed_in = expect(wechat_login.sync_detailed(client=anonymous, body=WechatLogin(code="client-flow")),
                       200, "sign in with a wx.login code")
    assert signed_in.access_token and signed_in.refresh_token
    worker = AuthenticatedClient(base_url=base, token=signed_in.access_token)

    me = expect(get_me.sync_detailed(client=worker), 200, "read the profile")
    profile = ProfileUpdate(
        real_name="韦小宝", id_number=ID_NUMBER, hukou_region_code="450102", hukou_type=HukouType.AGRICULTURAL,
        residence_region_code="450102", work_region_code="450102", consent_version=me.current_consent_version,
    )
    saved = expect(update_my_profile.sync_detailed(client=worker, body=profile), 200, "fill in the profile")
    assert saved.id_number != ID_NUMBER and saved.id_number.endswith(ID_NUMBER[-3:]), "the ID number is masked"
    assert saved.residence_region_code == "450102"

    hits = expect(search_policies.sync_detailed(client=worker, q="创业", region_code="450102"), 200,
                  "search the policies")
    assert hits.total >= 1 and hits.items, "a policy on 创业 applies in 兴宁区"

    program = expect(get_program.sync_detailed(STARTUP_PROGRAM, client=worker), 200, "read the program")
    eligibility = expect(check_eligibility.sync_detailed(STARTUP_PROGRAM, client=worker), 200,
                         "check eligibility")
    assert eligibility.checks, "every criterion is explained"
    assert all(check.passed or check.pending for check in eligibility.checks), eligibility.to_dict()

    attachments = []
    for purpose in ("id_card", "business_license"):
        body = UploadDocumentBody(
            file=File(payload=io.BytesIO(JPEG), file_name=f"{purpose}.jpg", mime_type="image/jpeg"),
            purpose=purpose,
        )
        uploaded = expect(upload_document.sync_detailed(client=worker, body=body), 201, f"upload the {purpose}")
        attachments.append(uploaded.id)

    answers = ApplicationCreateAnswers.from_dict({
        "returning_worker": True, "business_name": "兴宁米粉店",
        "business_registered_on": "2025-01-15", "employees": 4,
    })
    request = ApplicationCreate(program_id=program.id, answers=answers, attachment_ids=attachments, submit=True)
    created = expect(create_application.sync_detailed(client=worker, body=request, idempotency_key=str(uuid.uuid4())),
                     201, "apply")
    assert created.status == ApplicationStatus.SUBMITTED
    detail = expect(get_my_application.sync_detailed(created.id, client=worker), 200, "follow the application")
    assert detail.status == ApplicationStatus.SUBMITTED and detail.timeline, "the timeline shows the submission"
    mine = expect(list_my_applications.sync_detailed(client=worker), 200, "list my applications")
    assert [a.id for a in mine.items] == [created.id]

    report = WageReportCreate(
        employer_name="南宁某建筑劳务有限公司", work_region_code="450102", sector=Sector.CONSTRUCTION,
        amount_owed_fen=1_250_000, owed_from=datetime.date(2026, 6, 1), owed_to=datetime.date(2026, 9, 30),
        workers_affected=3, description="6月到9月的工资没有发。",
    )
    filed = expect(file_wage_report.sync_detailed(client=worker, body=report, idempotency_key=str(uuid.uuid4())),
                   201, "report unpaid wages")
    followed = expect(get_my_wage_report.sync_detailed(filed.id, client=worker), 200, "follow the report")
    assert followed.id == filed.id and followed.status == ReportStatus.SUBMITTED and followed.timeline

    route = TransferRequest(insurance_type=InsuranceType.PENSION, from_region_code="450102", to_region_code="320115")
    opened = expect(open_transfer.sync_detailed(client=worker, body=route, idempotency_key=str(uuid.uuid4())),
                    201, "open a social-insurance transfer")
    transfer = expect(get_my_transfer.sync_detailed(opened.id, client=worker), 200, "follow the transfer")
    assert transfer.steps and transfer.steps[0].office.value in ("from", "to"), "the steps and their offices"
    transfers = expect(list_my_transfers.sync_detailed(client=worker), 200, "list my transfers")
    assert transfers.total == 1 and transfers.items[0].transfer_no == opened.transfer_no

    # A notice reaches the inbox through the outbox, delivered every second.
    for _ in range(40):
        answer = list_my_notifications.sync_detailed(client=worker)
        if answer.status_code != 200 or answer.parsed.total >= 1:
            break
        time.sleep(0.5)
    inbox = expect(answer, 200, "read the notifications")
    assert inbox.items and all(n.title for n in inbox.items), "the submission is in the inbox"


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    work = Path(tempfile.mkdtemp(prefix="shiminhua-client-"))
    server, base = start_server(sys.argv[1], work)
    try:
        generate_client(base, work)
        worker_flow(base)
    except BaseException:
        print((work / "server.log").read_text()[-4000:], file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print("the generated client drove the worker's whole flow")


if __name__ == "__main__":
    main()
