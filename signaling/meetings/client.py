"""A small synchronous client of the admin API, used by the `diemcau` CLI (stdlib urllib)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

TIMEOUT_S = 30.0


class ApiRefused(Exception):
    """The bridge answered with an error status."""

    def __init__(self, status: int, code: str, message: str, details: list[Any] | None = None):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


class Unreachable(Exception):
    """The bridge could not be reached at all."""


class AdminClient:
    def __init__(self, base_url: str, admin_key: str, timeout_s: float = TIMEOUT_S):
        self.base_url = base_url.rstrip("/")
        self._key = admin_key
        self._timeout = timeout_s

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: object = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        """Call the API and decode its JSON answer."""
        data = body
        if json_body is not None:
            data = json.dumps(json_body).encode()
            content_type = "application/json"
        raw = self._fetch(method, path, data, content_type, "application/json")
        return json.loads(raw.decode("utf-8"))

    def _fetch(
        self, method: str, path: str, data: bytes | None, content_type: str | None, accept: str
    ) -> bytes:
        headers = {"Authorization": f"Bearer {self._key}", "Accept": accept}
        if content_type is not None:
            headers["Content-Type"] = content_type
        url = f"{self.base_url}/api/v1{path}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as resp:
                body: bytes = resp.read()
                return body
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                error = json.loads(raw.decode("utf-8"))["error"]
                raise ApiRefused(
                    exc.code, str(error["code"]), str(error["message"]), error.get("details")
                ) from None
            except (ValueError, KeyError, TypeError):
                text = raw.decode("utf-8", "replace").strip()[:200]
                raise ApiRefused(exc.code, "http_error", text or str(exc.reason)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unreachable(f"cannot reach the bridge at {self.base_url}: {reason}") from None

    # --- one method per endpoint -----------------------------------------------------

    def create_meeting(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", "/meetings", json_body=body)
        return result

    def list_meetings(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/meetings")["meetings"]
        return result

    def show_meeting(self, meeting_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/meetings/{quote(meeting_id, safe='')}")
        return result

    def end_meeting(self, meeting_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("DELETE", f"/meetings/{quote(meeting_id, safe='')}")
        return result

    def import_sites(self, meeting_id: str, csv_bytes: bytes) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST",
            f"/meetings/{quote(meeting_id, safe='')}/sites:import",
            body=csv_bytes,
            content_type="text/csv; charset=utf-8",
        )
        return result

    def revoke_invitation(self, meeting_id: str, invitation_id: str) -> dict[str, Any]:
        path = (
            f"/meetings/{quote(meeting_id, safe='')}/invitations/"
            f"{quote(invitation_id, safe='')}:revoke"
        )
        result: dict[str, Any] = self.request("POST", path)
        return result

    def attendance_csv(self, meeting_id: str) -> bytes:
        path = f"/meetings/{quote(meeting_id, safe='')}/attendance.csv"
        return self._fetch("GET", path, None, None, "text/csv")
